// A server of this test's own, stopped and started again: clients resume with no gap and
// no duplicate, unsent messages go out once it is back, and with it stopped the page
// still opens from the service worker with its cached history.
import { expect, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { join, message, say, shellCached, texts, unique, test } from './helpers';
import { startServer as start, stopServer } from './server';

const port = Number(process.env.PARLEY_E2E_RESTART_PORT ?? 3230);
const base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(joinPath(tmpdir(), 'parley-restart-'));
const database = joinPath(dir, 'parley.db');
const startServer = () => start({ port, database });

test.use({ baseURL: base });

test('a server restart: reconnecting then online, no gap, no duplicate, the outbox delivered', async ({
  newContext,
}) => {
  let server = await startServer();
  try {
    const alice = await (await newContext({ baseURL: base })).newPage();
    const bob = await (await newContext({ baseURL: base })).newPage();
    await join(alice, 'Alice');
    await shellCached(alice);
    await join(bob, 'Bob');

    const before = [unique('before the restart 1'), unique('before the restart 2')];
    for (const text of before) await say(alice, text);
    for (const text of before) await expect(message(bob, text)).toHaveCount(1);

    await stopServer(server);
    await alice.bringToFront();
    await expect(alice.getByTestId('connection')).toHaveText('reconnecting');
    const during = unique('written while the server is down');
    await say(alice, during);
    await expect(message(alice, during)).not.toHaveAttribute('data-state', 'sent');

    server = await startServer();
    await expect(alice.getByTestId('connection')).toHaveText('online', { timeout: 15_000 });
    await expect(message(alice, during)).toHaveAttribute('data-state', 'sent');
    const after = unique('after the restart');
    await bob.bringToFront();
    await expect(bob.getByTestId('connection')).toHaveText('online', { timeout: 15_000 });
    await say(bob, after);

    const all = [...before, during, after];
    for (const page of [alice, bob] as Page[]) {
      await page.bringToFront();
      for (const text of all) await expect(message(page, text)).toHaveCount(1);
      expect((await texts(page)).filter((t) => all.includes(t))).toEqual(all);
    }

    // With the server stopped, the page still opens, with its cached history.
    await stopServer(server);
    await alice.reload();
    await expect(alice.locator('main[data-hydrated="true"]')).toBeVisible();
    for (const text of all) await expect(message(alice, text)).toHaveCount(1);
    await expect(alice.getByTestId('connection')).not.toHaveText('online');
    const queued = unique('queued with the server stopped');
    await say(alice, queued);
    await expect(message(alice, queued)).toBeVisible();

    server = await startServer();
    await expect(message(alice, queued)).toHaveAttribute('data-state', 'sent', { timeout: 15_000 });
    await bob.bringToFront();
    await expect(message(bob, queued)).toHaveCount(1);
  } finally {
    if (server.exitCode === null) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
});

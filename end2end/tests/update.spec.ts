// A new deploy while a page is open: the server's greeting names another build, the page
// offers to reload, and after the reload a new service worker keeps only the new build.
import { expect, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { join, message, say, shellCached, unique, test } from './helpers';
import { root, startServer, stopServer } from './server';

const port = Number(process.env.PARLEY_E2E_UPDATE_PORT ?? 3232);
const base = `http://127.0.0.1:${port}`;

test.use({ baseURL: base });

/** The build this page came from, and the service worker's caches. */
async function builds(page: Page): Promise<{ page: string; caches: string[]; worker: string }> {
  return page.evaluate(async () => ({
    page: document.querySelector('meta[name="parley-version"]')?.getAttribute('content') ?? '',
    caches: (await caches.keys()).filter((k) => k.startsWith('parley-shell-')),
    worker: navigator.serviceWorker.controller?.scriptURL ?? '',
  }));
}

test('a new build: the open page offers to reload, and the service worker keeps only the new build', async ({
  newContext,
}) => {
  // Two servers started one after the other and two whole debug shells fetched by two
  // service workers: more than the default 30 s when the machine is busy.
  test.setTimeout(90_000);
  const dir = mkdtempSync(joinPath(tmpdir(), 'parley-update-'));
  const site = joinPath(dir, 'site');
  cpSync(joinPath(root, 'target', 'site'), site, { recursive: true });
  const database = joinPath(dir, 'parley.db');
  let server = await startServer({ port, database, siteRoot: site });
  try {
    const page = await (await newContext({ baseURL: base })).newPage();
    await join(page, 'Updater');
    await shellCached(page);
    const first = await builds(page);
    expect(first.page).toMatch(/^[0-9a-f]{16}$/);
    await expect.poll(async () => (await builds(page)).caches).toEqual([`parley-shell-${first.page}`]);
    expect(first.worker).toContain(`/sw.js?v=${first.page}`);
    // The shell's files are the hashed ones, and the worker kept them.
    const kept = await page.evaluate(async () => {
      const cache = await caches.open((await caches.keys()).find((k) => k.startsWith('parley-shell-'))!);
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    for (const file of readdirSync(joinPath(site, 'pkg')).filter((f) => /^parley\.[\w-]{22}\.(js|wasm|css)$/.test(f))) {
      expect(kept).toContain(`/pkg/${file}`);
    }
    await expect(page.getByTestId('update')).toHaveCount(0);

    // A deploy: the server stops, and comes back serving another build of the site.
    await stopServer(server);
    writeFileSync(joinPath(site, 'pkg', 'deploy.txt'), `deployed ${Date.now()}`);
    server = await startServer({ port, database, siteRoot: site });
    await expect(page.getByTestId('connection')).toHaveText('online', { timeout: 15_000 });
    await expect(page.getByTestId('update')).toBeVisible();
    // Nothing is lost meanwhile: the old page still chats.
    const text = unique('written before reloading');
    await say(page, text);
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');

    await page.getByTestId('update').getByRole('button', { name: 'Reload' }).click();
    await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
    await expect(message(page, text)).toHaveCount(1);
    const second = await builds(page);
    expect(second.page).toMatch(/^[0-9a-f]{16}$/);
    expect(second.page).not.toEqual(first.page);
    await expect(page.getByTestId('update')).toHaveCount(0);
    // The new worker takes over and drops the old build's copies.
    await expect
      .poll(async () => (await builds(page)).worker, { timeout: 30_000 })
      .toContain(`/sw.js?v=${second.page}`);
    await expect.poll(async () => (await builds(page)).caches).toEqual([`parley-shell-${second.page}`]);
  } finally {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
});

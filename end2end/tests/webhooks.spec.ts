// Webhooks from the app's side: an admin adds one in the space's dialog, a real HTTP
// receiver gets the space's messages signed with the secret shown once, and a failing
// receiver parks the webhook until the admin retries it; a paused one holds what comes
// until it is resumed.
import { type Page, expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asAdmin, join, say, test, unique, accountItem } from './helpers';

/** A local HTTP receiver that answers 500 while `fail` is above zero (counting down). */
async function receiver() {
  const got: { body: string; signature: string; timestamp: string; status: number }[] = [];
  const state = { fail: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      res.statusCode = state.fail > 0 ? 500 : 204;
      got.push({
        body,
        signature: String(req.headers['x-parley-signature']),
        timestamp: String(req.headers['x-parley-timestamp']),
        status: res.statusCode,
      });
      state.fail = Math.max(0, state.fail - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/parley`;
  return { got, state, server, url };
}

/** Makes a space and subscribes `url` to its messages from the space's dialog; returns
 * the space's sidebar entry and the webhook's secret. */
async function spaceWithWebhook(page: Page, url: string) {
  await join(page, 'Admin');
  const name = unique('hooked');
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(name);
  await page.getByTestId('name-submit').click();
  const space = page.getByTestId('space').filter({ hasText: name });
  await expect(page.getByTestId('channel-title')).toContainText(name);

  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('webhooks').click();
  const dialog = page.getByTestId('webhooks-dialog');
  await dialog.getByTestId('webhook-url').fill(url);
  await dialog.getByTestId('webhook-types').fill('MessagePosted');
  await dialog.getByTestId('webhook-create').click();
  const secret = await dialog.getByTestId('webhook-secret').inputValue();
  expect(secret).toMatch(/^whsec_/);
  await expect(dialog.getByTestId('webhook')).toContainText(url);
  await dialog.getByRole('button', { name: 'Close' }).click();
  return { space, secret };
}

test('a space admin adds a webhook; deliveries are signed; a parked one is retried from the dialog', async ({
  page,
}, testInfo) => {
  test.setTimeout(60_000);
  const { got, state, server, url } = await receiver();
  try {
    const { space, secret } = await spaceWithWebhook(page, url);
    const dialog = page.getByTestId('webhooks-dialog');

    const first = unique('shipped');
    await say(page, first);
    await expect.poll(() => got.length).toBe(1);
    const delivery = JSON.parse(got[0].body);
    expect(delivery.event.event.data.body).toBe(first);
    // As a receiver checks it: HMAC over "<timestamp>.<body>", the timestamp recent.
    expect(Math.abs(Date.now() / 1000 - Number(got[0].timestamp))).toBeLessThan(300);
    const expected =
      'sha256=' + createHmac('sha256', secret).update(`${got[0].timestamp}.${got[0].body}`).digest('hex');
    expect(got[0].signature).toBe(expected);

    // The receiver fails for good: the webhook is parked, and the dialog says why.
    state.fail = 1_000;
    const second = unique('during the outage');
    await say(page, second);
    await space.getByTestId('space-menu').locator('summary').click();
    await space.getByTestId('webhooks').click();
    const hook = dialog.getByTestId('webhook');
    await expect(hook).toHaveAttribute('data-state', 'parked', { timeout: 15_000 });
    await expect(hook.getByTestId('webhook-error')).toContainText('500');
    await expect(hook.getByTestId('webhook-delivered')).toHaveText('1');

    state.fail = 0;
    await hook.getByTestId('webhook-retry').click();
    await expect(hook).toHaveAttribute('data-state', 'delivering');
    await expect(hook.getByTestId('webhook-delivered')).toHaveText('2');
    expect(JSON.parse(got[got.length - 1].body).event.event.data.body).toBe(second);

    // Replayed from the first message's position: both come again, in order.
    const before = got.length;
    const from = JSON.parse(got[0].body).event.position;
    await hook.getByTestId('webhook-replay-from').fill(String(from));
    await hook.getByTestId('webhook-replay').click();
    await expect.poll(() => got.length).toBe(before + 2);
    expect(got.slice(before).map((g) => JSON.parse(g.body).event.event.data.body)).toEqual([first, second]);
    await expect(hook.getByTestId('webhook-delivered')).toHaveText('4');

    // Paused: what is said meanwhile waits; resumed, it comes.
    await hook.getByTestId('webhook-pause').click();
    await expect(hook).toHaveAttribute('data-state', 'paused');
    await expect(hook.getByTestId('webhook-pause')).toHaveText('Resume');
    await page.screenshot({ path: testInfo.outputPath('webhooks.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
    const held = unique('while paused');
    await say(page, held);
    await page.waitForTimeout(1_500);
    expect(got.length).toBe(before + 2);
    await space.getByTestId('space-menu').locator('summary').click();
    await space.getByTestId('webhooks').click();
    await hook.getByTestId('webhook-pause').click();
    await expect(hook).toHaveAttribute('data-state', 'delivering');
    await expect.poll(() => got.length).toBe(before + 3);
    expect(JSON.parse(got[got.length - 1].body).event.event.data.body).toBe(held);
  } finally {
    server.close();
  }
});

test('the instance admin sees a parked webhook in the inspector and skips its stuck event', async ({
  page,
  newContext,
}) => {
  test.setTimeout(60_000);
  const { got, state, server, url } = await receiver();
  try {
    await spaceWithWebhook(page, url);
    state.fail = 1_000;
    const stuck = unique('never delivered');
    await say(page, stuck);

    const admin = await (await newContext()).newPage();
    await asAdmin(admin);
    await (await accountItem(admin, 'inspector-link')).click();
    const row = admin.getByTestId('subscriber').filter({ hasText: `webhook ${url}` });
    await expect(row).toContainText('parked', { timeout: 15_000 });
    await expect(row).toContainText('500');
    state.fail = 0;
    await row.getByTestId('webhook-skip').click();
    await expect(admin.getByTestId('webhook-result')).toContainText('skipped');
    await expect(row).not.toContainText('parked', { timeout: 5_000 });

    // The next message goes through; the stuck one never did.
    const after = unique('after the skip');
    await say(page, after);
    await expect.poll(() => got.map((g) => JSON.parse(g.body).event.event.data.body)).toContain(after);
    const attempts = got.filter((g) => JSON.parse(g.body).event.event.data.body === stuck);
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((g) => g.status === 500)).toBe(true); // tried, failed, skipped
  } finally {
    server.close();
  }
});

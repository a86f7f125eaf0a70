// Webhooks from the app's side: an admin adds one in the space's dialog, a real HTTP
// receiver gets the space's messages signed with the secret shown once, and a failing
// receiver parks the webhook until the admin retries it.
import { expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, say, test, unique } from './helpers';

test('a space admin adds a webhook; deliveries are signed; a parked one is retried from the dialog', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const got: { body: string; signature: string }[] = [];
  let fail = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      got.push({ body, signature: String(req.headers['x-parley-signature']) });
      res.statusCode = fail > 0 ? 500 : 204;
      fail = Math.max(0, fail - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/parley`;
  try {
    await join(page, 'Admin');
    const name = unique('hooked');
    await page.getByTestId('new-space').click();
    await page.getByTestId('name-field').fill(name);
    await page.getByTestId('name-submit').click();
    const space = page.getByTestId('space').filter({ hasText: name });
    await expect(page.getByTestId('channel-title')).toContainText(name);

    await space.getByTestId('webhooks').click();
    const dialog = page.getByTestId('webhooks-dialog');
    await dialog.getByTestId('webhook-url').fill(url);
    await dialog.getByTestId('webhook-types').fill('MessagePosted');
    await dialog.getByTestId('webhook-create').click();
    const secret = await dialog.getByTestId('webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await expect(dialog.getByTestId('webhook')).toContainText(url);
    await dialog.getByRole('button', { name: 'Close' }).click();

    const first = unique('shipped');
    await say(page, first);
    await expect.poll(() => got.length).toBe(1);
    const delivery = JSON.parse(got[0].body);
    expect(delivery.event.event.data.body).toBe(first);
    const expected = 'sha256=' + createHmac('sha256', secret).update(got[0].body).digest('hex');
    expect(got[0].signature).toBe(expected);

    // The receiver fails for good: the webhook is parked, and the dialog says why.
    fail = 1_000;
    const second = unique('during the outage');
    await say(page, second);
    await space.getByTestId('webhooks').click();
    const hook = dialog.getByTestId('webhook');
    await expect(hook).toHaveAttribute('data-state', 'parked', { timeout: 15_000 });
    await expect(hook.getByTestId('webhook-error')).toContainText('500');
    await expect(hook.getByTestId('webhook-delivered')).toHaveText('1');

    fail = 0;
    await hook.getByTestId('webhook-retry').click();
    await expect(hook).toHaveAttribute('data-state', 'delivering');
    await expect(hook.getByTestId('webhook-delivered')).toHaveText('2');
    expect(JSON.parse(got[got.length - 1].body).event.event.data.body).toBe(second);
  } finally {
    receiver.close();
  }
});

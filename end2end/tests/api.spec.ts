// The REST API from the app's side: a token made in the UI lets a bot post into the chat,
// live, and stops working once revoked there.
import { expect } from '@playwright/test';
import { GENERAL, join, message, test, unique, accountItem } from './helpers';

test('an API token made in the app posts as its user; revoked, it is refused', async ({ page }, testInfo) => {
  const name = await join(page, 'Botmaker');
  await (await accountItem(page, 'tokens')).click();
  const dialog = page.getByTestId('tokens-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('token-name').fill('ci bot');
  await dialog.getByTestId('token-create').click();
  const secret = await dialog.getByTestId('token-secret').inputValue();
  expect(secret).toMatch(/^pt_[A-Za-z0-9_-]{43}$/);
  await expect(dialog.getByTestId('token')).toContainText('ci bot');
  await expect(dialog.getByTestId('token')).toContainText('never used');

  const text = unique('deployed v1.2');
  const posted = await page.request.post(`/api/v1/channels/${GENERAL}/messages`, {
    headers: { Authorization: `Bearer ${secret}` },
    data: { body: text },
  });
  expect(posted.status()).toBe(201);
  await expect(message(page, text)).toBeVisible();
  await expect(message(page, text)).toContainText(name);

  await dialog.getByTestId('token-revoke').click();
  await expect(dialog.getByTestId('token')).toHaveCount(0);
  const refused = await page.request.get('/api/v1/channels', { headers: { Authorization: `Bearer ${secret}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe('unauthorized');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // Swagger UI, served by Parley itself (no CDN): it renders the document's operations.
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(new URL(page.url()).origin)) outside.push(request.url());
  });
  await page.goto('/api/v1/docs');
  await expect(page.locator('.swagger-ui .opblock-summary-path').first()).toBeVisible();
  const paths = page.locator('.swagger-ui .opblock-summary-path');
  await expect(paths.filter({ hasText: '/api/v1/channels/{channel_id}/messages' }).first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('swagger.png') });
  expect(outside).toEqual([]);
});

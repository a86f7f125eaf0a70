// The client-only build (Trunk, target/dist) served from another origin talks to the
// server it was built for: cross-origin server functions (CORS) and the WebSocket.
import { expect, test } from '@playwright/test';
import { appURL, csrURL } from '../ports';
import { join, message, say, unique } from './helpers';

test.use({ baseURL: csrURL });

test('the Trunk bundle chats with the server it was built for', async ({ page, browser }) => {
  await join(page, 'Cleo');
  const text = unique('from the static bundle');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');

  // A user of the server-rendered app sees it live.
  const other = await (await browser.newContext()).newPage();
  await other.goto(`${appURL}/`);
  await expect(other.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(message(other, text)).toBeVisible();
});

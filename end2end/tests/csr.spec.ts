// The client-only build (Trunk, target/dist) served from another origin of the server's
// site talks to the server it was built for: cross-origin server functions (CORS) and the
// WebSocket. On another site it says it cannot sign in (docs/security.md).
import { expect } from '@playwright/test';
import { appURL, csrOtherSiteURL, csrURL } from '../ports';
import { join, message, say, unique, test } from './helpers';

test.use({ baseURL: csrURL });

test('the Trunk bundle chats with the server it was built for', async ({ page, newContext }) => {
  await join(page, 'Cleo');
  const text = unique('from the static bundle');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');

  // A user of the server-rendered app sees it.
  const other = await (await newContext()).newPage();
  await join(other, 'Otto', `${appURL}/`);
  await expect(message(other, text)).toBeVisible();
  // And the bundle gets the reply live, over its cross-origin socket.
  const reply = unique('hello, static bundle');
  await say(other, reply);
  await expect(message(page, reply)).toBeVisible();
});

test('the Trunk bundle on another site than its server says it cannot sign in there', async ({ newContext }) => {
  // Same bundle, same server, allowed by CORS: only the site differs (localhost, not 127.0.0.1).
  const page = await (await newContext()).newPage();
  await page.goto(`${csrOtherSiteURL}/`);
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  const notice = page.getByTestId('cross-site');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText(appURL);
  await expect(page.getByTestId('auth-form')).toHaveCount(0);
  // And it is right: the server's cookie indeed does not come back to this page.
  const kept = await page.evaluate(async (server) => {
    const ask = () =>
      fetch(`${server}/api/cookie_check`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => r.json());
    await ask();
    return ask();
  }, appURL);
  expect(kept).toBe(false);

  // On the server's own site the same bundle offers to sign in.
  const same = await (await newContext()).newPage();
  await same.goto(`${csrURL}/`);
  await expect(same.getByTestId('auth-form')).toBeVisible();
  await expect(same.getByTestId('cross-site')).toHaveCount(0);
});

// The client-only build (Trunk, target/dist) served from another origin talks to the
// server it was built for: cross-origin server functions (CORS) and the WebSocket.
import { expect } from '@playwright/test';
import { appURL, csrURL } from '../ports';
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

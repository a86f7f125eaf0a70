// One socket per browser: the tab holding the Web Lock keeps the WebSocket for every tab of
// the browser; when it closes, another takes over and resumes from the shared cursor.
import { expect, type BrowserContext, type Page, type WebSocket } from '@playwright/test';
import { join, message, openDirect, say, test, unique } from './helpers';

/** The app's sockets each page opens, and which of them are still open. */
function watchSockets(pages: Page[]) {
  const open = new Map<WebSocket, Page>();
  let opened = 0;
  const watch = (page: Page) =>
    page.on('websocket', (ws) => {
      if (!ws.url().endsWith('/ws')) return;
      opened += 1;
      open.set(ws, page);
      ws.on('close', () => open.delete(ws));
    });
  pages.forEach(watch);
  return {
    watch,
    opened: () => opened,
    // A closed page's socket is gone with it (Playwright tells no close for it).
    open: () => [...open.values()].filter((page) => !page.isClosed()),
  };
}

/** A first tab of a signed-in browser, its sockets watched, and Bob elsewhere to talk to. */
async function browserAndBob(context: BrowserContext, newContext: () => Promise<BrowserContext>, label: string) {
  const first = await context.newPage();
  const sockets = watchSockets([first]);
  const name = await join(first, label);
  const bob = await (await newContext()).newPage();
  const bobName = await join(bob, 'Bob');
  return { first, sockets, name, bob, bobName };
}

test('three tabs share one socket; closing the one holding it, the others go on from where it was', async ({
  context,
  newContext,
}) => {
  test.setTimeout(60_000);
  const { first, sockets, name, bob } = await browserAndBob(context, newContext, 'Sharer');

  const tabs = [first];
  for (let i = 0; i < 2; i++) {
    const tab = await context.newPage();
    sockets.watch(tab);
    await tab.goto('/');
    await expect(tab.getByTestId('me')).toHaveText(name);
    await expect(tab.getByTestId('connection')).toHaveText('online');
    tabs.push(tab);
  }
  // Three tabs, one socket: the first tab's, and no other tab ever opened one.
  await expect.poll(() => sockets.open().length).toBe(1);
  expect(sockets.opened()).toBe(1);
  expect(sockets.open()[0]).toBe(first);

  // Everything reaches every tab through it: messages, and someone typing.
  const hello = unique('to all three tabs');
  await say(bob, hello);
  for (const tab of tabs) await expect(message(tab, hello)).toBeVisible();
  await bob.getByTestId('composer').pressSequentially('typing');
  for (const tab of tabs) await expect(tab.getByTestId('typing')).toContainText('is typing');
  await bob.getByTestId('composer').fill('');
  // And what a tab without the socket writes goes out and comes back to the others.
  const fromThird = unique('from the third tab');
  await say(tabs[2], fromThird);
  await expect(message(tabs[2], fromThird)).toHaveAttribute('data-state', 'sent');
  for (const tab of [first, tabs[1], bob]) await expect(message(tab, fromThird)).toBeVisible();

  // The holder closes; Bob writes at once, and the second tab sends while the lock moves.
  await first.close();
  const meanwhile = unique('while the socket moved');
  await say(bob, meanwhile);
  const during = unique('sent during the handover');
  await say(tabs[1], during);
  const rest = tabs.slice(1);
  for (const tab of rest) {
    await expect(message(tab, meanwhile)).toBeVisible();
    await expect(message(tab, during)).toHaveAttribute('data-state', 'sent');
  }
  await expect(message(bob, during)).toHaveCount(1);
  // Another tab holds the socket now: still one for the browser.
  await expect.poll(() => sockets.open().length).toBe(1);
  expect(sockets.opened()).toBe(2);
  expect(rest).toContain(sockets.open()[0]);

  // Live through the new holder, and nothing shown twice after all that.
  const after = unique('after the handover');
  await say(bob, after);
  for (const tab of rest) {
    await expect(message(tab, after)).toBeVisible();
    for (const text of [hello, fromThird, meanwhile, during, after]) await expect(message(tab, text)).toHaveCount(1);
  }
  // Stored once: a fresh look from the server agrees.
  await bob.reload();
  await expect(message(bob, after)).toBeVisible();
  await expect(message(bob, during)).toHaveCount(1);
});

test('tabs on different channels each get their own channel over the one socket', async ({ context, newContext }) => {
  test.setTimeout(60_000);
  const { first: lobby, sockets, name, bob, bobName } = await browserAndBob(context, newContext, 'Twochannels');

  // A conversation with Bob in a second tab; the first stays in the lobby.
  const dm = await context.newPage();
  sockets.watch(dm);
  await dm.goto('/');
  await expect(dm.getByTestId('me')).toHaveText(name);
  const dmUrl = await openDirect(dm, bobName);
  await expect(dm.getByTestId('connection')).toHaveText('online');

  await bob.goto(dmUrl.replace(/^https?:\/\/[^/]+/, ''));
  const privately = unique('just for you');
  await say(bob, privately);
  await expect(message(dm, privately)).toBeVisible();
  await bob.goto('/');
  const publicly = unique('for the lobby');
  await say(bob, publicly);
  await expect(message(lobby, publicly)).toBeVisible();
  // Each tab shows its own channel only.
  await expect(message(lobby, privately)).toHaveCount(0);
  await expect(message(dm, publicly)).toHaveCount(0);
  expect(sockets.opened()).toBe(1);
});

test('a tab that hangs holding the socket is taken over by the tab in view, and follows when it wakes', async ({
  context,
  newContext,
}) => {
  test.setTimeout(60_000);
  const { first, sockets, bob } = await browserAndBob(context, newContext, 'Hanger');
  const second = await context.newPage();
  sockets.watch(second);
  await second.goto('/');
  await expect(second.getByTestId('connection')).toHaveText('online');
  const holders = () => sockets.open();
  await expect.poll(() => holders().length === 1 && holders()[0] === first).toBe(true);

  // The holder's page stops running for twelve seconds (a long task; a frozen page is as
  // silent), while the second tab is the one in view.
  await second.bringToFront();
  await first.evaluate(() => {
    setTimeout(() => {
      const end = Date.now() + 12_000;
      while (Date.now() < end) {
        // busy
      }
    }, 0);
  });
  const hungAt = Date.now();
  // Within a few seconds the tab in view holds a socket, and hears Bob live through it.
  await expect.poll(() => holders().includes(second), { timeout: 8_000 }).toBe(true);
  const meanwhile = unique('while the holder hung');
  await say(bob, meanwhile);
  await expect(message(second, meanwhile)).toBeVisible();
  expect(Date.now() - hungAt).toBeLessThan(12_000);

  // Woken, the old holder finds the lock gone: its socket closes and it follows the new one.
  await expect.poll(() => holders().length === 1 && holders()[0] === second, { timeout: 20_000 }).toBe(true);
  const after = unique('after it woke');
  await say(bob, after);
  for (const tab of [first, second]) {
    await expect(message(tab, after)).toBeVisible();
    for (const text of [meanwhile, after]) await expect(message(tab, text)).toHaveCount(1);
  }
  // What it writes now goes out through the new holder, once.
  const fromFirst = unique('from the tab that hung');
  await say(first, fromFirst);
  await expect(message(first, fromFirst)).toHaveAttribute('data-state', 'sent');
  await expect(message(bob, fromFirst)).toHaveCount(1);
  await expect(message(second, fromFirst)).toHaveCount(1);
  expect(sockets.opened()).toBe(2);
});

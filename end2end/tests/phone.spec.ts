// A phone (390×844): once signed in, nothing is wider than the screen, in light and dark;
// the composer's Send is on screen and sends; a thread covers the channel with its Close
// on screen, and closing it brings the channel back; the admin page fits too.
import { expect, type Locator, type Page } from '@playwright/test';
import { asAdmin, join, message, say, unique, test } from './helpers';

/** How much wider than the viewport the page lays out (0: it fits). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Whether the element lies inside the viewport, left to right. */
async function onScreen(page: Page, element: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  return box !== null && box.x >= 0 && box.x + box.width <= width;
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`on a phone (${colorScheme}), the chat and a thread fit the screen`, async ({ newContext }) => {
    const page = await (await newContext({ viewport: { width: 390, height: 844 }, colorScheme })).newPage();
    await join(page, 'Phone');
    expect(await overflow(page)).toBe(0);
    // The channel's composer (the only one while no thread is open) and its Send.
    const send = page.locator('form.composer').getByRole('button', { name: 'Send' });
    expect(await onScreen(page, send)).toBe(true);

    const text = unique('from a phone');
    await page.getByTestId('composer').fill(text);
    await send.click();
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
    expect(await overflow(page)).toBe(0);

    // A thread opens over the channel, its Close on screen; closing it goes back.
    await message(page, text).locator('.body').click();
    await message(page, text).getByTestId('reply').click();
    await expect(page.getByTestId('thread')).toBeVisible();
    expect(await overflow(page)).toBe(0);
    expect(await onScreen(page, page.getByTestId('close-thread'))).toBe(true);
    expect(await onScreen(page, page.getByTestId('thread-composer'))).toBe(true);
    await page.getByTestId('close-thread').click();
    await expect(page.getByTestId('thread')).toBeHidden();
    await say(page, unique('back in the channel'));
    expect(await overflow(page)).toBe(0);
  });
}

test('on a phone, the channels are in a drawer: ☰ opens it, choosing a channel or Escape closes it', async ({
  newContext,
}) => {
  const page = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await join(page, 'Drawer');
  const sidebar = page.locator('nav.sidebar');
  // Closed: the chat has the whole screen.
  await expect(sidebar).toBeHidden();
  const list = await page.getByTestId('messages').boundingBox();
  expect(list?.y ?? 999).toBeLessThan(150);

  await page.getByTestId('open-sidebar').click();
  await expect(sidebar).toBeVisible();
  await expect.poll(() => onScreen(page, sidebar)).toBe(true); // once it has slid in
  await page.keyboard.press('Escape');
  await expect(sidebar).toBeHidden();

  // A new space's channel, chosen from the drawer, closes it.
  await page.getByTestId('open-sidebar').click();
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(unique('Pocket space'));
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText('Pocket space');
  await expect(sidebar).toBeHidden();
  await page.getByTestId('open-sidebar').click();
  await sidebar.getByTestId('channel-link').first().click();
  await expect(page.getByTestId('channel-title')).toContainText('general');
  await expect(sidebar).toBeHidden();
  expect(await overflow(page)).toBe(0);
});

test("on a phone, tapping a name opens the person's card", async ({
  newContext,
}) => {
  const page = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await join(page, 'Tapper');
  const text = unique('tap my name');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  const line = message(page, text).last();
  // The message's actions, shown as the finger went down, lay over the name's end when it
  // came up: the tap went to neither.
  await line.getByTestId('author').click();
  await expect(page.getByTestId('card-spaces')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('card-spaces')).toBeHidden();
});

test('on a phone, the admin page fits the screen: its tables scroll on their own, and a picked event is shown', async ({
  newContext,
}) => {
  const page = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await asAdmin(page);
  // Enough events for a list longer than the screen.
  for (let i = 0; i < 12; i++) await say(page, unique('for the log'));
  await page.goto('/admin');
  await expect(page.getByTestId('inspector')).toBeVisible();
  const rows = page.getByTestId('event-row');
  await expect(rows.first()).toBeVisible();
  expect(await overflow(page)).toBe(0);
  expect(await onScreen(page, page.getByRole('link', { name: 'Back to the chat' }))).toBe(true);
  // The accounts' actions are reached by scrolling their table, not the page.
  const accounts = page.locator('table.accounts');
  const action = accounts.getByRole('button', { name: /^Delete /, disabled: false }).first();
  await action.scrollIntoViewIfNeeded();
  expect(await onScreen(page, action)).toBe(true);
  expect(await overflow(page)).toBe(0);

  // The detail lies under the list on a phone: picking an event brings it into view.
  await rows.first().scrollIntoViewIfNeeded();
  await expect(page.getByTestId('event-detail')).not.toBeInViewport();
  await rows.first().click();
  const payload = page.getByTestId('event-payload');
  await expect(payload).toBeVisible();
  await expect(payload).toBeInViewport();
});

test("on a phone, a search's results lie within the screen", async ({ newContext }) => {
  const page = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await join(page, 'Seeker');
  const word = `findable${Date.now().toString(36)}`;
  await say(page, `this is ${word} on a phone`);
  await page.getByTestId('search').fill(word);
  await page.getByTestId('search').press('Enter');
  const results = page.getByTestId('search-results');
  await expect(results.getByTestId('search-hit')).toHaveCount(1);
  expect(await onScreen(page, results)).toBe(true);
  expect(await overflow(page)).toBe(0);
});

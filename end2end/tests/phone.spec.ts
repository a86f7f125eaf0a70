// A phone (390×844): once signed in, nothing is wider than the screen, in light and dark;
// the composer's Send is on screen and sends; a thread covers the channel with its Close
// on screen, and closing it brings the channel back.
import { expect, type Locator, type Page } from '@playwright/test';
import { join, message, say, unique, test } from './helpers';

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
    await message(page, text).click();
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

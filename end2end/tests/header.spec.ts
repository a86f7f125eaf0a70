// The header: one calm line whatever is open (a space, a thread), on a laptop and a
// tablet, the channel's composer never under the thread; the account's actions in a menu
// that works from the keyboard alone.
import { expect, type Locator, type Page } from '@playwright/test';
import { accountItem, join, message, say, unique, test } from './helpers';

/** Whether the element is the one the browser would click at its centre (nothing covers it). */
async function uncovered(page: Page, element: Locator): Promise<boolean> {
  return element.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return hit !== null && el.contains(hit);
  });
}

for (const width of [1280, 800]) {
  test(`at ${width} px, in a space with a thread open, the header is one line and the channel can still send`, async ({
    newContext,
  }) => {
    const page = await (await newContext({ viewport: { width, height: 800 } })).newPage();
    await join(page, 'Header');
    const spaceName = unique('Roomy space');
    await page.getByTestId('new-space').click();
    await page.getByTestId('name-field').fill(spaceName);
    await page.getByTestId('name-submit').click();
    await expect(page.getByTestId('channel-title')).toContainText(spaceName);

    const text = unique('a thread starts here');
    await say(page, text);
    // Sent first: the line is drawn anew when the ack comes, which takes away the focus a
    // click gave it (and with it, on a narrow screen, its buttons).
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
    await message(page, text).locator('.body').click();
    await message(page, text).getByTestId('reply').click();
    await expect(page.getByTestId('thread')).toBeVisible();

    // One line: no taller than its tallest control and a little padding; nothing spills.
    const header = page.locator('header.topbar');
    expect((await header.boundingBox())?.height ?? 0).toBeLessThan(64);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBe(0);
    // (The topic is cut short with an ellipsis by design: its whole text is on hover and a click away.)
    for (const button of await header.getByRole('button').and(header.locator(':not([data-testid="channel-topic"])')).all()) {
      expect(await button.evaluate((el) => el.scrollWidth <= el.clientWidth + 1), await button.innerText()).toBe(true);
    }
    // The channel's Send and the thread's Close are both there to be clicked.
    const send = page.locator('section.chat form.composer').getByRole('button', { name: 'Send' });
    expect(await uncovered(page, send)).toBe(true);
    expect(await uncovered(page, page.getByTestId('close-thread'))).toBe(true);
    const more = unique('said while the thread is open');
    await page.locator('section.chat').getByTestId('composer').fill(more);
    await send.click();
    await expect(message(page, more)).toHaveAttribute('data-state', 'sent');
  });
}

test('the account menu: opened, walked and closed from the keyboard; its items work', async ({ page }) => {
  const name = await join(page, 'Menu');
  const button = page.getByTestId('account');
  const menu = page.getByTestId('account-menu');
  await expect(button).toContainText(name);
  await expect(menu).toBeHidden();

  await button.focus();
  await page.keyboard.press('Enter');
  await expect(menu).toBeVisible();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(menu.getByTestId('profile')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByTestId('security')).toBeFocused();
  await page.keyboard.press('End');
  await expect(menu.getByTestId('sign-out')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByTestId('profile')).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(menu.getByTestId('sign-out')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');

  // ↓ on the button opens it too; a click elsewhere closes it.
  await page.keyboard.press('ArrowDown');
  await expect(menu).toBeVisible();
  await page.getByTestId('messages').click({ position: { x: 20, y: 20 } });
  await expect(menu).toBeHidden();

  // An item does what it says, and the menu closes behind it.
  await button.click();
  await menu.getByTestId('tokens').click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  await expect(menu).toBeHidden();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tokens-dialog')).toBeHidden();
});

test('a theme chosen in the account menu applies at once, stays after a reload, and can follow the system again', async ({
  newContext,
}) => {
  const page = await (await newContext({ colorScheme: 'light' })).newPage();
  await join(page, 'Theme');
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await background();
  await expect(await accountItem(page, 'theme-system')).toHaveAttribute('aria-checked', 'true');

  await (await accountItem(page, 'theme-dark')).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(await accountItem(page, 'theme-dark')).toHaveAttribute('aria-checked', 'true');
  const dark = await background();
  expect(dark).not.toBe(light);

  // The server paints the next visit in it: the page's HTML carries the choice.
  const response = await page.reload();
  expect(await response?.text()).toContain('data-theme="dark"');
  await expect(page.getByTestId('connection')).toHaveText('online');
  expect(await background()).toBe(dark);

  // Back to the system's (light here).
  await (await accountItem(page, 'theme-system')).click();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);
  expect(await background()).toBe(light);
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('online');
  expect(await background()).toBe(light);
});

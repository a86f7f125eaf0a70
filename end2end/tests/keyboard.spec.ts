// The keyboard alone: a skip link to the composer, the message list as one Tab stop
// whatever its length, arrows between messages and within one.
import { expect, type Page } from '@playwright/test';
import { asAdmin, join, message, say, unique, test } from './helpers';

/** How many presses of Tab from the top of a fresh page reach the channel's composer. */
async function tabsToComposer(page: Page): Promise<number> {
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('online');
  const composer = page.locator('section.chat').getByTestId('composer');
  for (let presses = 1; presses <= 80; presses++) {
    await page.keyboard.press('Tab');
    if (await composer.evaluate((el) => el === document.activeElement)) return presses;
  }
  return Infinity;
}

test('the keyboard alone: a skip link, one Tab stop for the list, arrows inside it', async ({ page }) => {
  await join(page, 'Keys');
  const lines = Array.from({ length: 6 }, (_, i) => unique(`line ${i}`));
  for (const line of lines) await say(page, line);
  // Stored before the reload below (what a reload does to messages on their way is
  // local.spec's part).
  for (const line of lines) await expect(message(page, line)).toHaveAttribute('data-state', 'sent');

  // The first Tab lands on the skip link, which puts the focus in the composer.
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('online');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the message box' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('section.chat').getByTestId('composer')).toBeFocused();

  // In the list: ↑ goes to the newest message, then older; → walks its buttons; Tab leaves
  // the list for the composer at once; Shift+Tab from a message goes back to the list.
  await page.getByTestId('messages').focus();
  await page.keyboard.press('ArrowUp');
  await expect(message(page, lines[5])).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(message(page, lines[4])).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(message(page, lines[5])).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(message(page, lines[5]).getByTestId('react')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(message(page, lines[5]).getByTestId('reply')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('thread')).toBeVisible();
  await page.getByTestId('close-thread').click();
  await page.getByTestId('messages').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowLeft');
  await expect(message(page, lines[5]).getByTestId('delete')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(page.getByTestId('messages')).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Tab');
  await expect(page.locator('section.chat').getByTestId('composer')).toBeFocused();

  // However many messages, the composer is as many Tabs away.
  const before = await tabsToComposer(page);
  for (let i = 0; i < 6; i++) await say(page, unique(`more ${i}`));
  const after = await tabsToComposer(page);
  console.log(`Tabs from the top of the page to the channel's composer: ${before} (${after} with 6 more messages)`);
  expect(after).toBe(before);
  expect(before).toBeLessThanOrEqual(30);
});

/** Whether the focus is inside the dialog on top (the last overlay). */
async function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const overlay = [...document.querySelectorAll('.overlay')].at(-1);
    return overlay !== undefined && overlay.contains(document.activeElement);
  });
}

test('Tab and Shift+Tab stay inside an open dialog', async ({ page }) => {
  // Signed out: the sign-in dialog over the greyed app.
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  for (const key of [...Array(12).fill('Tab'), ...Array(12).fill('Shift+Tab')]) {
    await page.keyboard.press(key);
    expect(await focusInDialog(page), `after ${key}`).toBe(true);
  }
  // Signed in: the API tokens dialog, from the account menu.
  await join(page, 'Trapped');
  await page.getByTestId('account').click();
  await page.getByTestId('tokens').click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  for (const key of [...Array(10).fill('Tab'), ...Array(10).fill('Shift+Tab')]) {
    await page.keyboard.press(key);
    expect(await focusInDialog(page), `after ${key}`).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tokens-dialog')).toBeHidden();
});

test('closing a dialog gives the focus back to what opened it', async ({ page }) => {
  await join(page, 'Returned');
  // From a menu item (the menu has closed meanwhile): back to the menu's button.
  await page.getByTestId('account').focus();
  await page.keyboard.press('Enter');
  await page.getByTestId('tokens').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tokens-dialog')).toBeHidden();
  await expect(page.getByTestId('account')).toBeFocused();

  // From a button: back to that button (the switcher, opened from the composer, back there).
  const composer = page.locator('section.chat').getByTestId('composer');
  await composer.focus();
  await page.keyboard.press('Control+k');
  await expect(page.getByTestId('switcher')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('switcher')).toBeHidden();
  await expect(composer).toBeFocused();

  // From a space's menu: back to its ⋯ button.
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(unique('Focus space'));
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText('Focus space');
  const menu = page.getByTestId('space-menu').first();
  await menu.locator('summary').click();
  await menu.getByTestId('members').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('members-dialog')).toBeVisible();
  // As a person would: once the focus is in the dialog (the space menu, while it still
  // holds the focus, takes Escape for itself).
  await expect(page.getByTestId('members-dialog').locator(':focus')).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('members-dialog')).toBeHidden();
  await expect(menu.locator('summary')).toBeFocused();
});

test('the keyboard alone picks an event in the admin page', async ({ page }) => {
  await asAdmin(page);
  await say(page, unique('for the log'));
  await page.goto('/admin');
  await expect(page.getByTestId('event-row').first()).toBeVisible();
  // From the list's last control, Tab reaches the first event's button.
  await page.getByTestId('older').focus();
  let reached = false;
  for (let i = 0; i < 5 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.closest('[data-testid="event-row"]') !== null);
  }
  expect(reached).toBe(true);
  const position = (await page.evaluate(() => document.activeElement?.textContent ?? '')).trim();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('event-detail').getByRole('heading', { level: 2 })).toContainText(` at ${position}`);
  await expect(page.getByTestId('event-payload')).toBeVisible();
});

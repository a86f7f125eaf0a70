// Emoji: any emoji as a reaction from a picker (search by name or shortcode, categories, a
// skin tone that sticks, the recently used first), and `:shortcode` completion in the composer.
import { expect } from '@playwright/test';
import { join, message, say, test, unique } from './helpers';

test('any emoji is a reaction from the picker, a skin tone sticks, the recent come first, and :shortcodes complete', async ({
  page,
}) => {
  await join(page, 'Emojier');
  const text = unique('launch day');
  await say(page, text);
  const mine = message(page, text);
  await expect(mine).toHaveAttribute('data-state', 'sent');

  // The quick row's "More" opens the whole picker; a search by name finds the rocket.
  await mine.locator('.body').click();
  await mine.getByTestId('react').click();
  await mine.getByTestId('picker-more').click();
  const picker = mine.getByTestId('emoji-picker');
  await expect(picker.getByTestId('emoji-search')).toBeFocused();
  await expect(picker.getByTestId('emoji-option').first()).toBeVisible();
  await picker.getByRole('button', { name: 'Flags', exact: true }).click();
  await expect(picker.getByRole('heading', { name: 'Flags', exact: true })).toBeInViewport();
  await picker.getByTestId('emoji-search').fill('rocket');
  await picker.locator('[data-testid="emoji-option"][data-emoji="🚀"]').click();
  await expect(picker).toHaveCount(0);
  await expect(mine.locator('[data-testid="reaction"][data-emoji="🚀"]')).toContainText('1');

  // A skin tone, chosen once, applies to what is picked (Enter takes the first found).
  await mine.getByTestId('react').click();
  await mine.getByTestId('picker-more').click();
  await picker.getByTestId('emoji-tone').selectOption('3');
  await picker.getByTestId('emoji-search').fill('waving hand');
  await expect(picker.getByTestId('emoji-option').first()).toHaveAttribute('data-emoji', '👋🏽');
  await picker.getByTestId('emoji-search').press('Enter');
  await expect(mine.locator('[data-testid="reaction"][data-emoji="👋🏽"]')).toBeVisible();

  // The quick row starts with what was used last; Escape closes the picker.
  await mine.getByTestId('react').click();
  await expect(mine.getByTestId('picker').getByRole('menuitem').first()).toHaveText('👋🏽');
  await mine.getByTestId('picker-more').click();
  await expect(picker.getByTestId('emoji-recent')).toContainText('🚀');
  // The arrow keys move between the emoji; Enter on one picks it.
  await picker.getByTestId('emoji-option').first().focus();
  await page.keyboard.press('ArrowRight');
  await expect(picker.getByTestId('emoji-option').nth(1)).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(picker.getByTestId('emoji-option').first()).toBeFocused();
  await page.keyboard.press('ArrowDown');
  // Below the recently used: the first of the smileys.
  await expect(picker.locator('[data-emoji="😀"]').first()).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(picker).toHaveCount(0);

  // `:shortcode` completion in the composer: Tab takes the first.
  const composer = page.getByTestId('composer');
  await composer.fill('ship it :tad');
  await expect(page.getByTestId('emoji-suggestions')).toContainText('🎉');
  await composer.press('Tab');
  await expect(composer).toHaveValue('ship it 🎉 ');
  const shipped = unique('shipped');
  await composer.type(shipped);
  await composer.press('Enter');
  await expect(message(page, shipped)).toContainText('ship it 🎉');
});

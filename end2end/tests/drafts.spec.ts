// Drafts: the composer's unsent text is kept per channel and per thread (IndexedDB), comes
// back when you return (another channel, a reload), is shared with the browser's other
// tabs as you type, is marked in the sidebar, and is cleared when sent.
import { expect, type Page } from '@playwright/test';
import { join, message, test, unique } from './helpers';

async function createSpace(page: Page, name: string) {
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(name);
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText(name);
  return page.getByTestId('space').filter({ hasText: name }).getByTestId('channel-link');
}

test('a draft stays with its channel and thread, follows the other tabs, and goes once sent', async ({ page }) => {
  await join(page, 'Drafter');
  const spaceGeneral = await createSpace(page, unique('Drafts'));
  const lobby = page.locator('a[href="/"][data-testid="channel-link"]');
  const composer = page.getByTestId('composer');

  // Half a thought in the space's channel, then off to the lobby: its composer is its own.
  const thought = unique('half a thought');
  await composer.fill(thought);
  await lobby.click();
  await expect(page.getByTestId('channel-title')).toContainText('general');
  await expect(composer).toHaveValue('');
  await expect(spaceGeneral.getByTestId('draft-mark')).toBeVisible();
  await expect(lobby.getByTestId('draft-mark')).toHaveCount(0);
  const lobbyWords = unique('lobby words');
  await composer.fill(lobbyWords);

  // Back: the thought is there; the lobby is marked now.
  await spaceGeneral.click();
  await expect(composer).toHaveValue(thought);
  await expect(lobby.getByTestId('draft-mark')).toBeVisible();
  await expect(spaceGeneral.getByTestId('draft-mark')).toHaveCount(0);

  // Another tab of the browser finds it, and what it types shows here as it types.
  const other = await page.context().newPage();
  await other.goto(page.url());
  await expect(other.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(other.getByTestId('composer')).toHaveValue(thought);
  await other.getByTestId('composer').fill(`${thought} and more`);
  await expect(composer).toHaveValue(`${thought} and more`);

  // Sent: gone from both tabs, and after a reload.
  await composer.press('Enter');
  await expect(message(page, `${thought} and more`)).toHaveAttribute('data-state', 'sent');
  await expect(composer).toHaveValue('');
  await expect(other.getByTestId('composer')).toHaveValue('');

  // A thread's draft is the thread's, apart from its channel's.
  await message(page, thought).hover();
  await message(page, thought).getByTestId('reply').click();
  const reply = unique('a reply not sent yet');
  await page.getByTestId('thread-composer').fill(reply);
  await page.getByTestId('close-thread').click();
  await expect(composer).toHaveValue('');

  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(composer).toHaveValue('');
  await expect(lobby.getByTestId('draft-mark')).toBeVisible();
  await message(page, thought).hover();
  await message(page, thought).getByTestId('reply').click();
  await expect(page.getByTestId('thread-composer')).toHaveValue(reply);
  await lobby.click();
  await expect(composer).toHaveValue(lobbyWords);
});

// Edit, delete and react: at once in the tab that acts, live in its other tabs and for
// other users, and still so after a reload.
import { expect } from '@playwright/test';
import { join, message, say, unique, test } from './helpers';

test('edit and delete your own message: every tab and every user sees it live', async ({ newContext }) => {
  const adaContext = await newContext();
  const ada = await adaContext.newPage();
  await join(ada, 'Ada');
  const adaTwo = await adaContext.newPage();
  await adaTwo.goto('/');
  const bob = await (await newContext()).newPage();
  await join(bob, 'Bob');

  const draft = unique('first draft');
  await say(ada, draft);
  await expect(message(ada, draft)).toHaveAttribute('data-state', 'sent');
  for (const page of [adaTwo, bob]) await expect(message(page, draft)).toBeVisible();
  // Bob may react but not edit or delete Ada's words.
  await message(bob, draft).hover();
  await expect(message(bob, draft).getByTestId('react')).toBeVisible();
  await expect(message(bob, draft).getByTestId('edit')).toHaveCount(0);
  await expect(message(bob, draft).getByTestId('delete')).toHaveCount(0);

  const better = unique('second draft');
  const mine = message(ada, draft);
  await mine.hover();
  await mine.getByTestId('edit').click();
  const box = ada.getByTestId('edit-input');
  await expect(box).toBeFocused();
  await box.fill(better);
  await box.press('Enter');
  for (const page of [ada, adaTwo, bob]) {
    await expect(message(page, better)).toBeVisible();
    await expect(message(page, better).getByTestId('edited')).toBeVisible();
    await expect(message(page, draft)).toHaveCount(0);
  }
  // The earlier version is kept, and shown on request.
  await message(bob, better).getByTestId('edited').click();
  await expect(message(bob, better).getByTestId('edit-history')).toContainText(draft);

  // Escape cancels an edit.
  await message(ada, better).hover();
  await message(ada, better).getByTestId('edit').click();
  await ada.getByTestId('edit-input').fill('never saved');
  await ada.getByTestId('edit-input').press('Escape');
  await expect(message(ada, better)).toBeVisible();

  const id = await message(ada, better).getAttribute('data-message-id');
  await message(ada, better).hover();
  await message(ada, better).getByTestId('delete').click();
  await message(ada, better).getByTestId('confirm-delete').click();
  for (const page of [ada, adaTwo, bob]) {
    const gone = page.locator(`[data-message-id="${id}"]`);
    await expect(gone).toContainText('This message was deleted.');
    await expect(gone).not.toContainText(better);
  }
  // A reload paints the deleted state from the cache and the server alike.
  await bob.reload();
  await expect(bob.locator(`[data-message-id="${id}"]`)).toContainText('This message was deleted.');
  await expect(message(bob, better)).toHaveCount(0);
});

test('from the keyboard: ↑ in an empty composer edits your last message, then back to the composer', async ({
  page,
}) => {
  await join(page, 'Keys');
  const older = unique('older words');
  const newer = unique('newer words');
  await say(page, older);
  await say(page, newer);
  await expect(message(page, newer)).toHaveAttribute('data-state', 'sent');
  const composer = page.getByTestId('composer');

  // With text in the composer, ↑ is only a cursor key.
  await composer.fill('half a thought');
  await composer.press('ArrowUp');
  await expect(page.getByTestId('edit-input')).toHaveCount(0);
  await composer.fill('');

  await composer.press('ArrowUp');
  const box = page.getByTestId('edit-input');
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(newer); // the newest of mine, not the older one
  const fixed = unique('fixed from the keyboard');
  await box.fill(fixed);
  await box.press('Enter');
  await expect(message(page, fixed).getByTestId('edited')).toBeVisible();
  await expect(composer).toBeFocused();

  // Escape closes it without a change, and the keyboard is back in the composer too.
  await composer.press('ArrowUp');
  await expect(box).toHaveValue(fixed);
  await box.press('Escape');
  await expect(box).toHaveCount(0);
  await expect(composer).toBeFocused();
  await expect(message(page, older)).toBeVisible();
});

test('reactions: counts and who reacted, toggled from several tabs and users, converge', async ({ newContext }) => {
  const adaContext = await newContext();
  const ada = await adaContext.newPage();
  const adaName = await join(ada, 'Ada');
  const adaTwo = await adaContext.newPage();
  await adaTwo.goto('/');
  const bob = await (await newContext()).newPage();
  const bobName = await join(bob, 'Bob');
  const text = unique('react to this');
  await say(bob, text);
  await expect(message(bob, text)).toHaveAttribute('data-state', 'sent');
  for (const page of [ada, adaTwo]) await expect(message(page, text)).toBeVisible();

  // Ada reacts 🎉 in one tab; it shows at once there, then in her other tab and for Bob.
  await message(ada, text).hover();
  await message(ada, text).getByTestId('react').click();
  await ada.getByTestId('picker').getByRole('menuitem', { name: '🎉' }).click();
  const party = (page: typeof ada) => message(page, text).locator('[data-testid="reaction"][data-emoji="🎉"]');
  for (const page of [ada, adaTwo, bob]) await expect(party(page).locator('.count')).toHaveText('1');
  await expect(party(ada)).toHaveAttribute('aria-pressed', 'true');
  await expect(party(bob)).toHaveAttribute('aria-pressed', 'false');
  await expect(party(bob)).toHaveAttribute('title', adaName);

  // Bob joins in by clicking the chip: two.
  await party(bob).click();
  for (const page of [ada, adaTwo, bob]) await expect(party(page).locator('.count')).toHaveText('2');
  await expect(party(ada)).toHaveAttribute('title', `${adaName}, ${bobName}`);

  // Ada toggles quickly from both tabs: off, on, off. Every screen ends the same.
  await party(ada).click();
  await expect(party(adaTwo).locator('.count')).toHaveText('1');
  await party(adaTwo).click();
  await expect(party(ada).locator('.count')).toHaveText('2');
  await party(ada).click();
  for (const page of [ada, adaTwo, bob]) {
    await expect(party(page).locator('.count')).toHaveText('1');
    await expect(party(page)).toHaveAttribute('title', bobName);
  }
  await ada.reload();
  await expect(party(ada).locator('.count')).toHaveText('1');
  await expect(party(ada)).toHaveAttribute('aria-pressed', 'false');
});

test('a thread: replies open beside the channel, counted on the root, live for others', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bob = await (await newContext()).newPage();
  await join(bob, 'Bob');
  const question = unique('which release?');
  await say(ada, question);
  await expect(message(ada, question)).toHaveAttribute('data-state', 'sent');
  await expect(message(bob, question)).toBeVisible();

  // Bob replies in a thread.
  await message(bob, question).hover();
  await message(bob, question).getByTestId('reply').click();
  const thread = bob.getByTestId('thread');
  await expect(thread.getByTestId('thread-root')).toContainText(question);
  const answer = unique('the next one');
  await bob.getByTestId('thread-composer').fill(answer);
  await bob.getByTestId('thread-composer').press('Enter');
  await expect(thread.getByTestId('thread-replies').getByTestId('message').filter({ hasText: answer })).toHaveAttribute(
    'data-state',
    'sent',
  );
  // The reply is in the thread, not in the channel; the root counts it, for Ada too.
  await expect(bob.getByTestId('messages').first().getByTestId('message').filter({ hasText: answer })).toHaveCount(0);
  for (const page of [ada, bob]) {
    await expect(message(page, question).first().getByTestId('replies')).toHaveText('1 reply');
  }
  // Ada opens it from the count and answers; Bob's open thread shows it live.
  await message(ada, question).first().getByTestId('replies').click();
  await expect(ada.getByTestId('thread').getByTestId('thread-replies')).toContainText(answer);
  const thanks = unique('thanks');
  await ada.getByTestId('thread-composer').fill(thanks);
  await ada.getByTestId('thread-composer').press('Enter');
  await expect(thread.getByTestId('thread-replies')).toContainText(thanks);
  await expect(message(bob, question).first().getByTestId('replies')).toHaveText('2 replies');
  // After a reload, the thread is whole.
  await ada.reload();
  await expect(message(ada, question).first().getByTestId('replies')).toHaveText('2 replies');
  await message(ada, question).first().getByTestId('replies').click();
  await expect(ada.getByTestId('thread').getByTestId('thread-replies').getByTestId('message')).toHaveCount(2);
  await ada.getByTestId('close-thread').click();
  await expect(ada.getByTestId('thread')).toHaveCount(0);
});

// Profiles: a display name, a status and a time zone, edited in the account menu's
// Profile dialog; others see the name live on your messages, and open your card from
// your name: the status and local time only once you share a space or a conversation.
import { expect } from '@playwright/test';
import { accountItem, join, message, say, unique, test } from './helpers';

/** A 40×30 PNG: the server cuts its middle 30×30 square. */
const PICTURE =
  'iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAK0lEQVR4nO3NMQ0AAAgDsAlDBLKRhQw4mvRvputExGKxWCwWi8VisVj8N16lBjobMdsyEQAAAABJRU5ErkJggg==';

test('a profile saved in one browser renames the messages in another at once, and the card tells what it may', async ({
  newContext,
}) => {
  const ada = await (await newContext({ timezoneId: 'Europe/London' })).newPage();
  const adaName = await join(ada, 'Ada');
  const words = unique('the analytical engine');
  await say(ada, words);
  await expect(message(ada, words)).toHaveAttribute('data-state', 'sent');

  const bob = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await join(bob, 'Bob');
  await expect(message(bob, words).getByTestId('author')).toHaveText(adaName);

  // Ada's profile, from the keyboard: the time zone is her browser's.
  await ada.bringToFront();
  await (await accountItem(ada, 'profile')).click();
  const dialog = ada.getByTestId('profile-dialog');
  await expect(dialog.getByTestId('time-zone')).toHaveValue('Europe/London');
  await dialog.getByTestId('status-emoji-field').fill('★');
  await dialog.getByTestId('display-name').fill('Ada Lovelace');
  await dialog.getByTestId('display-name').press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('one emoji');
  await dialog.getByTestId('status-emoji-field').fill('🧮');
  await dialog.getByTestId('status-text').fill('computing Bernoulli numbers');
  await dialog.getByTestId('status-lasts').selectOption({ label: '4 hours' });
  await dialog.getByTestId('profile-save').click();
  await expect(dialog.getByTestId('profile-note')).toHaveText('Saved');
  await ada.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(ada.getByTestId('me')).toHaveText('Ada Lovelace');
  await expect(message(ada, words).getByTestId('author')).toHaveText('Ada Lovelace');
  await expect(message(ada, words).getByTestId('author')).toHaveAttribute('title', `@${adaName}`);
  await expect(message(ada, words).getByTestId('status-emoji')).toHaveText('🧮');

  // Bob sees the new name and status on her message without reloading. (Here the lobby
  // counts as shared, PARLEY_LOBBY_PRESENCE; the Rust tests check that someone who shares
  // nothing with her sees the name alone.)
  await bob.bringToFront();
  await expect(message(bob, words).getByTestId('author')).toHaveText('Ada Lovelace');
  await expect(message(bob, words).getByTestId('status-emoji')).toHaveText('🧮');
  await expect(message(bob, words).getByTestId('status-emoji')).toHaveAttribute('title', 'computing Bernoulli numbers');
  await message(bob, words).getByTestId('author').click();
  const card = bob.getByTestId('person-card');
  await expect(card.getByTestId('card-name')).toHaveText('Ada Lovelace');
  await expect(card.getByTestId('card-username')).toHaveText(`@${adaName}`);
  await expect(card.getByTestId('card-status')).toHaveText('🧮 computing Bernoulli numbers');
  await expect(card.getByTestId('card-time')).toContainText('local time (Europe/London)');
  await expect(card.getByTestId('card-spaces')).toHaveText('No spaces in common');

  // "Message" opens their conversation.
  await card.getByTestId('card-message').click();
  await expect(card).toBeHidden();
  await expect(bob.getByTestId('channel-title')).toContainText(adaName);
  const hello = unique('hello Ada');
  await say(bob, hello);
  await expect(message(bob, hello)).toHaveAttribute('data-state', 'sent');

  // A picture: cut square by the server, on her messages on Bob's screen at once.
  await ada.bringToFront();
  await (await accountItem(ada, 'profile')).click();
  await dialog.getByTestId('picture-file').setInputFiles({
    name: 'me.png',
    mimeType: 'image/png',
    buffer: Buffer.from(PICTURE, 'base64'),
  });
  await expect(dialog.getByTestId('profile-note')).toHaveText('Picture saved');
  await expect(dialog.getByTestId('avatar-picture')).toBeVisible();
  await ada.keyboard.press('Escape');
  await bob.bringToFront();
  await bob.goBack();
  await expect(message(bob, words).getByTestId('avatar-picture')).toBeVisible();
  const size = await message(bob, words)
    .getByTestId('avatar-picture')
    .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
  expect(size).toEqual([30, 30]);
  await bob.goForward();

  // Her status cleared: gone from Bob's screen at once too.
  await ada.bringToFront();
  await (await accountItem(ada, 'profile')).click();
  await dialog.getByTestId('clear-status').click();
  await dialog.getByTestId('profile-save').click();
  await expect(dialog.getByTestId('profile-note')).toHaveText('Saved');
  await bob.bringToFront();
  await bob.goBack();
  await expect(message(bob, words).getByTestId('author')).toHaveText('Ada Lovelace');
  await expect(message(bob, words).getByTestId('status-emoji')).toHaveCount(0);
});

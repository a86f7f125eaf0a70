// Profiles: a display name, a status and a time zone, edited in the account menu's
// Profile dialog; others see the name live on your messages, and open your card from
// your name: the status and local time only once you share a space or a conversation.
import { expect, type Locator, type Page } from '@playwright/test';
import { accountItem, join, message, say, unique, test } from './helpers';

/** A 40×30 PNG: its middle 30×30 square is what the cropper offers first. */
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

  // A picture: cut square (the middle, as offered), on her messages on Bob's screen at once.
  await ada.bringToFront();
  await (await accountItem(ada, 'profile')).click();
  await dialog.getByTestId('picture-file').setInputFiles({
    name: 'me.png',
    mimeType: 'image/png',
    buffer: Buffer.from(PICTURE, 'base64'),
  });
  await dialog.getByTestId('crop-save').click();
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

/** A 200×100 PNG, red on its left half and blue on its right, drawn by the browser. */
async function halves(page: Page): Promise<Buffer> {
  const url = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 200;
    canvas.height = 100;
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#ff0000';
    context.fillRect(0, 0, 100, 100);
    context.fillStyle = '#0000ff';
    context.fillRect(100, 0, 100, 100);
    return canvas.toDataURL('image/png');
  });
  return Buffer.from(url.split(',')[1], 'base64');
}

/** The colours of the saved picture at a quarter and at three quarters of its width. */
async function leftAndRight(picture: Locator): Promise<string[]> {
  return picture.evaluate(async (img: HTMLImageElement) => {
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    const at = (x: number) => {
      const [r, g, b] = context.getImageData(Math.floor(x), Math.floor(img.naturalHeight / 2), 1, 1).data;
      return r > 200 && b < 50 ? 'red' : b > 200 && r < 50 ? 'blue' : `rgb(${r},${g},${b})`;
    };
    return [at(img.naturalWidth * 0.25), at(img.naturalWidth * 0.75)];
  });
}

test('a picture is cut square by hand: dragged with the pointer, moved and zoomed from the keyboard', async ({ page }) => {
  await join(page, 'Cropper');
  await (await accountItem(page, 'profile')).click();
  const dialog = page.getByTestId('profile-dialog');
  const image = await halves(page);
  const choose = () => dialog.getByTestId('picture-file').setInputFiles({ name: 'halves.png', mimeType: 'image/png', buffer: image });
  const picture = dialog.locator('.picture-row').getByTestId('avatar-picture');

  // As offered: the middle square, half red, half blue.
  await choose();
  const stage = dialog.getByTestId('crop-stage');
  await expect(stage).toBeVisible();
  await dialog.getByTestId('crop-save').click();
  await expect(dialog.getByTestId('profile-note')).toHaveText('Picture saved');
  await expect(dialog.getByTestId('picture-crop')).toHaveCount(0);
  expect(await leftAndRight(picture)).toEqual(['red', 'blue']);
  expect(await picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([100, 100]);

  // Dragged to the right: the picture follows the pointer, the red half fills the frame.
  await choose();
  const box = (await stage.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await dialog.getByTestId('crop-save').click();
  await expect(dialog.getByTestId('profile-note')).toHaveText('Picture saved');
  await expect.poll(() => leftAndRight(picture)).toEqual(['red', 'red']);

  // The keyboard alone: zoomed in with +, moved right with the arrow key: all blue.
  await choose();
  await stage.focus();
  await page.keyboard.press('+');
  await expect(dialog.getByTestId('crop-zoom')).toHaveValue('1.25');
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  await dialog.getByTestId('crop-save').focus();
  await page.keyboard.press('Enter');
  await expect(dialog.getByTestId('profile-note')).toHaveText('Picture saved');
  await expect.poll(() => leftAndRight(picture)).toEqual(['blue', 'blue']);
  expect(await picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(80);

  // Cancelled: the cropper closes and the picture stays.
  await choose();
  await dialog.getByTestId('crop-cancel').click();
  await expect(dialog.getByTestId('picture-crop')).toHaveCount(0);
  expect(await leftAndRight(picture)).toEqual(['blue', 'blue']);
});

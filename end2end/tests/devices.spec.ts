// One person on two devices (two browser contexts signed in to one account): what crosses
// through the server (read markers, message changes, reactions) shows on the other device
// live; what is kept per browser (drafts, the outbox, the history cache) stays in its own.
import { expect, type Page } from '@playwright/test';
import { join, message, openDirect, say, signIn, test, unique } from './helpers';

test('a laptop and a phone of one person: read markers, edits and reactions cross; drafts stay', async ({
  newContext,
}) => {
  test.setTimeout(60_000);
  const laptop = await (await newContext()).newPage();
  const phone = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  const adaName = await join(laptop, 'Ada');
  const bobName = await join(bob, 'Bob');
  await phone.goto('/');
  await signIn(phone, adaName);
  await expect(phone.getByTestId('me')).toHaveText(adaName);
  await expect(phone.getByTestId('connection')).toHaveText('online');

  // Both devices look at the conversation with Bob; he writes in general.
  const dm = await openDirect(laptop, bobName);
  await phone.goto(dm);
  await expect(phone.getByTestId('connection')).toHaveText('online');
  const news = unique('news in general');
  await say(bob, news);
  const badge = (page: Page) =>
    page.getByTestId('channel-link').filter({ hasText: 'general' }).getByTestId('unread-badge');
  for (const page of [laptop, phone]) await expect(badge(page)).toHaveText('1');

  // Read on the laptop: the phone's badge goes too (a ChannelRead in the log).
  await laptop.bringToFront();
  await laptop.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(message(laptop, news)).toBeVisible();
  await expect(badge(laptop)).toHaveCount(0);
  await expect(badge(phone)).toHaveCount(0);

  // Written and edited on the laptop: the phone shows the edit.
  await phone.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  const first = unique('from the laptop');
  await say(laptop, first);
  await expect(message(phone, first)).toBeVisible();
  const composer = laptop.getByTestId('composer');
  await composer.press('ArrowUp');
  const fixed = unique('fixed on the laptop');
  await laptop.getByTestId('edit-input').fill(fixed);
  await laptop.getByTestId('edit-input').press('Enter');
  await expect(message(phone, fixed).getByTestId('edited')).toBeVisible();
  await expect(message(phone, first)).toHaveCount(0);

  // A reaction from the phone shows on the laptop as hers (pressed).
  await phone.bringToFront();
  await message(phone, news).hover();
  await message(phone, news).getByTestId('react').click();
  await phone.getByTestId('picker').getByRole('menuitem', { name: '🎉' }).click();
  const party = (page: Page) => message(page, news).locator('[data-testid="reaction"][data-emoji="🎉"]');
  await expect(party(laptop).locator('.count')).toHaveText('1');
  await expect(party(laptop)).toHaveAttribute('aria-pressed', 'true');

  // A draft is this browser's: typed on the laptop, it is not on the phone, and a reload
  // of the laptop finds it.
  await laptop.bringToFront();
  await composer.fill('half a thought');
  await phone.reload();
  await expect(phone.getByTestId('connection')).toHaveText('online');
  await expect(phone.getByTestId('composer')).toHaveValue('');
  await laptop.reload();
  await expect(laptop.getByTestId('composer')).toHaveValue('half a thought');
});

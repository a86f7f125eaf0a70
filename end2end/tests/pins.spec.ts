// Pins and topics in a space: a member pins a message, both people see it marked and in the
// channel's pinned list (which opens it in context); a topic set in one browser shows in the
// other's header at once, with its notice in the timeline; the admin makes pins the
// moderators' and the member's Pin button goes.
import { expect } from '@playwright/test';
import { join, message, say, spaceWithTwo, test, unique } from './helpers';


test('a pinned message is marked for everyone, listed under 📌, and opened from the list', async ({
  newContext,
}) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  await join(bob, 'Bob');
  const space = await spaceWithTwo(ada, bob, unique('Pins'));
  const keep = unique('the checklist is in the wiki');
  await say(ada, keep);
  for (let i = 0; i < 3; i++) await say(ada, unique('chatter'));

  // Bob, a member, pins Ada's message; both see the marker.
  await message(bob, keep).getByTestId('pin').click();
  await expect(message(bob, keep).getByTestId('pinned-mark')).toBeVisible();
  await expect(message(ada, keep).getByTestId('pinned-mark')).toBeVisible();
  await expect(message(bob, keep).getByTestId('pin')).toHaveText('Unpin');

  // The list, from the keyboard: it shows the message and opens it in context.
  await ada.getByTestId('pins-button').focus();
  await ada.keyboard.press('Enter');
  const pinned = ada.getByTestId('pinned');
  await expect(pinned).toHaveCount(1);
  await expect(pinned).toContainText(keep);
  await pinned.focus();
  await ada.keyboard.press('Enter');
  await expect(ada.getByTestId('pins-panel')).toHaveCount(0);
  await expect(message(ada, keep)).toHaveClass(/revealed/);

  // `is:pinned` in search finds it.
  await ada.getByTestId('search').fill('is:pinned');
  await ada.getByTestId('search').press('Enter');
  await expect(ada.getByTestId('search-hit')).toHaveCount(1);
  await expect(ada.getByTestId('search-hit')).toContainText(keep);
  await ada.getByTestId('search').press('Escape');

  // Ada makes pins the moderators': Bob's Pin button goes (after his sidebar hears of it).
  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('space-settings-open').click();
  await ada.getByTestId('settings-pins').selectOption('moderators');
  await ada.getByTestId('settings-save').click();
  await expect(ada.getByTestId('space-settings')).toHaveCount(0);
  await bob.reload();
  await expect(message(bob, keep).getByTestId('pinned-mark')).toBeVisible();
  await expect(message(bob, keep).getByTestId('pin')).toHaveCount(0);
  // Ada, the admin, unpins: gone for both, and the list says nothing is pinned.
  await message(ada, keep).getByTestId('pin').click();
  await expect(message(ada, keep).getByTestId('pinned-mark')).toHaveCount(0);
  await expect(message(bob, keep).getByTestId('pinned-mark')).toHaveCount(0);
  await bob.getByTestId('pins-button').click();
  await expect(bob.getByTestId('pins-none')).toBeVisible();
});

test('a topic set in one browser shows in the other header at once, with a notice in the channel', async ({
  newContext,
}) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  await join(bob, 'Bob');
  await spaceWithTwo(ada, bob, unique('Topics'));
  const topic = unique('Ship 1.0 by Friday');

  // Bob (a member: topics are every member's by default) sets it from the keyboard.
  await expect(bob.getByTestId('channel-topic')).toHaveText('Add a topic');
  await bob.getByTestId('channel-topic').focus();
  await bob.keyboard.press('Enter');
  await expect(bob.getByTestId('topic-field')).toBeFocused();
  await bob.keyboard.type(`  ${topic}  `);
  await bob.getByTestId('description-field').fill('What we build.\nAnd why.');
  // A control character in the topic is refused with the reason, and nothing changes.
  await bob.getByTestId('topic-field').evaluate((el: HTMLInputElement) => {
    el.value = 'bell\u0007';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await bob.getByTestId('topic-save').click();
  await expect(bob.getByTestId('topic-error')).toContainText('one line');
  await bob.getByTestId('topic-field').fill(topic);
  await bob.keyboard.press('Enter');
  await expect(bob.getByTestId('topic-form')).toHaveCount(0);

  for (const page of [bob, ada]) {
    await expect(page.getByTestId('channel-topic')).toHaveText(topic);
    await expect(page.getByTestId('channel-topic')).toHaveAttribute('title', 'What we build.\nAnd why.');
    const notice = page.getByTestId('notice');
    await expect(notice).toHaveCount(1);
    await expect(notice).toContainText(`set the topic: ${topic}`);
  }
  // The notice is not a message: no actions on it.
  await expect(ada.getByTestId('notice').getByTestId('react')).toHaveCount(0);

  // Ada makes topics the moderators': Bob's topic now opens the channel's details to read.
  const space = ada.getByTestId('space').filter({ has: ada.getByTestId('my-role') });
  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('space-settings-open').click();
  await ada.getByTestId('settings-topics').selectOption('moderators');
  await ada.getByTestId('settings-save').click();
  await bob.reload();
  await bob.getByTestId('channel-topic').focus();
  await bob.keyboard.press('Enter');
  await expect(bob.getByTestId('about-description')).toHaveText('What we build.\nAnd why.');
  await expect(bob.getByTestId('topic-field')).toHaveCount(0);
  await bob.keyboard.press('Escape');
  await expect(bob.getByTestId('about-channel')).toHaveCount(0);
});

test('a saved message is marked in every tab, listed in the sidebar, and opened from the list', async ({
  context,
}) => {
  const page = await context.newPage();
  await join(page, 'Saver');
  const keep = unique('remember the milk');
  await say(page, keep);
  for (let i = 0; i < 3; i++) await say(page, unique('later words'));
  const sibling = await context.newPage();
  await sibling.goto('/');
  await expect(message(sibling, keep)).toBeVisible();

  await message(page, keep).getByTestId('save').click();
  await expect(message(page, keep).getByTestId('save')).toHaveText('Saved');
  await expect(message(page, keep).getByTestId('save')).toHaveAttribute('aria-pressed', 'true');
  // The other tab hears of it from the server.
  await expect(message(sibling, keep).getByTestId('save')).toHaveText('Saved');

  // The list, from the keyboard: it opens the message in its channel.
  await sibling.getByTestId('saved-open').focus();
  await sibling.keyboard.press('Enter');
  const item = sibling.getByTestId('saved-item');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText(keep);
  await item.focus();
  await sibling.keyboard.press('Enter');
  await expect(sibling.getByTestId('saved-dialog')).toHaveCount(0);
  await expect(message(sibling, keep)).toHaveClass(/revealed/);

  // Let go of it from the list: gone from both tabs.
  await sibling.getByTestId('saved-open').click();
  await sibling.getByTestId('unsave').click();
  await expect(sibling.getByTestId('saved-none')).toBeVisible();
  await sibling.keyboard.press('Escape');
  await expect(message(page, keep).getByTestId('save')).toHaveText('Save');
});

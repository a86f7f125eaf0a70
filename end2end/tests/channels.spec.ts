// A space's channels beyond the sidebar: a private channel only the people added to it find
// (added and removed from its People by the admin), the channel browser to leave and join a
// public channel, and deleting a channel.
import { expect } from '@playwright/test';
import { join, message, say, spaceWithTwo, test, unique } from './helpers';


test('a private channel is found only by the people added to it', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const spaceName = unique('Private');
  const space = await spaceWithTwo(ada, bob, spaceName);
  const bobSpace = bob.getByTestId('space').filter({ hasText: spaceName });

  await space.getByTestId('new-channel').click();
  await ada.getByTestId('name-field').fill('secret');
  await ada.getByTestId('channel-private').check();
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText('secret');
  await expect(space.getByTestId('channel-link').filter({ hasText: 'secret' })).toContainText('🔒');
  const words = unique('the plan');
  await say(ada, words);

  // Bob has no trace of it: not in his sidebar, not in the browser.
  await bob.reload();
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(1);
  await bobSpace.getByTestId('browse-channels').click();
  await expect(bob.getByTestId('browse-channel')).toHaveCount(1);
  await expect(bob.getByTestId('channel-browser')).not.toContainText('secret');
  await bob.getByTestId('channel-browser').getByRole('button', { name: 'Close' }).click();

  // Ada adds him from the channel's People.
  await ada.getByTestId('channel-menu').locator('summary').click();
  await ada.getByTestId('channel-people').click();
  await expect(ada.getByTestId('channel-member')).toHaveCount(1);
  await ada.getByTestId('channel-member-add').selectOption({ label: bobName });
  await ada.getByTestId('channel-member-submit').click();
  await expect(ada.getByTestId('channel-member')).toHaveCount(2);
  await ada.getByTestId('channel-members').getByRole('button', { name: 'Close' }).click();

  await bob.reload();
  await bobSpace.getByTestId('channel-link').filter({ hasText: 'secret' }).click();
  await expect(message(bob, words)).toBeVisible();

  // Taken out again: once his page asks, the channel is gone from it.
  await ada.getByTestId('channel-menu').locator('summary').click();
  await ada.getByTestId('channel-people').click();
  await ada.getByTestId('channel-member').filter({ hasText: bobName }).getByTestId('channel-member-remove').click();
  await expect(ada.getByTestId('channel-member')).toHaveCount(1);
  await bob.reload();
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(1);
  await expect(message(bob, words)).toHaveCount(0);
});

test('the browser leaves and joins a public channel; an admin deletes a channel', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  await join(bob, 'Bob');
  const spaceName = unique('Browse');
  const space = await spaceWithTwo(ada, bob, spaceName);
  await space.getByTestId('new-channel').click();
  await ada.getByTestId('name-field').fill('random');
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText('random');
  const words = unique('random words');
  await say(ada, words);

  const bobSpace = bob.getByTestId('space').filter({ hasText: spaceName });
  await bob.reload();
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(2);
  // Leave #random from the keyboard, in the browser.
  await bobSpace.getByTestId('browse-channels').focus();
  await bob.keyboard.press('Enter');
  const row = bob.getByTestId('browse-channel').filter({ hasText: 'random' });
  await expect(row).toHaveAttribute('data-joined', 'true');
  await row.getByTestId('browse-leave').focus();
  await bob.keyboard.press('Enter');
  await expect(row).toHaveAttribute('data-joined', 'false');
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(1);
  // Open it from the browser (readable: it is public), then join again.
  await row.getByTestId('browse-join').click();
  await expect(row).toHaveAttribute('data-joined', 'true');
  await row.getByTestId('browse-open').click();
  await expect(bob.getByTestId('channel-title')).toContainText('random');
  await expect(message(bob, words)).toBeVisible();
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(2);
  // A member has no Delete in the channel's menu.
  await bob.getByTestId('channel-menu').locator('summary').click();
  await expect(bob.getByTestId('delete-channel')).toHaveCount(0);
  await expect(bob.getByTestId('leave-channel')).toBeVisible();

  ada.once('dialog', (d) => d.accept());
  await ada.getByTestId('channel-menu').locator('summary').click();
  await ada.getByTestId('delete-channel').click();
  await expect(space.getByTestId('channel-link')).toHaveCount(1);
  await bob.reload();
  await expect(bobSpace.getByTestId('channel-link')).toHaveCount(1);
});

// Spaces in the browser: create one, add a channel, invite by link, chat inside, roles,
// and a stranger who can see none of it.
import { expect, type Page } from '@playwright/test';
import { join, message, say, unique, test } from './helpers';

async function createSpace(page: Page, name: string) {
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(name);
  await page.getByTestId('name-submit').click();
  const space = page.getByTestId('space').filter({ hasText: name });
  await expect(space).toBeVisible();
  await expect(page.getByTestId('channel-title')).toContainText('general');
  await expect(page.getByTestId('channel-title')).toContainText(name);
  return space;
}

test('a space: create, add a channel, invite by link, chat inside, and strangers see nothing', async ({
  newContext,
}, testInfo) => {
  // A long flow in three browsers, each fetching the dialogs' pieces the first time it
  // opens them: it took 26–34 s here, against the 30 s default.
  test.slow();
  const ada = await (await newContext({ permissions: ['clipboard-read', 'clipboard-write'] })).newPage();
  const bob = await (await newContext()).newPage();
  const eve = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  await join(eve, 'Eve');

  const spaceName = unique('Engines');
  const space = await createSpace(ada, spaceName);
  await expect(space.getByTestId('my-role')).toHaveText('admin');

  // A channel name is checked by the server, and the refusal shown in place.
  await space.getByTestId('new-channel').click();
  await ada.getByTestId('name-field').fill('Not Valid');
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('name-error')).toContainText('a channel name must be');
  await ada.getByTestId('name-field').fill('design');
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText('design');
  // A new channel introduces itself: whose it is and who reads it.
  await expect(ada.getByTestId('channel-intro')).toContainText('Welcome to #design');
  await expect(ada.getByTestId('channel-intro')).toContainText(spaceName);
  await expect(ada).toHaveURL(/\?c=/);
  const designURL = ada.url();

  const secret = unique('the plans');
  await say(ada, secret);
  await expect(message(ada, secret)).toHaveAttribute('data-state', 'sent');

  // A stranger with the channel's address sees nothing of it, and cannot post.
  await eve.goto(designURL);
  await expect(eve.locator('main[data-hydrated="true"]')).toBeVisible();
  await eve.waitForTimeout(500);
  await expect(message(eve, secret)).toHaveCount(0);
  await expect(eve.getByTestId('space')).toHaveCount(0);

  // Invite Bob by link.
  await space.getByTestId('invite').click();
  await ada.getByTestId('invite-create').click();
  const link = await ada.getByTestId('invite-link').inputValue();
  expect(link).toMatch(/\/\?space=[0-9a-f-]+&invite=[A-Za-z0-9]{12}$/);
  // It says until when (7 days from now by default), and one click copies it.
  const inAWeek = new Date(Date.now() + 7 * 86_400_000);
  await expect(ada.getByTestId('invite-until')).toContainText(String(inAWeek.getDate()));
  await expect(ada.getByTestId('invite-until')).toContainText(inAWeek.toLocaleDateString('en-US', { month: 'short' }));
  await expect(ada.getByTestId('invite-row')).toContainText('expires');
  await ada.getByTestId('invite-copy').click();
  await expect(ada.getByTestId('invite-copy')).toHaveText('Copied');
  expect(await ada.evaluate(() => navigator.clipboard.readText())).toBe(link);
  await ada.getByRole('button', { name: 'Done' }).click();
  await bob.goto(link);
  const bobSpace = bob.getByTestId('space').filter({ hasText: spaceName });
  await expect(bobSpace).toBeVisible();
  await expect(bobSpace.getByTestId('my-role')).toHaveText('member');
  await expect(bobSpace.getByTestId('new-channel')).toHaveCount(0);
  await expect(bobSpace.getByTestId('invite')).toHaveCount(0);

  // Bob opens #design from the sidebar: history, then live both ways.
  await bobSpace.getByTestId('channel-link').filter({ hasText: 'design' }).click();
  await expect(bob.getByTestId('channel-title')).toContainText('design');
  await expect(message(bob, secret)).toHaveCount(1);
  const reply = unique('count me in');
  await say(bob, reply);
  await expect(message(ada, reply)).toBeVisible();
  await expect(message(ada, reply)).toContainText(bobName);

  // Switching channels shows each channel's own messages, without a reload.
  await bobSpace.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(bob.getByTestId('channel-title')).toContainText('general');
  await expect(message(bob, secret)).toHaveCount(0);
  await bob.goBack();
  await expect(message(bob, secret)).toHaveCount(1);

  // The members list shows the roles.
  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('members').click();
  const members = ada.getByTestId('member');
  await expect(members).toHaveCount(2);
  await expect(members.filter({ hasText: adaName })).toContainText('admin');
  await expect(members.filter({ hasText: bobName })).toContainText('member');
  await ada.screenshot({ path: testInfo.outputPath('space-members.png') });
  await ada.getByRole('button', { name: 'Close' }).click();

  // Eve, still a stranger, still sees nothing; the reload of a cached page shows nothing either.
  await eve.reload();
  await eve.waitForTimeout(500);
  await expect(message(eve, secret)).toHaveCount(0);
  await expect(message(eve, reply)).toHaveCount(0);
  await bob.screenshot({ path: testInfo.outputPath('space-bob.png') });
});

test('a direct conversation: opened by name, private to its people', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  const eve = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  await join(eve, 'Eve');

  await ada.getByTestId('new-direct').click();
  await ada.getByTestId('name-field').fill('no-such-person-here');
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('name-error')).toContainText('no such user');
  await ada.getByTestId('name-field').fill(bobName.toUpperCase());
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText(`@${bobName}`);
  const dmURL = ada.url();
  const hello = unique('psst');
  await say(ada, hello);
  await expect(message(ada, hello)).toHaveAttribute('data-state', 'sent');

  // Bob finds it in his sidebar (here after a reload; on its own within seconds).
  await bob.reload();
  await bob.getByTestId('direct-link').filter({ hasText: adaName }).click();
  await expect(bob.getByTestId('channel-title')).toContainText(`@${adaName}`);
  await expect(message(bob, hello)).toHaveCount(1);
  const back = unique('hi ada');
  await say(bob, back);
  await expect(message(ada, back)).toBeVisible();

  // Eve, with the address, gets nothing.
  await eve.goto(dmURL);
  await expect(eve.locator('main[data-hydrated="true"]')).toBeVisible();
  await eve.waitForTimeout(500);
  await expect(message(eve, hello)).toHaveCount(0);
  await expect(eve.getByTestId('direct-link')).toHaveCount(0);
});

test('admins and moderators manage a space from the sidebar', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const spaceName = unique('Managed');
  const space = await createSpace(ada, spaceName);
  await space.getByTestId('invite').click();
  // A one-use invite, revoked: it leaves the list.
  await ada.getByTestId('invite-uses').selectOption('1');
  await ada.getByTestId('invite-create').click();
  await expect(ada.getByTestId('invite-row')).toHaveCount(1);
  await expect(ada.getByTestId('invite-row')).toContainText('0 of 1 used');
  await ada.getByTestId('invite-revoke').click();
  await expect(ada.getByTestId('invite-row')).toHaveCount(0);
  await ada.getByTestId('invite-uses').selectOption('');
  await ada.getByTestId('invite-create').click();
  const link = await ada.getByTestId('invite-link').inputValue();
  await ada.getByRole('button', { name: 'Done' }).click();

  // Bob pastes the link into "Join a space".
  await bob.getByTestId('join-space').click();
  await bob.getByTestId('name-field').fill('not a link');
  await bob.getByTestId('name-submit').click();
  await expect(bob.getByTestId('name-error')).toContainText('not an invite link');
  await bob.getByTestId('name-field').fill(link);
  await bob.getByTestId('name-submit').click();
  const bobSpace = bob.getByTestId('space').filter({ hasText: spaceName });
  await expect(bobSpace.getByTestId('my-role')).toHaveText('member');
  await expect(bob.getByTestId('rename-channel')).toHaveCount(0);

  // Ada makes Bob a moderator from the members list.
  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('members').click();
  const bobRow = ada.getByTestId('member').filter({ hasText: bobName });
  await bobRow.getByTestId('member-role').selectOption('moderator');
  await expect(bobRow.getByTestId('member-role')).toHaveValue('moderator');
  await ada.getByRole('button', { name: 'Close' }).click();

  // Bob, now a moderator, renames #general.
  await bob.reload();
  await expect(bobSpace.getByTestId('my-role')).toHaveText('moderator');
  await bobSpace.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await bob.getByTestId('channel-menu').locator('summary').click();
  await bob.getByTestId('rename-channel').click();
  await bob.getByTestId('name-field').fill('lounge');
  await bob.getByTestId('name-submit').click();
  await expect(bob.getByTestId('channel-title')).toContainText('lounge');

  // Ada renames the space, archives the channel, then deletes the space.
  await ada.reload();
  await space.getByTestId('space-menu').locator('summary').click();
  await space.getByTestId('rename-space').click();
  await ada.getByTestId('name-field').fill(`${spaceName} II`);
  await ada.getByTestId('name-submit').click();
  const renamed = ada.getByTestId('space').filter({ hasText: `${spaceName} II` });
  await expect(renamed).toBeVisible();
  await renamed.getByTestId('channel-link').filter({ hasText: 'lounge' }).click();
  ada.once('dialog', (d) => d.accept());
  await ada.getByTestId('channel-menu').locator('summary').click();
  await ada.getByTestId('archive-channel').click();
  await expect(renamed.getByTestId('channel-link')).toHaveCount(0);
  ada.once('dialog', (d) => d.accept());
  await renamed.getByTestId('space-menu').locator('summary').click();
  await renamed.getByTestId('delete-space').click();
  await expect(ada.getByTestId('space')).toHaveCount(0);
  await bob.reload();
  await expect(bob.getByTestId('space')).toHaveCount(0);
});

test('the quick switcher: Ctrl+K finds a channel by a few letters and opens it from the keyboard', async ({
  page,
}, testInfo) => {
  await join(page, 'Jumper');
  const spaceName = unique('Orbit');
  const space = await createSpace(page, spaceName);
  const channel = `launch-${Date.now() % 100000}`;
  await space.getByTestId('new-channel').click();
  await page.getByTestId('name-field').fill(channel);
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText(channel);
  // Back in the lobby, then jump from the keyboard.
  await page.goto('/');
  await expect(page.getByTestId('channel-title')).toContainText('general');
  await page.getByTestId('composer').click();
  await page.keyboard.press('Control+k');
  const input = page.getByTestId('switcher-input');
  await expect(input).toBeFocused();
  const results = page.getByTestId('switcher-result');
  await expect(results).toHaveCount(3); // the lobby, the space's #general, the new channel
  await input.fill('lnch'); // letters in order are enough
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(channel);
  await expect(results.first()).toContainText(spaceName);
  await page.screenshot({ path: testInfo.outputPath('switcher.png') });
  await input.press('Enter');
  await expect(page.getByTestId('switcher')).toHaveCount(0);
  await expect(page.getByTestId('channel-title')).toContainText(channel);
  await expect(page).toHaveURL(/\?c=/);

  // Arrows choose among several; Escape closes without moving; nothing found says so.
  await page.getByTestId('jump').click();
  await input.fill('general');
  await expect(results).toHaveCount(2);
  await input.press('ArrowDown');
  await expect(results.nth(1)).toHaveAttribute('aria-selected', 'true');
  await input.press('ArrowDown');
  await expect(results.nth(0)).toHaveAttribute('aria-selected', 'true'); // round again
  await input.fill('no such place');
  await expect(page.getByTestId('switcher')).toContainText('No channel by that name.');
  await input.press('Escape');
  await expect(page.getByTestId('switcher')).toHaveCount(0);
  await expect(page.getByTestId('channel-title')).toContainText(channel);
});

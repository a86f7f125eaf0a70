// Unread badges, the "new messages" line, mention counts, the page title, read markers kept
// in step across tabs and reloads, muting, and notifications when the page is out of view.
import type { Page } from '@playwright/test';
import { expect } from '@playwright/test';
import { join, message, openDirect, recordNotifications, say, test, unique } from './helpers';

const hide = (page: Page) =>
  page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });

test('unread badges between two users: counts, mentions, the new-messages line, title, tabs and reload', async ({
  newContext,
}) => {
  test.setTimeout(60_000);
  const adaContext = await newContext();
  const ada = await adaContext.newPage();
  const bob = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');

  const dmURL = await openDirect(ada, bobName);
  await ada.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(ada.getByTestId('channel-title')).toContainText('general');

  // Bob writes to Ada directly, twice: her sidebar counts them, and the tab title leads with it.
  await bob.goto(dmURL);
  await expect(bob.getByTestId('connection')).toHaveText('online');
  const first = unique('psst');
  await say(bob, first);
  await say(bob, unique('are you there'));
  const direct = ada.getByTestId('direct-link').filter({ hasText: bobName });
  await expect(direct.getByTestId('unread-badge')).toHaveText('2');
  await expect(ada).toHaveTitle(/^\(2\) /);

  // Opening the conversation reads it: the badge goes, and a line marks where the new ones start.
  await ada.bringToFront(); // in view: Bob's page was in front while he typed
  await direct.click();
  await expect(message(ada, first)).toBeVisible();
  await expect(direct.getByTestId('unread-badge')).toHaveCount(0);
  const divider = ada.getByTestId('new-divider');
  await expect(divider).toHaveText('New messages');
  const afterDivider = ada.locator('[data-testid="new-divider"] + li');
  await expect(afterDivider).toContainText(first);
  await expect(ada).not.toHaveTitle(/^\(/);

  // A mention in another channel counts apart, and shows in the title.
  await bob.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(bob.getByTestId('channel-title')).toContainText('general');
  await say(bob, `hey @${adaName}, see this`);
  const general = ada.getByTestId('channel-link').filter({ hasText: 'general' });
  await expect(general.getByTestId('unread-badge')).toHaveText('1');
  await expect(general.getByTestId('unread-badge')).toHaveAttribute('data-mentions', '1');
  await expect(ada).toHaveTitle(/^\(1\) @1 /);

  // A second tab sees the same count; reading in the first clears it in both, and for good.
  const second = await adaContext.newPage();
  await second.goto(dmURL);
  const secondGeneral = second.getByTestId('channel-link').filter({ hasText: 'general' });
  await expect(secondGeneral.getByTestId('unread-badge')).toHaveText('1');
  await ada.bringToFront();
  await general.click();
  await expect(general.getByTestId('unread-badge')).toHaveCount(0);
  await expect(secondGeneral.getByTestId('unread-badge')).toHaveCount(0);
  await second.reload();
  await expect(second.getByTestId('connection')).toHaveText('online');
  await expect(second.getByTestId('unread-badge')).toHaveCount(0);
  await expect(second).not.toHaveTitle(/^\(/);
});

test('a muted channel stays out of the total; notifications come for mentions and DMs only when out of view', async ({
  newContext,
}) => {
  test.setTimeout(60_000);
  const adaContext = await newContext({ permissions: ['notifications'] });
  await recordNotifications(adaContext);
  const ada = await adaContext.newPage();
  const bob = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const notes = () => ada.evaluate(() => (window as unknown as { __notes: { title: string }[] }).__notes);
  await expect(ada.getByTestId('enable-notifications')).toHaveCount(0); // already allowed: nothing to ask

  const dmURL = await openDirect(ada, bobName);
  await ada.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(ada.getByTestId('channel-title')).toContainText('general');
  await hide(ada);

  // Out of view: a mention notifies; a plain message does not.
  const chatting = unique('just chatting');
  await say(bob, chatting);
  await expect(message(ada, chatting)).toBeVisible();
  await say(bob, `@${adaName} a question for you`);
  await expect.poll(notes).toEqual([{ title: `${bobName} mentioned you`, body: `@${adaName} a question for you` }]);
  // A direct message notifies.
  await bob.goto(dmURL);
  await expect(bob.getByTestId('connection')).toHaveText('online');
  const dm = unique('direct words');
  await say(bob, dm);
  await expect.poll(async () => (await notes()).length).toBe(2);
  expect((await notes())[1]).toEqual({ title: `${bobName} wrote to you`, body: dm });

  // Muted: no notification, and its unread messages leave the title's total.
  const direct = ada.getByTestId('direct-link').filter({ hasText: bobName });
  await direct.click();
  await ada.getByTestId('mute').click();
  await expect(ada.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
  await ada.getByTestId('channel-link').filter({ hasText: 'general' }).click();
  await expect(ada.getByTestId('channel-title')).toContainText('general');
  const quiet = unique('quietly');
  await say(bob, quiet);
  // Two: the conversation was opened while out of view, so it was not read.
  await expect(direct.getByTestId('unread-badge')).toHaveText('2');
  await expect(direct.getByTestId('unread-badge')).toHaveClass(/muted/);
  await expect(ada).toHaveTitle(/^\(2\) @1 /); // the lobby's two (one a mention); not the conversation's
  await ada.waitForTimeout(300);
  expect((await notes()).length).toBe(2);
  // The mute is the account's: it holds after a reload.
  await ada.reload();
  await expect(ada.getByTestId('connection')).toHaveText('online');
  await expect(direct.getByTestId('unread-badge')).toHaveClass(/muted/);
  await expect(message(bob, quiet)).toBeVisible();
});

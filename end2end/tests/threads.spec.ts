// Followed threads: starting a thread follows it, so another's reply shows as new in the
// sidebar's Threads; the Threads view opens it beside its channel, which reads it; Follow
// in the thread stops (and starts) following.
import { expect } from '@playwright/test';
import { join, message, notes, recordNotifications, say, test, unique } from './helpers';

test('a reply in a thread you started shows under Threads, opens from there and is read', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  await join(bob, 'Bob');
  const question = unique('who takes the release');
  await say(ada, question);
  for (let i = 0; i < 3; i++) await say(ada, unique('more chatter'));

  // Bob answers in the thread.
  await message(bob, question).locator('.body').click();
  await message(bob, question).getByTestId('reply').click();
  const answer = unique('I will');
  await bob.getByTestId('thread-composer').fill(answer);
  await bob.getByTestId('thread-composer').press('Enter');
  await expect(bob.getByTestId('follow-thread')).toHaveText('Following');

  // Ada started it: it is new for her, in the sidebar, live.
  await expect(ada.getByTestId('threads-unread')).toHaveText('1 new');
  await ada.getByTestId('threads-open').focus();
  await ada.keyboard.press('Enter');
  const listed = ada.getByTestId('followed-thread');
  await expect(listed).toHaveCount(1);
  await expect(listed).toContainText(question);
  await expect(ada.getByTestId('thread-unread')).toHaveText('1');
  await listed.focus();
  await ada.keyboard.press('Enter');
  await expect(ada.getByTestId('thread').getByTestId('thread-replies')).toContainText(answer);
  await expect(ada.getByTestId('threads-unread')).toHaveText('');
  // Still read after a reload (the marker went to the server).
  await ada.reload();
  await expect(ada.getByTestId('threads-open')).toBeVisible();
  await expect(ada.getByTestId('threads-unread')).toHaveText('');

  // A reply also sent to the channel shows in it, and opens its thread.
  const loud = unique('everyone should read this');
  await bob.getByTestId('thread-composer').fill(loud);
  await bob.getByTestId('also-in-channel').check();
  await bob.getByTestId('thread-composer').press('Enter');
  await expect(bob.getByTestId('also-in-channel')).not.toBeChecked();
  const inChannel = ada.locator('ol.messages').first().getByTestId('message').filter({ hasText: loud });
  await expect(inChannel).toBeVisible();
  await inChannel.getByTestId('in-thread').click();
  await expect(ada.getByTestId('thread').getByTestId('thread-replies')).toContainText(loud);
  await ada.getByTestId('close-thread').click();

  // Ada stops following: Bob's next reply is not new for her.
  await message(ada, question).locator('.body').click();
  await message(ada, question).getByTestId('reply').click();
  await expect(ada.getByTestId('follow-thread')).toHaveText('Following');
  await ada.getByTestId('follow-thread').click();
  await expect(ada.getByTestId('follow-thread')).toHaveText('Follow');
  await ada.getByTestId('close-thread').click();
  const another = unique('another answer');
  await bob.getByTestId('thread-composer').fill(another);
  await bob.getByTestId('thread-composer').press('Enter');
  await expect(message(bob, another)).toHaveAttribute('data-state', 'sent');
  await ada.reload();
  await expect(ada.getByTestId('threads-open')).toBeVisible();
  await expect(ada.getByTestId('threads-unread')).toHaveText('');
  await ada.getByTestId('threads-open').click();
  await expect(ada.getByTestId('threads-none')).toBeVisible();
});

test('a reply in a followed thread notifies when the page is out of view', async ({ newContext }) => {
  const adaContext = await newContext({ permissions: ['notifications'] });
  await recordNotifications(adaContext);
  const ada = await adaContext.newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const question = unique('lunch plans');
  await say(ada, question);
  // Ada follows it by hand, then looks away.
  await message(ada, question).locator('.body').click();
  await message(ada, question).getByTestId('reply').click();
  await ada.getByTestId('follow-thread').click();
  await expect(ada.getByTestId('follow-thread')).toHaveText('Following');
  await ada.getByTestId('close-thread').click();
  await ada.evaluate(() => {
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });

  await message(bob, question).locator('.body').click();
  await message(bob, question).getByTestId('reply').click();
  const answer = unique('noodles');
  await bob.getByTestId('thread-composer').fill(answer);
  await bob.getByTestId('thread-composer').press('Enter');
  await expect
    .poll(() => notes(ada))
    .toEqual([{ title: `${bobName} replied in a thread you follow`, body: answer }]);
  await expect(ada.getByTestId('threads-unread')).toHaveText('1 new');
});

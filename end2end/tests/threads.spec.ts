// Followed threads: starting a thread follows it, so another's reply shows as new in the
// sidebar's Threads; the Threads view opens it beside its channel, which reads it; Follow
// in the thread stops (and starts) following.
import { expect } from '@playwright/test';
import { join, message, say, test, unique } from './helpers';

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

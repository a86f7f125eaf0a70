// No dead ends: a link to a channel one cannot open, or an invite that does not work, says
// what happened and the way back, instead of "connecting" forever or nothing at all.
import { expect } from '@playwright/test';
import { join, say, unique, test } from './helpers';

test('a channel link that leads nowhere says so, offers the way back, and posts nothing', async ({ page }) => {
  await join(page, 'Lost');
  const posts: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/api/post_message')) posts.push(request.url());
  });
  await page.goto(`/?c=${crypto.randomUUID()}`);
  const deadEnd = page.getByTestId('unavailable');
  await expect(deadEnd).toBeVisible();
  await expect(deadEnd).toContainText('no such channel');
  await expect(page.getByTestId('channel-title')).toContainText('unavailable');
  await expect(page.getByTestId('composer')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Mute' })).toHaveCount(0);
  await expect(page.getByTestId('connection')).toHaveText('online');
  expect(posts).toEqual([]);

  await page.getByTestId('back-to-general').click();
  await expect(page.getByTestId('channel-title')).toContainText('general');
  await expect(deadEnd).toHaveCount(0);
  await say(page, unique('found my way back'));
});

test('an invite link that does not work says why, and can be dismissed', async ({ page }) => {
  await join(page, 'Invited');
  await page.goto(`/?space=${crypto.randomUUID()}&invite=NOSUCHCODE1`);
  const problem = page.getByTestId('problem');
  await expect(problem).toContainText('did not let you in');
  await problem.getByRole('button', { name: 'Dismiss' }).click();
  await expect(problem).toHaveCount(0);

  await page.goto('/?invite=half-a-link');
  await expect(problem).toContainText('incomplete');
  // The page still works behind it.
  await expect(page.getByTestId('connection')).toHaveText('online');
});

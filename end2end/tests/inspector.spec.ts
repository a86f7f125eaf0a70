// The event inspector in the browser: an admin browses the log, opens an event, sees the
// read models' position, and looks at the lobby as it was; others are refused.
import { expect } from '@playwright/test';
import { GENERAL, PASSWORD, join, say, test, unique } from './helpers';

test('an admin inspects the log and travels back in time; others cannot', async ({ page, newContext }) => {
  // The server's configuration names `e2e-admin` (playwright.config.ts).
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill('e2e-admin');
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('connection')).toHaveText('online');
  const words = unique('for the record');
  await say(page, words);
  const later = unique('said later');
  await say(page, later);

  await page.getByTestId('inspector-link').click();
  await expect(page.getByTestId('inspector')).toBeVisible();
  const rows = page.getByTestId('event-row');
  await expect(rows.first()).toBeVisible(); // loaded in the browser: the page is live
  await page.getByTestId('filter-type').fill('MessagePosted');
  await page.getByTestId('filter-apply').click();
  await expect(rows.first()).toContainText('MessagePosted');
  await rows.nth(1).click();
  await expect(page.getByTestId('event-payload')).toContainText(words);
  const position = (await rows.nth(1).locator('td').first().textContent())?.trim() ?? '';
  await expect(page.getByTestId('subscriber').first()).toContainText('read models');
  await expect(page.getByTestId('subscriber-lag').first()).toHaveText('0 behind');

  await page.getByTestId('travel-channel').fill(GENERAL);
  await page.getByTestId('travel-position').fill(position);
  await page.getByTestId('travel-go').click();
  const then = page.getByTestId('travel-message');
  await expect(then.last()).toContainText(words);
  await expect(page.getByTestId('travel-messages')).not.toContainText(later);

  const other = await (await newContext()).newPage();
  await join(other, 'Nosy');
  await expect(other.getByTestId('inspector-link')).toHaveCount(0);
  await other.goto('/admin');
  await expect(other.getByTestId('inspector-error')).toBeVisible();
});

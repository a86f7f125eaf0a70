import { test, expect } from '@playwright/test';
import { join, say } from './helpers';
for (const scheme of ['light', 'dark'] as const) {
  test(`screenshot ${scheme}`, async ({ browser }) => {
    const ctx = await browser.newContext({ colorScheme: scheme, viewport: scheme === 'dark' ? { width: 390, height: 700 } : { width: 1100, height: 650 } });
    const page = await ctx.newPage();
    await join(page, scheme === 'dark' ? 'Noor' : 'Ada');
    await say(page, 'Morning all! Did the deploy go out?');
    await say(page, 'Yes — shipped at 09:12.\nRollback plan is in the runbook.');
    await page.route('**/api/post_message', () => {});
    await say(page, 'This one is still sending…');
    await expect(page.getByTestId('message').last()).toHaveAttribute('data-state', 'pending');
    await page.screenshot({ path: `/tmp/shot-${scheme}.png` });
    await page.getByTestId('me').click();
    await page.screenshot({ path: `/tmp/shot-${scheme}-dialog.png` });
  });
}

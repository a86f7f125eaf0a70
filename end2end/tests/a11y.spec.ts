// The main views pass axe-core (run inside the page, under its Content-Security-Policy)
// with no serious or critical violation, every control at least 24 px and nothing wider
// than the screen, on a laptop and a phone, in light and dark: the
// sign-in dialog, a channel with messages and reactions, a thread, the account and space
// menus, search results, and the event log.
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import { asAdmin, join, message, say, unique, test } from './helpers';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** What axe-core finds serious or critical on the page as it is now, one line each. */
async function violations(page: Page): Promise<string[]> {
  // Evaluated by the test driver (not a <script> the page's policy would refuse).
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v: { id: string; impact: string; help: string; nodes: { target: string[] }[] }) =>
          `${v.impact} ${v.id}: ${v.help} — ${v.nodes
            .slice(0, 4)
            .map((n) => n.target.join(' '))
            .join(', ')}`,
      );
  });
  return found;
}

/** The controls on screen smaller than 24 × 24 px (links inside message text aside). */
async function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, summary, select, input, textarea, a, [role="menuitem"]')]
      .filter((el) => el.checkVisibility({ visibilityProperty: true, opacityProperty: false }))
      .filter((el) => !el.closest('.body, .snippet') && !el.classList.contains('skip'))
      .filter((el) => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && (box.height < 23.5 || box.width < 23.5);
      })
      .map((el) => {
        const box = el.getBoundingClientRect();
        return `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').trim().slice(0, 20)}" ${Math.round(box.width)}×${Math.round(box.height)}`;
      }),
  );
}

/** How far the page lays out wider than the screen, if it does (it should not). */
async function overflow(page: Page): Promise<string[]> {
  const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  return wider > 0 ? [`the page is ${wider} px wider than the screen`] : [];
}

/** axe's findings, the controls too small to hit, and sideways overflow, on the page as it is now. */
async function problems(page: Page): Promise<string[]> {
  return [...(await violations(page)), ...(await smallTargets(page)), ...(await overflow(page))];
}

for (const [label, viewport] of [
  ['laptop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test(`axe finds nothing serious on the main views (${label}, ${colorScheme})`, async ({ newContext }) => {
      const page = await (await newContext({ viewport, colorScheme })).newPage();
      await page.goto('/');
      await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
      await expect(page.getByTestId('auth-form')).toBeVisible();
      expect(await problems(page), 'sign-in').toEqual([]);

      await join(page, 'Axe');
      const text = unique('a message to check');
      await say(page, text);
      await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
      await message(page, text).locator('.body').click();
      await message(page, text).getByTestId('react').click();
      await page.getByTestId('picker').getByRole('menuitem').first().click();
      await expect(message(page, text).getByTestId('reaction')).toBeVisible();
      expect(await problems(page), 'channel').toEqual([]);
      await message(page, text).locator('.body').click();
      await message(page, text).getByTestId('react').click();
      await message(page, text).getByTestId('picker-more').click();
      await expect(page.getByTestId('emoji-option').first()).toBeVisible();
      expect(await problems(page), 'emoji picker').toEqual([]);
      await page.getByTestId('emoji-search').press('Escape');
      await message(page, text).locator('.body').click();
      await message(page, text).getByTestId('react').click();
      await expect(page.getByTestId('picker')).toHaveCount(0);

      await page.getByTestId('account').click();
      await expect(page.getByTestId('account-menu')).toBeVisible();
      expect(await problems(page), 'account menu').toEqual([]);
      await page.getByTestId('security').click();
      await expect(page.getByTestId('session')).toHaveCount(1);
      expect(await problems(page), 'sessions and password').toEqual([]);
      await page.keyboard.press('Escape');
      await page.getByTestId('account').click();
      await page.getByTestId('profile').click();
      await expect(page.getByTestId('profile-dialog')).toBeVisible();
      expect(await problems(page), 'profile').toEqual([]);
      await page.keyboard.press('Escape');
      await page.getByTestId('account').click();
      await page.getByTestId('export').click();
      await expect(page.getByTestId('export-dialog')).toBeVisible();
      expect(await problems(page), 'export').toEqual([]);
      await page.keyboard.press('Escape');
      // From the keyboard: on a phone the focused message's actions sit over the name's end.
      await message(page, text).getByTestId('author').focus();
      await page.keyboard.press('Enter');
      await expect(page.getByTestId('card-spaces')).toBeVisible();
      expect(await problems(page), 'user card').toEqual([]);
      await page.keyboard.press('Escape');

      await message(page, text).locator('.body').click();
      await message(page, text).getByTestId('reply').click();
      await expect(page.getByTestId('thread')).toBeVisible();
      expect(await problems(page), 'thread').toEqual([]);
      await page.getByTestId('close-thread').click();

      await page.getByTestId('search').fill('check');
      await page.getByTestId('search').press('Enter');
      await expect(page.getByTestId('search-hit').first()).toBeVisible();
      expect(await problems(page), 'search').toEqual([]);
    });
  }
}

test('axe finds nothing serious in a space and in the event log', async ({ newContext }) => {
  const page = await (await newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await asAdmin(page);
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(unique('Axe space'));
  await page.getByTestId('name-submit').click();
  await page.getByTestId('space-menu').first().locator('summary').click();
  expect(await problems(page), 'space menu').toEqual([]);
  await page.getByTestId('bots').click();
  await expect(page.getByTestId('bots-dialog')).toBeVisible();
  expect(await problems(page), 'bots and integrations').toEqual([]);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('bots-dialog')).toHaveCount(0);
  await page.goto('/admin');
  await expect(page.getByTestId('inspector')).toBeVisible();
  expect(await problems(page), 'event log').toEqual([]);
});

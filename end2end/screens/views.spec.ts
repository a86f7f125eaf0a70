// Pictures of the main views, to be looked at: on a laptop (1280×800) and a phone
// (390×844), light and dark. Run by `.ci/screenshots`; saved to end2end/artifacts/screens/.
import { expect, type Page } from '@playwright/test';
import { asAdmin, join, message, say, unique, test } from '../tests/helpers';

const DIR = `${__dirname}/../artifacts/screens`;

const devices = [
  ['laptop', { width: 1280, height: 800 }],
  ['phone', { width: 390, height: 844 }],
] as const;

async function shot(page: Page, name: string) {
  await page.waitForTimeout(150); // transitions settle
  await page.screenshot({ path: `${DIR}/${name}.png` });
}

for (const [device, viewport] of devices) {
  for (const colorScheme of ['light', 'dark'] as const) {
    test(`${device} ${colorScheme}`, async ({ newContext }) => {
      const tag = `${device}-${colorScheme}`;
      const context = await newContext({ viewport, colorScheme });
      const page = await context.newPage();
      await page.goto('/');
      await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
      await shot(page, `sign-in-${tag}`);
      await page.getByTestId('auth-forgot').click();
      await page.getByTestId('auth-username').fill('ada');
      await page.getByTestId('auth-submit').click();
      await expect(page.getByTestId('forgot-note')).toBeVisible();
      await shot(page, `forgot-${tag}`);
      // The page a password reset link opens (the secret is checked only when it is used).
      await page.goto('/?reset=example');
      await expect(page.getByTestId('reset-form')).toBeVisible();
      await shot(page, `reset-${tag}`);
      await page.goto('/');
      await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();

      const other = await (await newContext()).newPage();
      await join(other, 'Grace');
      await join(page, 'Ada');
      await say(other, 'Morning! Did the **release** go out?');
      await say(other, 'The changelog is in `docs/CHANGES.md`');
      await say(page, 'It did, at 9:40. Checks are green 🎉');
      await say(page, 'I will post the numbers in a thread');
      const root = 'Numbers for the release';
      await say(page, root);
      await expect(message(page, root).last()).toHaveAttribute('data-state', 'sent');
      await message(page, root).last().click({ position: { x: 80, y: 20 } });
      await message(page, root).last().getByTestId('react').click();
      await page.getByTestId('picker').getByRole('menuitem').first().click();
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await shot(page, `channel-${tag}`);
      await message(page, root).last().click({ position: { x: 80, y: 20 } });
      await message(page, root).last().getByTestId('react').click();
      await message(page, root).last().getByTestId('picker-more').click();
      await expect(page.getByTestId('emoji-option').first()).toBeVisible();
      await shot(page, `emoji-${tag}`);
      await page.getByTestId('emoji-search').press('Escape');
      await page.locator('body').click({ position: { x: 5, y: 5 } });

      await page.getByTestId('account').click();
      await shot(page, `account-menu-${tag}`);
      await page.getByTestId('security').click();
      await expect(page.getByTestId('session')).toHaveCount(1);
      await page.getByTestId('email-field').fill('ada@example.org');
      await page.getByTestId('email-save').click();
      await expect(page.getByTestId('email-state')).toContainText('Not confirmed');
      await shot(page, `sessions-${tag}`);
      await page.getByTestId('totp-begin').click();
      await expect(page.getByTestId('totp-qr')).toBeVisible();
      await page.getByTestId('totp-code').scrollIntoViewIfNeeded();
      await shot(page, `two-factor-${tag}`);
      await page.getByTestId('passkey-add').scrollIntoViewIfNeeded();
      await shot(page, `passkeys-${tag}`);
      await page.getByTestId('delete-account').scrollIntoViewIfNeeded();
      await shot(page, `delete-account-${tag}`);
      await page.keyboard.press('Escape');
      await page.getByTestId('account').click();
      await page.getByTestId('export').click();
      await expect(page.getByTestId('export-dialog')).toBeVisible();
      await shot(page, `export-${tag}`);
      await page.keyboard.press('Escape');
      await page.getByTestId('account').click();
      await page.getByTestId('profile').click();
      await page.getByTestId('display-name').fill('Ada Lovelace');
      await page.getByTestId('status-emoji-field').fill('🧮');
      await page.getByTestId('status-text').fill('computing Bernoulli numbers');
      await page.getByTestId('profile-save').click();
      await expect(page.getByTestId('profile-note')).toHaveText('Saved');
      await shot(page, `profile-${tag}`);
      // Cutting a picture by hand (a landscape drawn by the browser).
      const landscape = await page.evaluate(() => {
        const canvas = document.createElement('canvas');
        canvas.width = 480;
        canvas.height = 320;
        const context = canvas.getContext('2d')!;
        const sky = context.createLinearGradient(0, 0, 0, 320);
        sky.addColorStop(0, '#7ab8f5');
        sky.addColorStop(1, '#f7d9a8');
        context.fillStyle = sky;
        context.fillRect(0, 0, 480, 320);
        context.fillStyle = '#f2b233';
        context.beginPath();
        context.arc(330, 120, 48, 0, Math.PI * 2);
        context.fill();
        context.fillStyle = '#3d7a4f';
        context.fillRect(0, 230, 480, 90);
        return canvas.toDataURL('image/png').split(',')[1];
      });
      await page.getByTestId('picture-file').setInputFiles({
        name: 'landscape.png',
        mimeType: 'image/png',
        buffer: Buffer.from(landscape, 'base64'),
      });
      await page.getByTestId('crop-stage').focus();
      await page.keyboard.press('+');
      await shot(page, `crop-${tag}`);
      await page.getByTestId('crop-cancel').click();
      await page.keyboard.press('Escape');
      await page.getByTestId('author').last().click();
      await expect(page.getByTestId('card-spaces')).toBeVisible();
      await shot(page, `card-${tag}`);
      await page.keyboard.press('Escape');

      await message(page, root).last().click({ position: { x: 80, y: 20 } });
      await message(page, root).last().getByTestId('reply').click();
      await page.getByTestId('thread-composer').fill('p50 4.1 ms, p99 17 ms');
      await page.getByTestId('thread-composer').press('Enter');
      await shot(page, `thread-${tag}`);
      await page.getByTestId('close-thread').click();

      await page.getByTestId('search').fill('release');
      await page.getByTestId('search').press('Enter');
      await expect(page.getByTestId('search-hit').first()).toBeVisible();
      await shot(page, `search-${tag}`);
      await page.getByTestId('search').press('Escape');

      // On a phone the sidebar is a drawer, opened from the header.
      const sidebar = async () => {
        if (device === 'phone') {
          await page.getByTestId('open-sidebar').click();
          await page.waitForTimeout(250); // slid in
        }
      };
      await sidebar();
      if (device === 'phone') await shot(page, `drawer-${tag}`);
      await page.getByTestId('new-space').click();
      await page.getByTestId('name-field').fill(unique('Design team'));
      await page.getByTestId('name-submit').click();
      await expect(page.getByTestId('channel-intro')).toBeVisible();
      await shot(page, `new-channel-${tag}`);
      await sidebar();
      await page.getByTestId('space-menu').first().locator('summary').click();
      await shot(page, `space-menu-${tag}`);

      await page.goto('/?c=00000000-0000-7000-8000-00000000dead');
      await expect(page.getByTestId('unavailable')).toBeVisible();
      await shot(page, `unavailable-${tag}`);

      const admin = await (await newContext({ viewport, colorScheme })).newPage();
      await asAdmin(admin);
      await admin.goto('/admin');
      await expect(admin.getByTestId('inspector')).toBeVisible();
      await shot(admin, `event-log-${tag}`);
    });
  }
}

// The admin page's accounts: an instance admin finds an account, disables it (that
// person's open page is signed out at once, and signing in says why), and enables it again.
import { expect } from '@playwright/test';
import { asAdmin, join, signIn, test } from './helpers';

test('an admin disables an account from the admin page: its browser is signed out and told why; enabled, it signs in', async ({
  newContext,
}) => {
  const user = await (await newContext()).newPage();
  const name = await join(user, 'Unruly');

  const admin = await (await newContext()).newPage();
  await asAdmin(admin);
  await admin.goto('/admin');
  const panel = admin.getByTestId('accounts');
  await panel.getByTestId('account-search').fill(name);
  await panel.getByTestId('account-search').press('Enter');
  const row = panel.locator(`[data-testid="account-row"][data-username="${name}"]`);
  await expect(row).toHaveCount(1);
  await expect(panel.getByTestId('account-row')).toHaveCount(1);
  await expect(row.getByTestId('account-state')).toHaveText('active');
  await row.getByTestId('account-disable').click();
  await expect(panel.getByTestId('accounts-note')).toContainText('disabled; its sessions have ended');
  await expect(row.getByTestId('account-state')).toHaveText('disabled');

  // The person's page finds out at once, and signing in again is refused with the reason.
  await user.bringToFront();
  await expect(user.getByTestId('auth-form')).toBeVisible({ timeout: 15_000 });
  await signIn(user, name);
  await expect(user.getByTestId('auth-error')).toContainText('this account is disabled');

  await admin.bringToFront();
  await row.getByTestId('account-enable').click();
  await expect(row.getByTestId('account-state')).toHaveText('active');
  await user.bringToFront();
  await signIn(user, name);
  await expect(user.getByTestId('connection')).toHaveText('online');

  // An admin cannot disable themselves: the list says so.
  await admin.bringToFront();
  await panel.getByTestId('account-search').fill('e2e-admin');
  await panel.getByTestId('account-find').click();
  const own = panel.locator('[data-testid="account-row"][data-username="e2e-admin"]');
  await own.getByTestId('account-disable').click();
  await expect(panel.getByRole('alert')).toContainText('their own account');
});

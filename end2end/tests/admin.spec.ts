// The admin page's accounts: an instance admin finds an account, disables it (that
// person's open page is signed out at once, and signing in says why), enables it again,
// and deletes one.
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

test('someone who forgot their password gets a link from an admin, sets a new one on its page, and is signed in', async ({
  newContext,
}) => {
  const laptop = await (await newContext()).newPage();
  const name = await join(laptop, 'Forgetful');

  const admin = await (await newContext()).newPage();
  await asAdmin(admin);
  await admin.goto('/admin');
  const panel = admin.getByTestId('accounts');
  await panel.getByTestId('account-search').fill(name);
  await panel.getByTestId('account-find').click();
  await panel.locator(`[data-testid="account-row"][data-username="${name}"]`).getByTestId('account-reset').click();
  const link = await panel.getByTestId('reset-link').inputValue();
  expect(link).toContain('/?reset=');

  // On a new phone: the link's page asks for the new password twice, then signs in.
  const phone = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await phone.goto(link);
  const form = phone.getByTestId('reset-form');
  await expect(form).toBeVisible();
  await expect(phone.getByTestId('auth-form')).toHaveCount(0);
  await form.getByTestId('reset-password').fill('a fresh start');
  await form.getByTestId('reset-again').fill('a fresh stort');
  await form.getByTestId('reset-again').press('Enter');
  await expect(form.getByTestId('reset-error')).toContainText('differ');
  await form.getByTestId('reset-again').fill('a fresh start');
  await form.getByTestId('reset-again').press('Enter');
  await expect(phone.getByTestId('me')).toHaveText(name);
  await expect(phone.getByTestId('connection')).toHaveText('online');
  await expect(form).toBeHidden();
  expect(new URL(phone.url()).search).toBe('');

  // The laptop's session ended with it; the link does not work twice.
  await laptop.bringToFront();
  await expect(laptop.getByTestId('auth-form')).toBeVisible({ timeout: 15_000 });
  const again = await (await newContext()).newPage();
  await again.goto(link);
  await again.getByTestId('reset-password').fill('another start');
  await again.getByTestId('reset-again').fill('another start');
  await again.getByTestId('reset-submit').click();
  await expect(again.getByTestId('reset-error')).toContainText('does not work');
});

test('an admin deletes an account after confirming: it leaves the list, its page is signed out, its name is taken for good', async ({
  newContext,
}) => {
  const user = await (await newContext()).newPage();
  const name = await join(user, 'Departed');
  const admin = await (await newContext()).newPage();
  await asAdmin(admin);
  await admin.goto('/admin');
  const panel = admin.getByTestId('accounts');
  await panel.getByTestId('account-search').fill(name);
  await panel.getByTestId('account-search').press('Enter');
  const row = panel.locator(`[data-testid="account-row"][data-username="${name}"]`);
  await expect(row).toHaveCount(1);

  // Declined first: nothing happens.
  admin.once('dialog', (dialog) => dialog.dismiss());
  await row.getByTestId('account-delete').click();
  await expect(row).toHaveCount(1);
  admin.once('dialog', (dialog) => {
    expect(dialog.message()).toContain(`Delete the account ${name} for good?`);
    return dialog.accept();
  });
  await row.getByTestId('account-delete').click();
  await expect(panel.getByTestId('accounts-note')).toHaveText(`${name}: deleted`);
  await expect(row).toHaveCount(0);

  await user.bringToFront();
  await expect(user.getByTestId('auth-form')).toBeVisible({ timeout: 15_000 });
  await user.getByTestId('auth-switch').click();
  await user.getByTestId('auth-username').fill(name);
  await user.getByTestId('auth-password').fill('another password');
  await user.getByTestId('auth-submit').click();
  await expect(user.getByTestId('auth-error')).toContainText('taken');
});

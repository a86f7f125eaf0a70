// Your account's security, in the "Sessions and password" dialog: where you are signed in
// (ending one session closes it in that browser), a password change that asks for the
// current password first, and deleting the account; and exporting your data.
import { expect } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PASSWORD, accountItem, join, message, say, signIn, test, unique } from './helpers';

test('a password is changed from the keyboard alone: the current one is checked, then only the new one signs in', async ({
  page,
}) => {
  const name = await join(page, 'Rekey');
  // The menu's second item, from the keyboard.
  await page.getByTestId('account').focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('security')).toBeFocused();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('security-dialog');
  await expect(dialog).toBeVisible();
  const sessions = dialog.getByTestId('session');
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toHaveAttribute('data-current', 'true');
  await expect(sessions.first()).toContainText('this browser');
  await expect(dialog.getByTestId('sign-out-others')).toBeDisabled();

  // A wrong current password, then a repetition that differs: refused, with the reason.
  await dialog.getByTestId('current-password').fill('not the password');
  await dialog.getByTestId('new-password').fill('a brand new password');
  await dialog.getByTestId('repeat-password').fill('a brand new password');
  await dialog.getByTestId('repeat-password').press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('current password is not right');
  await dialog.getByTestId('current-password').fill(PASSWORD);
  await dialog.getByTestId('repeat-password').fill('a brand new passwort');
  await dialog.getByTestId('repeat-password').press('Enter');
  await expect(dialog.getByRole('alert')).toContainText('differ');

  await dialog.getByTestId('repeat-password').fill('a brand new password');
  await dialog.getByTestId('repeat-password').press('Enter');
  await expect(dialog.getByTestId('security-note')).toHaveText('Password changed');
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await expect(dialog.getByTestId('current-password')).toHaveValue('');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('account')).toBeFocused();

  // Signed out, the old password is refused and the new one lets the account in.
  await (await accountItem(page, 'sign-out')).click();
  await signIn(page, name);
  await expect(page.getByTestId('auth-form').getByRole('alert')).toContainText('wrong username or password');
  await signIn(page, name, 'a brand new password');
  await expect(page.getByTestId('me')).toHaveText(name);
});

test('one session is signed out from the list of sessions, and that browser finds itself signed out', async ({
  newContext,
}) => {
  const laptop = await (await newContext()).newPage();
  const name = await join(laptop, 'Listed');
  const phone = await (await newContext({ viewport: { width: 390, height: 800 } })).newPage();
  await phone.goto('/');
  await expect(phone.locator('main[data-hydrated="true"]')).toBeVisible();
  await signIn(phone, name);
  await expect(phone.getByTestId('connection')).toHaveText('online');

  await laptop.bringToFront();
  await (await accountItem(laptop, 'security')).click();
  const dialog = laptop.getByTestId('security-dialog');
  const sessions = dialog.getByTestId('session');
  await expect(sessions).toHaveCount(2);
  const other = sessions.and(laptop.locator('[data-current="false"]'));
  await expect(other).toContainText('Linux');
  await other.getByTestId('end-session').click();
  await expect(dialog.getByTestId('security-note')).toHaveText('Signed out that session');
  await expect(sessions).toHaveCount(1);

  // The phone's socket is closed and its next request refused: it asks to sign in.
  await phone.bringToFront();
  await expect(phone.getByTestId('auth-form')).toBeVisible({ timeout: 15_000 });
  // The laptop is still in.
  await laptop.bringToFront();
  await expect(laptop.getByTestId('connection')).toHaveText('online');
});

test('an account deleted from its dialog is signed out, its name leaves every open tab at once, and it cannot sign in again', async ({
  newContext,
}) => {
  const zelda = await (await newContext()).newPage();
  const name = await join(zelda, 'Leaving');
  const words = unique('my last words here');
  await say(zelda, words);
  await expect(message(zelda, words)).toHaveAttribute('data-state', 'sent');

  const bob = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await join(bob, 'Staying');
  await expect(message(bob, words).getByTestId('author')).toHaveText(name);

  await zelda.bringToFront();
  await (await accountItem(zelda, 'security')).click();
  const dialog = zelda.getByTestId('security-dialog');
  const form = dialog.getByTestId('delete-account-form');
  // A wrong password is refused after the confirmation, and nothing changes.
  await form.getByTestId('delete-password').fill('not my password');
  await form.getByTestId('delete-account').click();
  await expect(form.getByTestId('delete-warning')).toContainText('cannot be undone');
  await form.getByTestId('delete-account').click();
  await expect(form.getByRole('alert')).toContainText('password is not right');
  await expect(zelda.getByTestId('me')).toHaveText(name);

  // The keyboard alone: the password, Enter to be warned, Enter again to delete.
  await form.getByTestId('delete-password').fill(PASSWORD);
  await form.getByTestId('delete-password').press('Enter');
  await expect(form.getByTestId('delete-warning')).toBeVisible();
  await form.getByTestId('delete-password').press('Enter');
  await expect(zelda.getByTestId('auth-form')).toBeVisible();

  // Bob's tab forgets her name at once; her words stay, as a deleted user's.
  const author = message(bob, words).getByTestId('author');
  await expect(author).toHaveText('Deleted user');
  await expect(bob.getByTestId('messages')).not.toContainText(name);
  await bob.reload();
  await expect(bob.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(message(bob, words).getByTestId('author')).toHaveText('Deleted user');

  await signIn(zelda, name);
  await expect(zelda.getByTestId('auth-form').getByRole('alert')).toContainText('wrong username or password');
});

test('my data is exported as a zip archive from the account menu, with what I wrote in it', async ({ page }) => {
  const name = await join(page, 'Exporter');
  const words = unique('words worth keeping');
  await say(page, words);
  await expect(message(page, words)).toHaveAttribute('data-state', 'sent');
  await (await accountItem(page, 'export')).click();
  const dialog = page.getByTestId('export-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('export-start')).toBeFocused();
  const download = page.waitForEvent('download');
  await page.keyboard.press('Enter');
  const file = await download;
  expect(file.suggestedFilename()).toMatch(new RegExp(`^parley-${name}-\\d{4}-\\d{2}-\\d{2}\\.zip$`));
  const path = await file.path();
  const bytes = readFileSync(path);
  expect(bytes.subarray(0, 2).toString()).toBe('PK');
  // The messages file is stored deflated: its words are not readable in the raw bytes,
  // but the entry names are.
  expect(bytes.includes(Buffer.from('messages.jsonl'))).toBe(true);
  await expect(dialog.getByTestId('export-note')).toContainText('Downloaded');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

/** The code an authenticator app shows for a base32 `secret` at `at` (Unix seconds): RFC 6238. */
function totp(secret: string, at = Date.now() / 1000): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) key.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return ((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
}

test('two-factor sign-in: an authenticator app is enrolled by its QR code and a first code, then signing in asks for a code', async ({
  page,
}) => {
  const name = await join(page, 'Twofa');
  await (await accountItem(page, 'security')).click();
  const section = page.getByTestId('security-dialog').getByTestId('two-factor');
  await expect(section.getByTestId('totp-state')).toContainText('Off');
  await section.getByTestId('totp-begin').click();
  await expect(section.getByTestId('totp-qr')).toBeVisible();
  const secret = (await section.getByTestId('totp-secret').textContent()) ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  const enrolledAt = Date.now() / 1000;
  await section.getByTestId('totp-code').fill(totp(secret, enrolledAt));
  await section.getByTestId('totp-code').press('Enter');
  const codes = section.getByTestId('recovery-codes').locator('li');
  await expect(codes).toHaveCount(10);
  await expect(codes.first()).toHaveText(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
  await section.getByTestId('recovery-done').click();
  await expect(section.getByTestId('totp-state')).toContainText('On');
  await expect(section.getByTestId('totp-state')).toContainText('10 recovery codes left');
  await page.keyboard.press('Escape');

  await (await accountItem(page, 'sign-out')).click();
  await signIn(page, name);
  const code = page.getByTestId('auth-code');
  await expect(code).toBeFocused();
  await expect(page.getByTestId('auth-error')).toHaveCount(0);
  // The next step's code: the one used to enroll works no more.
  await code.fill(totp(secret, enrolledAt + 30));
  await code.press('Enter');
  await expect(page.getByTestId('me')).toHaveText(name);
});

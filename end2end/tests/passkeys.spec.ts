// Passkeys, with Chromium's virtual authenticator (DevTools protocol): one is added from the
// security dialog (the password asked first), signs in alone with no username typed, stands
// as the second factor of a password sign-in, and once removed the password alone works again.
import { expect, type Page } from '@playwright/test';
import { appPort } from '../ports';
import { PASSWORD, accountItem, join, signIn, test } from './helpers';

// Browsers make passkeys for a site's name, never for an IP address: the same server, by
// the name `localhost` (loopback still).
test.use({ baseURL: `http://localhost:${appPort}` });

/** A platform authenticator (like a laptop's fingerprint reader) that always verifies the user. */
async function authenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return { credentials };
}

async function securitySection(page: Page) {
  await (await accountItem(page, 'security')).click();
  return page.getByTestId('security-dialog').getByTestId('passkeys');
}

test('a passkey is added with the password, signs in alone, stands as the second factor, and is removed', async ({
  page,
}) => {
  const device = await authenticator(page);
  const name = await join(page, 'Passkey');
  let section = await securitySection(page);
  await expect(section.getByTestId('passkey-none')).toBeVisible();

  // A wrong password makes nothing.
  await section.getByTestId('passkey-name').fill('Test laptop');
  await section.getByTestId('passkey-password').fill('not the password');
  await section.getByTestId('passkey-add').click();
  await expect(section.getByTestId('passkey-error')).toContainText('password is not right');
  expect(await device.credentials()).toHaveLength(0);

  await section.getByTestId('passkey-password').fill(PASSWORD);
  await section.getByTestId('passkey-password').press('Enter');
  await expect(section.getByTestId('passkey-note')).toContainText('Added “Test laptop”');
  await expect(section.getByTestId('passkey')).toHaveCount(1);
  await expect(section.getByTestId('passkey')).toContainText('never used yet');
  const made = await device.credentials();
  expect(made).toHaveLength(1);
  expect(made[0].isResidentCredential).toBe(true);
  await page.keyboard.press('Escape');

  // Signed out, the passkey signs in with no username or password typed.
  await (await accountItem(page, 'sign-out')).click();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  await page.getByTestId('auth-passkey').click();
  await expect(page.getByTestId('me')).toHaveText(name);
  expect((await device.credentials())[0].signCount).toBeGreaterThan(0);
  section = await securitySection(page);
  await expect(section.getByTestId('passkey')).toContainText('last used');
  // The authenticator-app section says what a password sign-in now asks for.
  await expect(page.getByTestId('security-dialog').getByTestId('totp-state')).toContainText('passkeys');
  await page.keyboard.press('Escape');

  // The right password alone is not enough any more: the passkey finishes the sign-in.
  await (await accountItem(page, 'sign-out')).click();
  await signIn(page, name);
  await expect(page.getByTestId('auth-code')).toBeVisible();
  await expect(page.getByTestId('me')).toHaveCount(0);
  await page.getByTestId('auth-passkey').click();
  await expect(page.getByTestId('me')).toHaveText(name);

  // Removed (the password asked again), the password alone signs in.
  section = await securitySection(page);
  await section.getByTestId('passkey-remove').click();
  await expect(section.getByTestId('passkey-error')).toContainText('enter your password');
  await section.getByTestId('passkey-password').fill(PASSWORD);
  await section.getByTestId('passkey-remove').click();
  await expect(section.getByTestId('passkey-note')).toContainText('Removed “Test laptop”');
  await expect(section.getByTestId('passkey-none')).toBeVisible();
  await page.keyboard.press('Escape');
  await (await accountItem(page, 'sign-out')).click();
  await signIn(page, name);
  await expect(page.getByTestId('me')).toHaveText(name);

  // The device still holds the removed passkey: the server no longer takes it.
  await (await accountItem(page, 'sign-out')).click();
  await page.getByTestId('auth-passkey').click();
  await expect(page.getByTestId('auth-error')).toContainText('not accepted');
  await expect(page.getByTestId('me')).toHaveCount(0);
});

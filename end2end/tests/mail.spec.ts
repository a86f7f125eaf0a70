// Mail: an email address set in the security dialog is confirmed by the link mailed to
// it, and "Forgot your password?" on the sign-in form mails a reset link to it. The mail
// server is a small SMTP receiver on loopback that this test starts.
import { expect } from '@playwright/test';
import { type Server, type Socket, createServer } from 'node:net';
import { smtpPort } from '../ports';
import { accountItem, join, signIn, test } from './helpers';

/** Just enough SMTP for the server's client: keeps each message's text. */
function receiver(): { server: Server; mails: string[] } {
  const mails: string[] = [];
  const server = createServer((socket: Socket) => {
    let buffer = '';
    let data: string | null = null;
    socket.write('220 localhost test receiver\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            mails.push(data);
            data = null;
            socket.write('250 OK\r\n');
          } else data += line + '\n';
          continue;
        }
        const command = line.toUpperCase();
        if (command === 'DATA') {
          data = '';
          socket.write('354 go ahead\r\n');
        } else if (command === 'QUIT') {
          socket.end('221 bye\r\n');
        } else socket.write(command.startsWith('EHLO') || command.startsWith('HELO') ? '250 localhost\r\n' : '250 OK\r\n');
      }
    });
  });
  server.listen(smtpPort, '127.0.0.1');
  return { server, mails };
}

/** The link in a mail (quoted-printable undone). */
function linkIn(mail: string): string {
  const text = mail.replace(/=\n/g, '').replace(/=3D/g, '=');
  const link = text.split(/\s+/).find((w) => w.startsWith('http'));
  if (!link) throw new Error(`no link in ${text}`);
  return link;
}

test('an email address is confirmed by its link, then a forgotten password is reset by mail', async ({ page }) => {
  const { server, mails } = receiver();
  try {
    const name = await join(page, 'Mailer');
    await (await accountItem(page, 'security')).click();
    const section = page.getByTestId('security-dialog').getByTestId('email-section');
    await expect(section.getByTestId('email-state')).toContainText('None yet');
    await section.getByTestId('email-field').fill(`${name}@example.org`);
    await section.getByTestId('email-field').press('Enter');
    await expect(section.getByTestId('email-state')).toContainText('Not confirmed yet');
    await expect.poll(() => mails.length).toBe(1);
    const confirm = linkIn(mails[0]);
    expect(confirm).toContain('/?verify-email=');
    await page.keyboard.press('Escape');

    await page.goto(confirm);
    await expect(page.getByTestId('email-confirmed')).toContainText('is confirmed');
    await expect(page).toHaveURL(/\/$/);

    // Signed out, the password forgotten: a reset link by mail.
    await (await accountItem(page, 'sign-out')).click();
    await expect(page.getByTestId('auth-form')).toBeVisible();
    await page.getByTestId('auth-forgot').click();
    await expect(page.getByTestId('auth-password')).toHaveCount(0);
    await page.getByTestId('auth-username').fill(name);
    await page.getByTestId('auth-submit').click();
    await expect(page.getByTestId('forgot-note')).toContainText('on its way');
    await expect.poll(() => mails.length).toBe(2);
    const reset = linkIn(mails[1]);
    expect(reset).toContain('/?reset=');
    await page.goto(reset);
    await page.getByTestId('reset-password').fill('a password by mail');
    await page.getByTestId('reset-again').fill('a password by mail');
    await page.getByTestId('reset-submit').click();
    await expect(page.getByTestId('me')).toHaveText(name);

    await (await accountItem(page, 'sign-out')).click();
    await signIn(page, name, 'a password by mail');
    await expect(page.getByTestId('me')).toHaveText(name);
  } finally {
    server.close();
  }
});

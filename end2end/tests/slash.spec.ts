// Slash commands in the composer: offered as you type `/` with their help, completed with Tab,
// and carried out — /shrug and /me post, /topic sets the topic, /mute mutes, /invite adds
// someone to a private channel, /leave leaves it, /help lists them; a wrong one says why and
// keeps the text. A space's own command calls its URL and answers as it says.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from '@playwright/test';
import { join, message, spaceWithTwo, test, unique } from './helpers';

test('slash commands are offered, completed and carried out', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const spaceName = unique('Slash');
  await spaceWithTwo(ada, bob, spaceName);
  const composer = ada.getByTestId('composer');

  // Offered with their help as `/` is typed; Tab completes the first.
  await composer.fill('/');
  const offered = ada.getByTestId('command-suggestions').getByRole('option');
  await expect(offered).toHaveCount(7);
  await expect(offered.first()).toContainText('/me');
  await composer.fill('/sh');
  await expect(offered).toHaveCount(1);
  await composer.press('Tab');
  await expect(composer).toHaveValue('/shrug ');
  const shrugged = unique('no idea');
  await composer.pressSequentially(shrugged);
  await composer.press('Enter');
  await expect(message(ada, shrugged)).toContainText(`${shrugged} ¯\\_(ツ)_/¯`);

  const waves = unique('waves');
  await composer.fill(`/me ${waves}`);
  await composer.press('Enter');
  await expect(message(ada, waves).locator('em')).toHaveText(waves);

  // A wrong command says why, posts nothing and keeps the text.
  await composer.fill('/frobnicate now');
  await composer.press('Enter');
  await expect(ada.getByTestId('composer-error')).toContainText('no command /frobnicate');
  await expect(composer).toHaveValue('/frobnicate now');
  await expect(message(ada, 'frobnicate')).toHaveCount(0);

  const topic = unique('Q3 planning');
  await composer.fill(`/topic ${topic}`);
  await composer.press('Enter');
  await expect(ada.getByTestId('channel-topic')).toContainText(topic);
  await expect(composer).toHaveValue('');

  await composer.fill('/mute');
  await composer.press('Enter');
  await expect(ada.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
  await expect(ada.getByTestId('command-done')).toHaveText('Muted this channel.');

  await composer.fill('/help');
  await composer.press('Enter');
  await expect(ada.getByTestId('command-help')).toContainText('/invite');
  await ada.getByTestId('command-help').getByRole('button', { name: 'Close' }).click();
  await expect(ada.getByTestId('command-help')).toHaveCount(0);

  // /invite in a private channel adds Bob; /leave takes Ada out of it.
  const space = ada.getByTestId('space').filter({ hasText: spaceName });
  await space.getByTestId('new-channel').click();
  await ada.getByTestId('name-field').fill('plans');
  await ada.getByTestId('channel-private').check();
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText('plans');
  // As typed: once the name is offered, its completion takes the first Enter, the second sends.
  await composer.fill(`/invite @${bobName.slice(0, -2)}`);
  await expect(ada.getByTestId('mention-suggestions')).toContainText(bobName);
  await composer.press('Enter');
  await expect(composer).toHaveValue(`/invite @${bobName} `);
  await composer.press('Enter');
  await expect(ada.getByTestId('command-done')).toHaveText(`Added @${bobName} to this channel.`);
  await bob.reload();
  await expect(bob.getByTestId('channel-link').filter({ hasText: 'plans' })).toHaveCount(1);
  await composer.fill('/leave');
  await composer.press('Enter');
  await expect(space.getByTestId('channel-link').filter({ hasText: 'plans' })).toHaveCount(0);
});

test("a space's own command answers from its URL, for the channel or for the caller alone", async ({ newContext }) => {
  // The command's server, on loopback: /weather answers for the channel, /whisper for the
  // caller alone. It checks nothing but what it was sent (the API tests check signatures).
  const heard: { command: string; text: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const sent = JSON.parse(body);
      heard.push({ command: sent.command, text: sent.text });
      response.setHeader('content-type', 'application/json');
      response.end(
        request.url === '/weather'
          ? JSON.stringify({ text: `sunny in ${sent.text}`, response_type: 'in_channel' })
          : JSON.stringify({ text: 'just for you' }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const ada = await (await newContext()).newPage();
    await join(ada, 'Ada');
    const spaceName = unique('Commands');
    await ada.getByTestId('new-space').click();
    await ada.getByTestId('name-field').fill(spaceName);
    await ada.getByTestId('name-submit').click();
    await expect(ada.getByTestId('channel-title')).toContainText(spaceName);
    await ada.getByTestId('space').filter({ hasText: spaceName }).getByTestId('space-menu').locator('summary').click();
    await ada.getByTestId('bots').click();
    const dialog = ada.getByTestId('bots-dialog');
    for (const name of ['weather', 'whisper']) {
      await dialog.getByTestId('command-name').fill(name);
      await dialog.getByTestId('command-url').fill(`http://127.0.0.1:${port}/${name}`);
      await dialog.getByTestId('command-create').click();
      await expect(dialog.getByTestId('bot').filter({ hasText: `slash command /${name}` })).toHaveCount(1);
      await expect(dialog.getByTestId('bot-secret')).toHaveValue(/^cmdsec_/);
    }
    await dialog.getByRole('button', { name: 'Close' }).click();

    const composer = ada.getByTestId('composer');
    await composer.click();
    await composer.fill('/wea');
    await expect(ada.getByTestId('command-suggestions')).toContainText("This space's own command");
    await composer.press('Tab');
    await expect(composer).toHaveValue('/weather ');
    const city = unique('Paris');
    await composer.pressSequentially(city);
    await composer.press('Enter');
    const answer = message(ada, `sunny in ${city}`);
    await expect(answer).toBeVisible();
    await expect(answer.getByTestId('author')).toHaveText('/weather');
    await expect(answer.getByTestId('bot-badge')).toBeVisible();
    expect(heard[0]).toEqual({ command: '/weather', text: city });

    await composer.fill('/whisper');
    await composer.press('Enter');
    await expect(ada.getByTestId('command-done')).toHaveText('Only you see this — /whisper: just for you');
    await expect(message(ada, 'just for you')).toHaveCount(0);
  } finally {
    server.close();
  }
});

// Slash commands in the composer: offered as you type `/` with their help, completed with Tab,
// and carried out — /shrug and /me post, /topic sets the topic, /mute mutes, /invite adds
// someone to a private channel, /leave leaves it, /help lists them; a wrong one says why and
// keeps the text.
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
  // As typed: the name's completion takes the first Enter, the second sends.
  await composer.fill(`/invite @${bobName.slice(0, -2)}`);
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

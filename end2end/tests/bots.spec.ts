// Bots and incoming webhooks in the browser: a space admin adds an incoming webhook to a
// channel, a tool posts to its address and the message appears live under the webhook's
// name, marked as a bot; a new address ends the old one; a bot made in the same dialog gets
// a token that posts through the REST API; the example bot (end2end/examples) answers.
import { spawn } from 'node:child_process';
import { join as joinPath } from 'node:path';
import { expect } from '@playwright/test';
import { join, message, say, test, unique } from './helpers';

test('an incoming webhook posts live under its name, marked as a bot', async ({ newContext, baseURL }) => {
  const ada = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const spaceName = unique('Hooks');
  await ada.getByTestId('new-space').click();
  await ada.getByTestId('name-field').fill(spaceName);
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText(spaceName);
  const space = ada.getByTestId('space').filter({ hasText: spaceName });

  await space.getByTestId('space-menu').locator('summary').click();
  await ada.getByTestId('bots').click();
  const dialog = ada.getByTestId('bots-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('hook-name').fill('CI');
  await dialog.getByTestId('hook-create').click();
  await expect(dialog.getByTestId('bot')).toHaveCount(1);
  await expect(dialog.getByTestId('bot')).toContainText('incoming webhook → #general');
  const address = await dialog.getByTestId('bot-secret').inputValue();
  expect(address).toMatch(new RegExp(`^${baseURL}/api/v1/hooks/`));

  // A tool posts Slack's shape to it: the open page shows it at once, as the bot's.
  const words = unique('Build passed');
  const posted = await ada.request.post(address, { data: { text: words } });
  expect(posted.status()).toBe(201);
  const line = message(ada, words);
  await expect(line).toBeVisible();
  await expect(line.getByTestId('author')).toHaveText('CI');
  await expect(line.getByTestId('bot-badge')).toHaveText('bot');

  // A new address: the old one is refused, the new one posts.
  await dialog.getByTestId('bot-rotate').click();
  await expect(dialog.getByTestId('bot-secret')).not.toHaveValue(address);
  const renewed = await dialog.getByTestId('bot-secret').inputValue();
  expect((await ada.request.post(address, { data: { text: 'old address' } })).status()).toBe(404);
  expect((await ada.request.post(renewed, { data: { content: 'new address' } })).status()).toBe(201);
  await expect(message(ada, 'new address')).toBeVisible();

  // A bot: its token posts through the REST API.
  const botName = unique('deploy').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
  await dialog.getByTestId('bot-username').fill(botName);
  await dialog.getByTestId('bot-name').fill('Deploy');
  await dialog.getByTestId('bot-create').click();
  await expect(dialog.getByTestId('bot')).toHaveCount(2);
  const token = await dialog.getByTestId('bot-secret').inputValue();
  expect(token).toMatch(/^pt_/);
  const channels = await ada.request.get('/api/v1/channels', { headers: { authorization: `Bearer ${token}` } });
  expect(channels.status()).toBe(200);
  const general = (await channels.json()).find((c: { name: string }) => c.name === 'general');
  const shipped = unique('v1.2 shipped');
  const sent = await ada.request.post(`/api/v1/channels/${general.channel_id}/messages`, {
    headers: { authorization: `Bearer ${token}` },
    data: { body: shipped },
  });
  expect(sent.status()).toBe(201);
  await expect(message(ada, shipped).getByTestId('author')).toHaveText('Deploy');

  // Deleted: its address is refused.
  ada.once('dialog', (d) => d.accept());
  await dialog.getByTestId('bot').filter({ hasText: 'CI' }).getByTestId('bot-delete').click();
  await expect(dialog.getByTestId('bot')).toHaveCount(1);
  expect((await ada.request.post(renewed, { data: { text: 'gone?' } })).status()).toBe(404);
});

test('the example bot answers in its space', async ({ newContext, baseURL }) => {
  const ada = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const spaceName = unique('Bot space');
  await ada.getByTestId('new-space').click();
  await ada.getByTestId('name-field').fill(spaceName);
  await ada.getByTestId('name-submit').click();
  await expect(ada.getByTestId('channel-title')).toContainText(spaceName);
  await ada.getByTestId('space').filter({ hasText: spaceName }).getByTestId('space-menu').locator('summary').click();
  await ada.getByTestId('bots').click();
  const dialog = ada.getByTestId('bots-dialog');
  const botName = `echo-${Date.now().toString(36)}`;
  await dialog.getByTestId('bot-username').fill(botName);
  await dialog.getByTestId('bot-name').fill('Echo');
  await dialog.getByTestId('bot-create').click();
  const token = await dialog.getByTestId('bot-secret').inputValue();
  await dialog.getByRole('button', { name: 'Close' }).click();

  // The example, as README tells a developer to run it.
  const bot = spawn(process.execPath, [joinPath(__dirname, '..', 'examples', 'echo-bot.mjs')], {
    env: { ...process.env, PARLEY_URL: baseURL, PARLEY_TOKEN: token, PARLEY_POLL_MS: '250' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      bot.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('echo-bot: ready') && resolve());
      bot.on('exit', (code) => reject(new Error(`the example bot stopped (${code})`)));
    });
    await say(ada, '!ping');
    const pong = message(ada, 'pong');
    await expect(pong).toBeVisible({ timeout: 10_000 });
    await expect(pong.getByTestId('author')).toHaveText('Echo');
    await expect(pong.getByTestId('bot-badge')).toBeVisible();
    const words = unique('say this back');
    await say(ada, `!echo ${words}`);
    await expect(ada.locator('[data-testid="message"]').filter({ hasText: words })).toHaveCount(2, { timeout: 10_000 });
  } finally {
    bot.kill();
  }
});

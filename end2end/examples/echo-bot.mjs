#!/usr/bin/env node
// An example Parley bot, with nothing but Node's own fetch: it answers `!ping` with `pong`
// and `!echo words` with the words, in every channel of its space. Make a bot in the app
// (a space's ⋯ → Bots and integrations → Add bot), then run:
//
//   PARLEY_URL=http://127.0.0.1:3000 PARLEY_TOKEN=pt_… node end2end/examples/echo-bot.mjs
//
// It reads each channel's newest messages every second (GET /api/v1/channels/{id}/messages)
// and remembers the last position it saw, so it answers each message once; it posts with
// an id of its own derived from the message it answers, so a resend after a failure stores
// the answer once. The REST API's document is at /api/v1/docs/.
import { createHash } from 'node:crypto';

const base = (process.env.PARLEY_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const token = process.env.PARLEY_TOKEN;
const every = Number(process.env.PARLEY_POLL_MS ?? 1000);
if (!token) {
  console.error('PARLEY_TOKEN is missing: make a bot in the app and give its token');
  process.exit(2);
}

async function api(method, path, body) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${answer?.error?.message ?? ''}`);
  }
  return answer;
}

/** A UUID made from `text`: the same message always gets the same answer id. */
function idFor(text) {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function answerTo(body) {
  const text = body.trim();
  if (text === '!ping') return 'pong';
  if (text.startsWith('!echo ')) return text.slice('!echo '.length);
  return null;
}

const mine = new Set(); // the ids of the answers it posted: never answered themselves
const seen = new Map(); // channel id → the last position looked at
console.log(`echo-bot: watching ${base}`);

for (let ready = false; ; ) {
  try {
    for (const channel of await api('GET', '/channels')) {
      const messages = await api('GET', `/channels/${channel.channel_id}/messages?limit=50`);
      const newest = messages.at(-1)?.position ?? 0;
      if (!seen.has(channel.channel_id)) {
        // What was said before the bot started is not answered.
        seen.set(channel.channel_id, newest);
        continue;
      }
      for (const message of messages) {
        if (message.position <= seen.get(channel.channel_id) || message.deleted) continue;
        if (mine.has(message.message_id)) continue;
        const answer = answerTo(message.body);
        if (answer !== null) {
          const id = idFor(`${message.message_id}:answer`);
          mine.add(id);
          await api('POST', `/channels/${channel.channel_id}/messages`, {
            message_id: id,
            body: answer,
            reply_to: message.reply_to ?? undefined,
          });
          console.log(`echo-bot: answered ${message.author} in #${channel.name}`);
        }
      }
      seen.set(channel.channel_id, Math.max(seen.get(channel.channel_id), newest));
    }
    if (!ready) {
      ready = true;
      console.log('echo-bot: ready');
    }
  } catch (e) {
    console.error(`echo-bot: ${e.message}; trying again`);
  }
  await new Promise((resolve) => setTimeout(resolve, every));
}

// The event inspector in the browser: an admin browses the log, opens an event, sees the
// read models' position, and looks at the lobby as it was; others are refused.
import { expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { join as join_path } from 'node:path';
import { GENERAL, asAdmin, join, message, say, test, unique, accountItem } from './helpers';

test('an admin inspects the log and travels back in time; others cannot', async ({ page, newContext }) => {
  // The server's configuration names `e2e-admin` (playwright.config.ts).
  await asAdmin(page);
  const words = unique('for the record');
  await say(page, words);
  const later = unique('said later');
  await say(page, later);
  // Both in the log before it is read.
  for (const text of [words, later]) await expect(message(page, text)).toHaveAttribute('data-state', 'sent');

  await (await accountItem(page, 'inspector-link')).click();
  await expect(page.getByTestId('inspector')).toBeVisible();
  const rows = page.getByTestId('event-row');
  await expect(rows.first()).toBeVisible(); // loaded in the browser: the page is live
  await page.getByTestId('filter-type').fill('MessagePosted');
  await page.getByTestId('filter-apply').click();
  await expect(rows.first()).toContainText('MessagePosted');
  // Streams and people by name, not by id (the id on hover).
  await expect(rows.first().getByTestId('event-stream')).toContainText('#general');
  await expect(rows.first().getByTestId('event-stream')).toHaveAttribute('title', /^channel-/);
  await expect(rows.first().getByTestId('event-actor')).toHaveText('e2e-admin');
  await rows.nth(1).click();
  await expect(page.getByTestId('event-payload')).toContainText(words);
  const position = (await rows.nth(1).locator('td').first().textContent())?.trim() ?? '';
  await expect(page.getByTestId('subscriber').first()).toContainText('read models');
  await expect(page.getByTestId('subscriber-lag').first()).toHaveText('0 behind');

  await page.getByTestId('travel-channel').fill(GENERAL);
  await page.getByTestId('travel-position').fill(position);
  await page.getByTestId('travel-go').click();
  const then = page.getByTestId('travel-message');
  await expect(then.last()).toContainText(words);
  await expect(page.getByTestId('travel-messages')).not.toContainText(later);

  const other = await (await newContext()).newPage();
  await join(other, 'Nosy');
  await expect(await accountItem(other, 'inspector-link')).toHaveCount(0);
  await other.goto('/admin');
  await expect(other.getByTestId('inspector-denied')).toContainText('for instance admins');
  await expect(other.getByTestId('inspector')).toHaveCount(0);
  await other.getByRole('link', { name: 'Back to the chat' }).click();
  await expect(other.getByTestId('connection')).toHaveText('online');
});

// A row damaged on disk: the read models park it and go on; the admin sees it in the
// inspector, a retry says it is still damaged, and after a fix the retry folds it.
test('a parked event is shown in the inspector and folded again after a fix', async ({ page }) => {
  const db = join_path(process.env.PARLEY_E2E_DATA_DIR ?? '', 'parley.db');
  const sqlite = (script: string) => execFileSync('python3', ['-c', script, db], { encoding: 'utf8' }).trim();
  const damaged = sqlite(`
import json, sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1], timeout=10)
meta = json.dumps({"actor": "e2e", "correlation_id": str(uuid.uuid4())})
cur = db.execute("""INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version,
                     payload, metadata, client_message_id, recorded_at_ms)
                     SELECT MAX(position) + 1, ?, 1, ?, 'MessagePosted', 1, '{"oops": true}', ?, NULL, 0 FROM events""",
                 ("damaged-" + str(uuid.uuid4()), str(uuid.uuid4()), meta))
db.commit()
print(db.execute("SELECT MAX(position) FROM events WHERE stream_id LIKE 'damaged-%'").fetchone()[0])
`);

  await asAdmin(page);
  // A message after the damage: its append makes the read models meet the damaged row.
  const after = unique('after the damage');
  await say(page, after);

  await (await accountItem(page, 'inspector-link')).click();
  const parkedRow = page.getByTestId('subscriber').filter({ hasText: `event ${damaged} parked` });
  await expect(parkedRow).toBeVisible({ timeout: 15_000 });
  await parkedRow.getByTestId('retry-parked').click();
  await expect(page.getByTestId('retry-result')).toContainText('cannot be read');

  sqlite(`
import json, sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1], timeout=10)
payload = json.dumps({"channel_id": "${GENERAL}", "message_id": str(uuid.uuid4()), "author": "e2e-admin", "body": "repaired on disk"})
db.execute("UPDATE events SET payload = ? WHERE position = ?", (payload, ${damaged}))
db.commit()
`);
  await parkedRow.getByTestId('retry-parked').click();
  await expect(page.getByTestId('retry-result')).toContainText(`Event ${damaged} folded`);
  await expect(page.getByTestId('subscriber').filter({ hasText: 'parked' })).toHaveCount(0, { timeout: 5_000 });

  // The repaired message is in the lobby's history now, beside the one after it.
  const history = await page.evaluate(async (channel) => {
    const response = await fetch('/api/history', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel, before: null, limit: 50 }),
    });
    return response.text();
  }, GENERAL);
  expect(history).toContain('repaired on disk');
  expect(history).toContain(after);
});

// The lobby's creation written back the way schema version 1 stored it (before
// `ChannelCreated` had a `kind`): the inspector shows it as stored and as read today,
// and the lobby as it was is still computed from the log through the upcaster.
test('an event stored at an old schema version is shown as stored and read as today', async ({ page }, testInfo) => {
  const db = join_path(process.env.PARLEY_E2E_DATA_DIR ?? '', 'parley.db');
  const position = execFileSync(
    'python3',
    [
      '-c',
      `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
position, payload = db.execute("""SELECT position, payload FROM events
    WHERE event_type = 'ChannelCreated' AND stream_id = ?""", ("channel-" + sys.argv[2],)).fetchone()
fields = json.loads(payload)
fields.pop("kind", None)
db.execute("UPDATE events SET schema_version = 1, payload = ? WHERE position = ?", (json.dumps(fields), position))
db.commit()
print(position)
`,
      db,
      GENERAL,
    ],
    { encoding: 'utf8' },
  ).trim();

  await asAdmin(page);
  const words = unique('after the old channel');
  await say(page, words);

  await (await accountItem(page, 'inspector-link')).click();
  const row = page.getByTestId('event-row');
  await expect(row.first()).toBeVisible(); // loaded: the form is live
  await page.getByTestId('filter-stream').fill(`channel-${GENERAL}`);
  await page.getByTestId('filter-type').fill('ChannelCreated');
  await page.getByTestId('filter-apply').click();
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('ChannelCreated v1');
  await row.click();
  await expect(page.getByTestId('event-payload')).not.toContainText('kind');
  await expect(page.getByTestId('event-upcast')).toContainText('"kind"');
  await expect(page.getByTestId('event-upcast')).toContainText('"lobby"');
  await page.screenshot({ path: testInfo.outputPath('upcast.png') });

  await page.getByTestId('travel-channel').fill(GENERAL);
  await page.getByTestId('travel-position').fill('999999999');
  await page.getByTestId('travel-go').click();
  await expect(page.getByTestId('travel-messages')).toContainText(words);
  expect(Number(position)).toBeGreaterThan(0);
});

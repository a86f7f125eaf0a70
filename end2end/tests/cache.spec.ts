// The history cache stays within a budget: the channels opened longest ago lose their
// cached history (the server still has it), the ones opened since keep theirs.
import { expect, type Page } from '@playwright/test';
import { GENERAL, join, message, say, test, unique } from './helpers';

/** The channels whose messages and cursors IndexedDB holds. */
async function cachedChannels(page: Page): Promise<{ messages: string[]; cursors: string[] }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('parley');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['messages', 'cursors'], 'readonly');
          const messages = tx.objectStore('messages').getAll();
          const cursors = tx.objectStore('cursors').getAll();
          tx.oncomplete = () => {
            const unique = (rows: { channel_id?: string; channel?: string }[], key: 'channel_id' | 'channel') =>
              [...new Set(rows.map((r) => r[key] as string))].sort();
            resolve({ messages: unique(messages.result, 'channel_id'), cursors: unique(cursors.result, 'channel') });
            db.close();
          };
        };
      }),
  );
}

async function createSpace(page: Page, name: string): Promise<string> {
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(name);
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText(name);
  return new URL(page.url()).searchParams.get('c') ?? '';
}

test('the channels opened longest ago leave the cache first, and come back from the server', async ({ page }) => {
  await join(page, 'Cacher');
  await page.evaluate(() => localStorage.setItem('parley.cache.channels', '2'));
  const lobbyWords = unique('in the lobby');
  await say(page, lobbyWords);
  await expect(message(page, lobbyWords)).toHaveAttribute('data-state', 'sent');
  const first = await createSpace(page, unique('First'));
  await say(page, 'in the first space');
  await expect(message(page, 'in the first space')).toHaveAttribute('data-state', 'sent');
  await expect.poll(async () => (await cachedChannels(page)).messages).toEqual([GENERAL, first].sort());

  // A third channel opened: the lobby, opened longest ago, leaves the cache.
  const second = await createSpace(page, unique('Second'));
  await say(page, 'in the second space');
  await expect(message(page, 'in the second space')).toHaveAttribute('data-state', 'sent');
  await expect.poll(async () => (await cachedChannels(page)).messages).toEqual([first, second].sort());
  expect((await cachedChannels(page)).cursors).not.toContain(GENERAL);

  // Opened again, its history comes from the server.
  await page.locator('a[href="/"][data-testid="channel-link"]').click();
  await expect(message(page, lobbyWords)).toBeVisible();
});

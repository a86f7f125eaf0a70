// The local-first client: optimistic in the same frame, cached history before the network,
// an outbox that survives reload and offline (and says so when the browser will not keep
// a message), tabs in step, paging back, reset.
import { chromium, expect, type APIRequestContext, type Page, type WebSocket } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as join_path } from 'node:path';
import { GENERAL, PASSWORD, join, message, openDirect, say, shellCached, texts, unique, username, test, accountItem } from './helpers';


test('your own message is on screen in the frame you press Enter', async ({ page }) => {
  await join(page, 'Frame');
  // The server's answer cannot be what shows it: hold every post.
  await page.route('**/api/post_message', () => {});
  const text = unique('same frame');
  await page.getByTestId('composer').fill(text);
  const shownBeforePaint = await page.evaluate(async (text) => {
    const box = document.querySelector('[data-testid="composer"]')!;
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    // Runs before the next frame is painted.
    await new Promise((r) => requestAnimationFrame(r));
    return [...document.querySelectorAll('[data-testid="message"] .body')].some((b) => b.textContent === text);
  }, text);
  expect(shownBeforePaint).toBe(true);
  await expect(message(page, text)).toHaveAttribute('data-state', 'pending');
});

test('a reload paints cached history before any network reply', async ({ page, context }) => {
  await join(page, 'Cache');
  const sent = [unique('cached one'), unique('cached two')];
  for (const text of sent) {
    await say(page, text);
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  }
  // From now on the server never answers: no history, and a socket that stays silent.
  await context.route('**/api/history', () => {});
  await context.routeWebSocket('**/ws', () => {});
  await page.reload();
  for (const text of sent) await expect(message(page, text)).toHaveCount(1);
  await expect(page.getByTestId('connection')).not.toHaveText('online');
  const painted = await page.evaluate(() => performance.getEntriesByName('parley:cached-history')[0]?.startTime);
  expect(painted).toBeGreaterThan(0);
  console.log(`reload → cached history painted: ${Math.round(painted)} ms after navigation start`);
  expect(await readInHead(page)).toBe(1);

  // A tab opened later catches up from IndexedDB too, not from the server.
  const later = await context.newPage();
  await later.goto('/');
  for (const text of sent) await expect(message(later, text)).toHaveCount(1);
});

test("a reload shows the channel as last seen before its WASM arrives, then the app's own lines in its place", async ({
  newContext,
}) => {
  // No service worker: the page's WASM comes from the network, where it can be held back.
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await join(page, 'Picture');
  const sent = [unique('pictured one'), unique('pictured **two**')];
  for (const text of sent) {
    await say(page, text);
    await expect(message(page, text.replaceAll('*', ''))).toHaveAttribute('data-state', 'sent');
  }
  const shown = sent.map((text) => text.replaceAll('*', ''));
  // The WASM never arrives: only the page's head can draw anything.
  await page.route('**/pkg/*.wasm', () => {});
  await page.reload();
  const drawn = page.locator('ol.messages > [data-snapshot]');
  for (const text of shown) await expect(drawn.filter({ hasText: text })).toHaveCount(1);
  // The app's own HTML, formatting and all.
  await expect(drawn.last().locator('.body strong')).toHaveText('two');
  await expect(drawn.last()).toContainText(shown[1]);
  // A picture: nothing in it answers to the app's test ids or takes focus, and the empty
  // channel's welcome is not shown under it.
  await expect(page.getByTestId('message')).toHaveCount(0);
  expect(await drawn.evaluateAll((lines) => lines.every((l) => (l as HTMLElement).inert))).toBe(true);
  await expect(page.getByTestId('channel-intro')).toBeHidden();

  // With its WASM the app takes the picture away as it draws the channel: each line once.
  await page.unroute('**/pkg/*.wasm');
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  for (const text of shown) await expect(message(page, text)).toHaveCount(1);
  await expect(page.locator('[data-snapshot]')).toHaveCount(0);
  expect(await page.evaluate(() => performance.getEntriesByName('parley:snapshot-painted').length)).toBe(1);

  // Signing out forgets every picture, and the page left then keeps none.
  await (await accountItem(page, 'sign-out')).click();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  const pictures = () =>
    page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('parley.snapshot.')));
  expect(await pictures()).toEqual([]);
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  expect(await pictures()).toEqual([]);
  expect(await page.evaluate(() => performance.getEntriesByName('parley:snapshot-painted').length)).toBe(0);
});

test("a first visit's page head reads no cache and makes none: the store is the app's to create", async ({ page }) => {
  // Only the page's head runs: its WASM never arrives.
  await page.route('**/pkg/*.wasm', (route) => route.abort());
  await page.goto('/');
  expect(await page.evaluate(() => (window as any).parleyEarly)).toBeNull();
  const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(names).not.toContain('parley');
});

test('the outbox survives offline and reload, and is sent once when the network returns', async ({
  context,
  newContext,
}) => {
  const page = await context.newPage();
  const sibling = await context.newPage();
  await join(page, 'Nomad');
  await shellCached(page);
  // The page's request starts while the worker boots (navigation preload); offline, the
  // worker answers with its copy (below).
  const preload = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.navigationPreload.getState()).enabled;
  });
  expect(preload).toBe(true);
  await sibling.goto('/');
  await expect(sibling.getByTestId('connection')).toHaveText('online');

  await context.setOffline(true);
  await page.bringToFront();
  await expect(page.getByTestId('connection')).toHaveText('offline');
  const written = [unique('offline one'), unique('offline two')];
  // Offline is not a failure: the messages wait, say so, and offer nothing to retry.
  const waiting = async () => {
    for (const text of written) {
      await expect(message(page, text)).toHaveCount(1);
      await expect(message(page, text)).toHaveAttribute('data-state', 'pending');
      await expect(message(page, text).getByTestId('waiting')).toHaveText(
        'Waiting: will send when you are back online',
      );
      await expect(message(page, text).getByRole('button', { name: 'Retry' })).toHaveCount(0);
    }
    await expect(page.getByText(/Failed to fetch|TypeError|error reaching server/)).toHaveCount(0);
  };
  for (const text of written) {
    await say(page, text);
    await expect(message(page, text)).toBeVisible();
  }
  await waiting();

  // The page opens without the network (service worker), the messages still waiting.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await waiting();

  await context.setOffline(false);
  for (const tab of [page, sibling]) {
    await tab.bringToFront();
    for (const text of written) {
      await expect(message(tab, text)).toHaveAttribute('data-state', 'sent');
      await expect(message(tab, text)).toHaveCount(1);
    }
  }
  const other = await (await newContext()).newPage();
  await join(other, 'Witness');
  for (const text of written) await expect(message(other, text)).toHaveCount(1);
  expect((await texts(other)).filter((t) => written.includes(t))).toEqual(written);
});

test('back online, a tab catches up on every message it missed, in order, in every tab, and keeps them for a reload', async ({
  page,
  context,
  request,
}) => {
  // A conversation of its own, so no other test's messages come between.
  const away = await signUpPoster(request, 'away');
  await join(page, 'Returner');
  const channel = new URL(await openDirect(page, away)).searchParams.get('c')!;
  const sibling = await context.newPage();
  await sibling.goto(page.url());
  await expect(sibling.getByTestId('channel-title')).toContainText(`@${away}`);
  await expect(sibling.getByTestId('connection')).toHaveText('online');
  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');
  // Many at once: the catch-up brings them as a run of frames, kept together.
  const tag = unique('missed');
  const missed = Array.from({ length: 120 }, (_, i) => `${tag} ${i}`);
  await postTo(request, channel, missed);
  await context.setOffline(false);
  const ours = async (tab: Page) => (await texts(tab)).filter((t) => t.startsWith(`${tag} `));
  for (const tab of [page, sibling]) {
    await expect(message(tab, `${tag} 119`)).toHaveCount(1);
    expect(await ours(tab)).toEqual(missed);
  }
  // Kept in the cache, every one: a reload with a silent server paints them all.
  await context.route('**/api/history', () => {});
  await context.routeWebSocket('**/ws', () => {});
  await page.reload();
  await expect(message(page, `${tag} 119`)).toHaveCount(1);
  expect(await ours(page)).toEqual(missed);
  // Read by the page's head before its WASM ran, for the channel in its address.
  expect(await readInHead(page)).toBe(1);
});

/// How many times the app painted a channel from the cached page its head read (the
/// server's page starts that read before the WASM arrives).
const readInHead = (page: Page) =>
  page.evaluate(() => performance.getEntriesByName('parley:cache-read-in-head').length);

test('three tabs: each sends, all show the same list without duplicates', async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  await join(tabs[0], 'Triple');
  for (const tab of tabs.slice(1)) {
    await tab.goto('/');
    await expect(tab.getByTestId('connection')).toHaveText('online');
  }
  const sent: string[] = [];
  for (const [i, tab] of tabs.entries()) {
    const text = unique(`from tab ${i + 1}`);
    sent.push(text);
    await say(tab, text);
  }
  const lists: string[][] = [];
  for (const tab of tabs) {
    await tab.bringToFront();
    for (const text of sent) {
      await expect(message(tab, text)).toHaveAttribute('data-state', 'sent');
      await expect(message(tab, text)).toHaveCount(1);
    }
    lists.push(await texts(tab));
  }
  expect(lists[1]).toEqual(lists[0]);
  expect(lists[2]).toEqual(lists[0]);
});

test('all tabs show the same messages and states, whichever tab sent', async ({ context }) => {
  const a = await context.newPage();
  const b = await context.newPage();
  // The browser's one socket, whichever tab holds it.
  const sockets: WebSocket[] = [];
  for (const page of [a, b]) page.on('websocket', (ws) => sockets.push(ws));
  const name = await join(a, 'Tabby');
  await b.goto('/');
  await expect(b.getByTestId('me')).toHaveText(name);
  await expect(b.getByTestId('connection')).toHaveText('online');

  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await context.route('**/api/post_message', async (route) => {
    await held;
    await route.continue();
  });
  const text = unique('from tab A');
  await say(a, text);
  await b.bringToFront();
  await expect(message(b, text)).toHaveAttribute('data-state', 'pending');
  release();
  for (const page of [a, b]) {
    await page.bringToFront();
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
    await expect(message(page, text)).toHaveCount(1);
  }

  // Signing out in one tab signs out every tab, and forgets this browser's local data.
  await a.bringToFront();
  await (await accountItem(a, 'sign-out')).click();
  await expect(a.getByTestId('auth-form')).toBeVisible();
  await b.bringToFront();
  await expect(b.getByTestId('auth-form')).toBeVisible();
  await expect(b.getByTestId('me')).toHaveCount(0);
  await expect(message(b, text)).toHaveCount(0);
  const cached = await b.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('parley');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const count = open.result.transaction('messages').objectStore('messages').count();
          count.onsuccess = () => resolve(count.result);
          count.onerror = () => reject(count.error);
        };
      }),
  );
  expect(cached).toBe(0);
  expect(sockets.length).toBeGreaterThan(0);
  await expect.poll(() => sockets.every((ws) => ws.isClosed())).toBe(true);
});

/** Signs up a new poster through the API and posts `bodies` to #general in order. */
async function postToGeneral(request: APIRequestContext, who: string, bodies: string[]) {
  await signUpPoster(request, who);
  await postTo(request, GENERAL, bodies);
}

/** Signs `request` up as a new user, returning its name. */
async function signUpPoster(request: APIRequestContext, who: string): Promise<string> {
  const name = username(who);
  const signedUp = await request.post('/api/sign_up', { data: { username: name, password: PASSWORD } });
  expect(signedUp.ok()).toBe(true);
  return name;
}

/** Posts each of `bodies` to `channel`, in order, as the user `request` signed in as. */
async function postTo(request: APIRequestContext, channel: string, bodies: string[]) {
  for (const body of bodies) {
    const response = await request.post('/api/post_message', {
      data: { channel, message_id: crypto.randomUUID(), body },
    });
    expect(response.ok()).toBe(true);
  }
}

/** Scrolls the list to its top, up to `tries` times, until the message with `text` shows. */
async function scrollBackTo(page: Page, text: string, tries: number) {
  for (let i = 0; i < tries && (await message(page, text).count()) === 0; i++) {
    await page.getByTestId('messages').evaluate((el) => (el.scrollTop = 0));
    await page.waitForTimeout(300);
  }
  await expect(message(page, text)).toHaveCount(1);
}

test('scrolling back loads older pages', async ({ page, request }) => {
  const first = unique('the very first');
  await postToGeneral(request, 'loader', [first, ...Array.from({ length: 129 }, (_, i) => `filler ${i}`)]);
  await join(page, 'Reader');
  await expect(message(page, 'filler 128')).toBeVisible();
  await expect(message(page, first)).toHaveCount(0);
  await scrollBackTo(page, first, 5);
  // Reading back: a button brings the newest message back into view.
  await page.getByTestId('messages').evaluate((el) => (el.scrollTop = 0));
  await page.getByTestId('jump-latest').click();
  await expect(message(page, 'filler 128')).toBeInViewport();
  await expect(page.getByTestId('jump-latest')).toHaveCount(0);
});

test('a reload of a long channel paints its newest cached page, not an older one, newest screenful first', async ({
  page,
  context,
  request,
}) => {
  // More than a reload paints (200): the oldest of them must stay out, the newest in.
  const first = unique('long since');
  await postToGeneral(request, 'poster', [first, ...Array.from({ length: 229 }, (_, i) => `long ${i}`)]);
  await join(page, 'Longreader');
  await expect(message(page, 'long 228')).toBeVisible();
  // Scrolling back caches every page down to the first message.
  await scrollBackTo(page, first, 20);
  await context.route('**/api/history', () => {});
  await context.routeWebSocket('**/ws', () => {});
  // What is drawn in the frame the cached history is painted in (the client marks it).
  await page.addInitScript(() => {
    const mark = performance.mark.bind(performance);
    performance.mark = (name, options) => {
      if (name === 'parley:cached-history') {
        const lines = [...document.querySelectorAll('[data-testid="message"]')];
        (window as any).paintedLines = lines.map((l) => l.textContent ?? '');
      }
      return mark(name, options);
    };
  });
  await page.reload();
  await expect(message(page, 'long 228')).toHaveCount(1);
  await expect(page.getByTestId('message')).toHaveCount(200);
  await expect(message(page, first)).toHaveCount(0);
  // The first frame drew the newest screenful, not the whole page of 200.
  const painted: string[] = await page.evaluate(() => (window as any).paintedLines);
  expect(painted.length).toBeGreaterThan(10);
  expect(painted.length).toBeLessThanOrEqual(50);
  expect(painted.at(-1)).toContain('long 228');
});

test('reset local data clears this browser and refetches cleanly', async ({ page }) => {
  await join(page, 'Resetter');
  const text = unique('before reset');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  // Leaving the page keeps a picture of the channel, drawn on the next load...
  const pictureDrawn = () => page.evaluate(() => performance.getEntriesByName('parley:snapshot-painted').length);
  await page.reload();
  await expect(message(page, text)).toHaveCount(1);
  expect(await pictureDrawn()).toBe(1);
  // Listen before clicking: the reload can be quicker than the next line.
  await Promise.all([page.waitForEvent('load'), (await accountItem(page, 'reset')).click()]);
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(message(page, text)).toHaveCount(1);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  // ...which the reset forgets with the rest, and the page it reloads keeps none.
  expect(await pictureDrawn()).toBe(0);
});

test('private files are never kept by the service worker, and signing out deletes its copies', async ({ page }) => {
  await join(page, 'Private');
  await shellCached(page);
  // A file of this user's, fetched through the page (and so through the worker).
  const fileId = await page.evaluate(async () => {
    const uploaded = await fetch('/api/files?name=secret.txt', { method: 'POST', body: 'private words' });
    const { file_id } = (await uploaded.json()) as { file_id: string };
    const got = await fetch(`/files/${file_id}`);
    if (!got.ok) throw new Error(`download: ${got.status}`);
    return file_id;
  });
  const kept = () =>
    page.evaluate(async (id) => {
      const names = await caches.keys();
      const found: string[] = [];
      for (const name of names) {
        const cache = await caches.open(name);
        for (const request of await cache.keys()) if (request.url.includes(id)) found.push(request.url);
      }
      return found;
    }, fileId);
  expect(await kept()).toEqual([]);

  // A copy of a page as this user saw it: gone once they sign out.
  await page.evaluate(async () => {
    const names = (await caches.keys()).filter((n) => n.startsWith('parley-'));
    const cache = await caches.open(names[0] ?? 'parley-shell-v3');
    await cache.put('/as-signed-in', new Response('private page'));
  });
  await (await accountItem(page, 'sign-out')).click();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  const left = await page.evaluate(async () => (await caches.match('/as-signed-in')) !== undefined);
  expect(left).toBe(false);
});

test("signing out elsewhere ends the other browser's session and closes its socket", async ({ newContext }) => {
  const name = username('Roaming');
  const laptop = await (await newContext()).newPage();
  await laptop.goto('/');
  await expect(laptop.locator('main[data-hydrated="true"]')).toBeVisible();
  await laptop.getByTestId('auth-switch').click();
  await laptop.getByTestId('auth-username').fill(name);
  await laptop.getByTestId('auth-password').fill(PASSWORD);
  await laptop.getByTestId('auth-submit').click();
  await expect(laptop.getByTestId('connection')).toHaveText('online');
  // The same account in another browser.
  const phone = await (await newContext()).newPage();
  await phone.goto('/');
  await expect(phone.locator('main[data-hydrated="true"]')).toBeVisible();
  await phone.getByTestId('auth-username').fill(name);
  await phone.getByTestId('auth-password').fill(PASSWORD);
  await phone.getByTestId('auth-submit').click();
  await expect(phone.getByTestId('connection')).toHaveText('online');

  await laptop.bringToFront();
  await (await accountItem(laptop, 'security')).click();
  const dialog = laptop.getByTestId('security-dialog');
  await expect(dialog.getByTestId('session')).toHaveCount(2);
  await dialog.getByTestId('sign-out-others').click();
  await expect(dialog.getByTestId('security-note')).toHaveText('Signed out 1 other session');
  await expect(dialog.getByTestId('session')).toHaveCount(1);
  await expect(dialog.getByTestId('sign-out-others')).toBeDisabled();
  await laptop.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  // The phone finds out: its socket is closed and its next request is refused.
  await phone.bringToFront();
  await expect(phone.getByTestId('auth-form')).toBeVisible({ timeout: 15_000 });
  // The laptop is still in.
  await laptop.bringToFront();
  const words = unique('still here');
  await say(laptop, words);
  await expect(message(laptop, words)).toHaveAttribute('data-state', 'sent');
});

test('messages typed quickly are stored in the order they were written', async ({ page }) => {
  await join(page, 'Quick');
  // Each request is held a little less than the one before: sent side by side, the later
  // ones would be stored first.
  let delay = 800;
  await page.route('**/api/post_message', async (route) => {
    const wait = delay;
    delay = Math.max(0, delay - 200);
    await new Promise((r) => setTimeout(r, wait));
    await route.continue();
  });
  const tag = unique('in order');
  const bodies = [1, 2, 3, 4, 5].map((i) => `${tag} #${i}`);
  for (const body of bodies) await say(page, body);
  for (const body of bodies) await expect(message(page, body)).toHaveAttribute('data-state', 'sent', { timeout: 15_000 });
  await page.unroute('**/api/post_message');
  // The server's order (history after a reload) is the order written.
  await page.reload();
  await expect(message(page, bodies[4])).toBeVisible();
  const shown = (await texts(page)).filter((t) => t.startsWith(tag));
  expect(shown).toEqual(bodies);
});

test('messages waiting their turn behind a slow one outlive a reload, and are stored once, in order', async ({ page }) => {
  await join(page, 'Patient');
  // The server is slow: the first message's request hangs, the others wait their turn in
  // the tab. Each must be in the browser's outbox already, not only in the page's memory.
  await page.route('**/api/post_message', () => {});
  const tag = unique('waiting');
  const bodies = [1, 2, 3].map((i) => `${tag} #${i}`);
  for (const body of bodies) await say(page, body);
  await expect.poll(() => outboxBodies(page)).toEqual(bodies);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.reload();
  for (const body of bodies) await expect(message(page, body)).toHaveAttribute('data-state', 'sent');
  // The server's history after another reload: each once, in the order written.
  await page.reload();
  await expect(message(page, bodies[2])).toBeVisible();
  expect((await texts(page)).filter((t) => t.startsWith(tag))).toEqual(bodies);
});

test('with the browser storage full, a message that cannot go says so instead of vanishing', async ({ baseURL }) => {
  // A browser profile of its own (on disk), whose site storage this test can close and
  // give a quota of nothing.
  const profile = mkdtempSync(join_path(tmpdir(), 'parley-quota-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', baseURL });
  try {
    const first = await context.newPage();
    await join(first, 'Hoarder');
    const origin = new URL(first.url()).origin;
    // The site's quota, down to nothing, so IndexedDB refuses every write. Chromium reads
    // the quota when it opens the site's databases: close them (the last page, then its
    // short delay) and open the page anew.
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 });
    await page.goto('/');
    await expect(page.getByTestId('connection')).toHaveText('online');
    // In a space of its own: the file it sends stays out of the lobby other tests read.
    await page.getByTestId('new-space').click();
    await page.getByTestId('name-field').fill(unique('Attic'));
    await page.getByTestId('name-submit').click();
    await expect(page.getByTestId('channel-title')).toContainText('Attic');
    await context.setOffline(true);
    await expect(page.getByTestId('connection')).toHaveText('offline');
    // A message with a file (its bytes would go to the outbox) cannot be kept.
    await page.getByTestId('file-input').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(1_000_000, 'x'),
    });
    await expect(page.getByTestId('draft')).toContainText('notes.txt');
    const text = unique('no room');
    await say(page, text);
    const shown = message(page, text);
    await expect(shown).toHaveAttribute('data-state', 'failed');
    await expect(shown.getByRole('alert')).toContainText("this browser's storage is full");
    await expect(shown.getByTestId('waiting')).toHaveCount(0);

    // Room again and online: Retry sends it, once.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await context.setOffline(false);
    await expect(page.getByTestId('connection')).toHaveText('online');
    await shown.getByRole('button', { name: 'Retry' }).click();
    await expect(shown).toHaveAttribute('data-state', 'sent');
    await expect(message(page, text)).toHaveCount(1);
    await expect(shown.getByTestId('attachment-file')).toContainText('notes.txt');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('changes made offline show at once in every tab, survive a reload, and are stored once when the network returns', async ({
  context,
  newContext,
}) => {
  const page = await context.newPage();
  await join(page, 'Changer');
  await shellCached(page);
  const [liked, fixed] = [unique('like this'), unique('fix this')];
  for (const text of [liked, fixed]) {
    await say(page, text);
    await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  }
  // A second tab of the browser, on the same channel.
  const twin = await context.newPage();
  await twin.goto('/');
  await expect(twin.getByTestId('connection')).toHaveText('online');
  await expect(message(twin, fixed)).toBeVisible();
  await page.bringToFront();

  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');
  // A reaction and an edit (↑ in the composer edits the last message), both offline.
  await message(page, liked).hover();
  await message(page, liked).getByTestId('react').click();
  await page.getByTestId('picker').getByRole('menuitem', { name: '🎉' }).click();
  const edited = unique('fixed offline');
  await page.getByTestId('composer').press('ArrowUp');
  await page.getByTestId('edit-input').fill(edited);
  await page.getByTestId('edit-input').press('Enter');
  const party = (p: Page) => message(p, liked).locator('[data-testid="reaction"][data-emoji="🎉"]');
  const shownOffline = async () => {
    await expect(message(page, edited).getByTestId('edited')).toBeVisible();
    await expect(message(page, edited)).toHaveAttribute('data-changing', 'true');
    await expect(message(page, edited).getByTestId('change-waiting')).toBeVisible();
    await expect(party(page).locator('.count')).toHaveText('1');
    await expect(party(page)).toHaveAttribute('aria-pressed', 'true');
  };
  await shownOffline();
  // The other tab shows them too, as waiting.
  await expect(message(twin, edited)).toHaveAttribute('data-changing', 'true');
  await expect(message(twin, liked)).toHaveAttribute('data-changing', 'true');
  await expect(party(twin).locator('.count')).toHaveText('1');

  // Reloaded without the network: the changes are still there, still waiting.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await shownOffline();

  await context.setOffline(false);
  await expect(page.getByTestId('connection')).toHaveText('online');
  await expect(message(page, edited)).toHaveAttribute('data-changing', 'false');
  await expect(message(page, liked)).toHaveAttribute('data-changing', 'false');
  await expect(message(page, fixed)).toHaveCount(0);
  for (const text of [edited, liked]) await expect(message(twin, text)).toHaveAttribute('data-changing', 'false');
  await expect(party(twin).locator('.count')).toHaveText('1');
  // Someone else sees them, once.
  const other = await (await newContext()).newPage();
  await join(other, 'Witness');
  await expect(message(other, edited).getByTestId('edited')).toBeVisible();
  await expect(party(other).locator('.count')).toHaveText('1');
});

test('a mute and a save made offline stay as set, through a reload, and reach the server when the network returns', async ({
  context,
}) => {
  const page = await context.newPage();
  await join(page, 'Muter');
  await shellCached(page);
  const keep = unique('keep this');
  await say(page, keep);
  await expect(message(page, keep)).toHaveAttribute('data-state', 'sent');
  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');
  await page.getByTestId('mute').click();
  await message(page, keep).hover();
  await message(page, keep).getByTestId('save').click();
  // No refusal: they wait, shown as set.
  const shownSet = async () => {
    await expect(page.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
    await expect(message(page, keep).getByTestId('save')).toHaveAttribute('aria-pressed', 'true');
  };
  await shownSet();
  await expect(page.getByRole('alert')).toHaveCount(0);
  // Reloaded without the network: this browser kept them, still set, still waiting.
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await shownSet();

  await context.setOffline(false);
  await expect(page.getByTestId('connection')).toHaveText('online');
  // Another tab, opened now, hears them from the server.
  const later = await context.newPage();
  await later.goto('/');
  await expect(later.getByTestId('connection')).toHaveText('online');
  await expect(later.getByTestId('mute')).toHaveAttribute('aria-pressed', 'true');
  await expect(message(later, keep).getByTestId('save')).toHaveAttribute('aria-pressed', 'true');
  await later.getByTestId('mute').click();
  await expect(later.getByTestId('mute')).toHaveAttribute('aria-pressed', 'false');
});

test('a channel read offline stays read through a reload, and the server hears of it when the network returns', async ({
  context,
  newContext,
}) => {
  test.setTimeout(60_000);
  const ada = await context.newPage();
  await join(ada, 'Reader');
  await shellCached(ada);
  const bob = await (await newContext()).newPage();
  const bobName = await join(bob, 'Writer');
  // A conversation to be in when the page reloads: somewhere other than the channel read.
  await openDirect(ada, bobName);
  const general = ada.getByTestId('channel-link').filter({ hasText: 'general' });
  await general.click();
  await expect(ada.getByTestId('channel-title')).toContainText('general');
  await expect(ada.getByTestId('connection')).toHaveText('online');
  const unreadInGeneral = async () => {
    const counts: { channel_id: string; unread: number }[] = await (
      await ada.request.post('/api/unreads', { data: {} })
    ).json();
    return counts.find((c) => c.channel_id === GENERAL)?.unread;
  };

  // Bob writes while Ada's page is out of view: unread, here and on the server.
  await seen(ada, false);
  const said = unique('while you were away');
  await say(bob, said);
  await expect(message(ada, said)).toBeVisible();
  await expect(ada).toHaveTitle(/^\(1\) /);
  await expect.poll(unreadInGeneral).toBe(1);

  // Offline, Ada looks: read at once, and the marker that cannot go is kept by the browser.
  await context.setOffline(true);
  await expect(ada.getByTestId('connection')).toHaveText('offline');
  await seen(ada, true);
  await expect(ada).not.toHaveTitle(/^\(/);
  await expect.poll(() => keptMarkers(ada)).toContain(`read:${GENERAL}`);
  // Off to the conversation, and reloaded without the network.
  await ada.getByTestId('direct-link').filter({ hasText: bobName }).click();
  await expect(ada.getByTestId('channel-title')).toContainText(`@${bobName}`);
  await ada.reload();
  await expect(ada.locator('main[data-hydrated="true"]')).toBeVisible();

  // Back online: the server is told, and its counts (older than the marker) do not undo it.
  await context.setOffline(false);
  await expect(ada.getByTestId('connection')).toHaveText('online');
  await expect.poll(unreadInGeneral).toBe(0);
  await expect.poll(() => keptMarkers(ada)).toEqual([]);
  await expect(general.getByTestId('unread-badge')).toHaveCount(0);
  await expect(ada).not.toHaveTitle(/^\(/);
});

/** Puts the page in view, or out of it, as the page itself sees it. */
function seen(page: Page, visible: boolean): Promise<void> {
  return page.evaluate((visible) => {
    Object.defineProperty(document, 'hidden', { value: !visible, configurable: true });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  }, visible);
}

/** Every row of one of this browser's IndexedDB stores (`parley`), in key order. */
function storeRows<T>(page: Page, store: string): Promise<T[]> {
  return page.evaluate(
    (store) =>
      new Promise<T[]>((resolve, reject) => {
        const open = indexedDB.open('parley');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction(store).objectStore(store).getAll();
          all.onsuccess = () => {
            open.result.close();
            resolve(all.result as T[]);
          };
          all.onerror = () => reject(all.error);
        };
      }),
    store,
  );
}

/** The bodies of the messages in this browser's outbox, in its order (by message id). */
async function outboxBodies(page: Page): Promise<string[]> {
  return (await storeRows<{ body: string }>(page, 'outbox')).map((item) => item.body);
}

/** The read markers waiting in this browser's IndexedDB for the server, by key. */
async function keptMarkers(page: Page): Promise<string[]> {
  return (await storeRows<{ key: string }>(page, 'settings')).map((row) => row.key).filter((key) => key.startsWith('read:'));
}

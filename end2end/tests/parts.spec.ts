// The parts of the app that load when first opened (app/src/ui/later.rs): the sign-in page
// a first visit gets needs none of them, and the chat's piece comes after; a dialog's piece
// of WASM comes when the dialog is first opened, once; a piece that cannot be fetched is
// said in place, the rest of the app goes on, and it opens once it can. The service worker is blocked here so every fetch is seen.
import { expect } from '@playwright/test';
import { PASSWORD, accountItem, join, message, say, test, username } from './helpers';

/** Records the package files the page fetches. */
function packageFetches(page: import('@playwright/test').Page): string[] {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/pkg/')) fetched.push(path);
  });
  return fetched;
}

test('a visitor with no session hydrates the sign-in page without the chat; its piece comes while they type', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const fetched = packageFetches(page);
  // The chat's piece is held back until the visitor has signed up.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/pkg/split_chat_page.*', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('auth-submit')).toBeEnabled();
  await expect(page.getByTestId('composer')).toHaveCount(0);
  // The main module came; the chat's piece is asked for once the form works, and no other part.
  expect(fetched.some((path) => /^\/pkg\/parley\.[\w-]{22}\.wasm$/.test(path))).toBe(true);
  await expect.poll(() => fetched.filter((path) => /^\/pkg\/split_chat_page\.[\w-]{22}\.wasm$/.test(path)).length).toBe(1);
  expect(fetched.filter((path) => /\/split_(?!chat_page\.)/.test(path))).toEqual([]);
  // The page's script and the script that loads pieces (which the first imports) are
  // named in the page's head with its nonce, so both are fetched at once, and once.
  const preloaded = await page.locator('head link[rel="modulepreload"][nonce]').evaluateAll((links) =>
    links.map((l) => new URL((l as HTMLLinkElement).href).pathname).sort(),
  );
  expect(preloaded).toHaveLength(2);
  expect(preloaded[0]).toMatch(/^\/pkg\/__wasm_split\.[\w-]{22}\.js$/);
  expect(preloaded[1]).toMatch(/^\/pkg\/parley\.[\w-]{22}\.js$/);
  for (const script of preloaded) expect(fetched.filter((path) => path === script)).toHaveLength(1);

  // Signed up before the piece has come: the chat opens when it does, signed in.
  const name = username('Parts');
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill(name);
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('auth-form')).toBeHidden();
  await expect(page.getByTestId('opening-chat')).toBeVisible();
  await expect(page.getByTestId('composer')).toHaveCount(0);
  release();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('connection')).toHaveText('online');
  await say(page, 'the chat came after the form');
  await expect(message(page, 'the chat came after the form')).toHaveAttribute('data-state', 'sent');
  expect(fetched.filter((path) => /\/split_chat_page\./.test(path))).toHaveLength(1);
});

test('a page drawn for someone signed in names every file of the chat in its head: each fetched once, at once', async ({
  newContext,
}) => {
  // What the chat's loader fetches when it is not named in the head: signing up on the
  // sign-in page, which needs none of it until it has hydrated.
  const first = await newContext({ serviceWorkers: 'block' });
  const signingUp = await first.newPage();
  const fetchedBySignUp = packageFetches(signingUp);
  await join(signingUp, 'Pieces');
  const chatFiles = [...new Set(fetchedBySignUp.filter((path) => /\.wasm$/.test(path) && !/^\/pkg\/parley\./.test(path)))].sort();
  // Its own piece and at least one chunk it shares with other parts.
  expect(chatFiles.some((path) => /^\/pkg\/split_chat_page\.[\w-]{22}\.wasm$/.test(path))).toBe(true);
  expect(chatFiles.some((path) => /^\/pkg\/chunk_\d+\.[\w-]{22}\.wasm$/.test(path))).toBe(true);

  // The same account in a browser with nothing cached: the page's head names those files.
  const second = await newContext({ serviceWorkers: 'block', storageState: await first.storageState() });
  const page = await second.newPage();
  const fetched = packageFetches(page);
  await page.goto('/');
  // (Leptos names the main module there too.)
  const named = await page.locator('head link[rel="preload"][as="fetch"]').evaluateAll((links) =>
    links
      .map((l) => new URL((l as HTMLLinkElement).href).pathname)
      .filter((path) => !/^\/pkg\/parley\./.test(path))
      .sort(),
  );
  expect(named).toEqual(chatFiles);
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('composer')).toBeEnabled();
  // The loader took the preloaded answers: each file fetched once, none of another part.
  for (const path of chatFiles) expect(fetched.filter((p) => p === path)).toHaveLength(1);
  expect(fetched.filter((path) => /\.wasm$/.test(path) && !/^\/pkg\/parley\./.test(path)).sort()).toEqual(chatFiles);
});

test('a page drawn for someone signed in fetches the chat before it hydrates; without it, it says so; the admin page needs none of it', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const name = await join(page, 'Nochat');
  await context.route('**/pkg/split_chat_page.*', (route) => route.abort('internetdisconnected'));
  const chatPreload = page.locator('link[rel="preload"][href*="/split_chat_page."]');
  // The admin page opens without the chat's piece, and does not name it.
  await page.goto('/admin');
  await expect(page.getByTestId('inspector-denied')).toBeVisible();
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
  await expect(chatPreload).toHaveCount(0);

  await page.goto('/');
  await expect(chatPreload).toHaveCount(1);
  const missing = page.getByTestId('part-missing');
  await expect(missing).toBeVisible();
  await expect(missing).toContainText('could not be loaded');
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'false');

  await context.unroute('**/pkg/split_chat_page.*');
  await missing.getByRole('button', { name: 'Try again' }).click();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
});

test('the dialogs come in one piece of their own when the first opens, once; the admin page in its own', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const fetched = packageFetches(page);
  await join(page, 'Parts');
  // The chat's piece, and none of the others.
  expect(fetched.filter((path) => /\/split_(?!chat_page\.)/.test(path))).toEqual([]);

  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  const dialogs = () => fetched.filter((path) => /^\/pkg\/split_dialogs\.[\w-]{22}\.wasm$/.test(path));
  expect(dialogs()).toHaveLength(1);
  expect(fetched.filter((path) => /\/split_(?!chat_page\.|dialogs\.)/.test(path))).toEqual([]);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tokens-dialog')).toBeHidden();
  // Another dialog, and the first again: nothing more to fetch.
  await (await accountItem(page, 'export')).click();
  await expect(page.getByTestId('export-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  expect(dialogs()).toHaveLength(1);

  await page.goto('/admin');
  await expect(page.getByTestId('inspector-denied')).toBeVisible();
  expect(fetched.filter((path) => /^\/pkg\/split_inspector_page\.[\w-]{22}\.wasm$/.test(path))).toHaveLength(1);
});

test('a piece that cannot be fetched is said in place, the chat goes on, and it opens when it can', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await join(page, 'Offpart');
  await context.route('**/pkg/split_dialogs.*', (route) => route.abort('internetdisconnected'));

  await (await accountItem(page, 'export')).click();
  const missing = page.getByTestId('part-missing');
  await expect(missing).toBeVisible();
  await expect(missing).toContainText('could not be loaded');
  await expect(page.getByTestId('export-dialog')).toHaveCount(0);

  // The app is alive: a message still goes.
  await say(page, 'still here after a missing piece');
  await expect(message(page, 'still here after a missing piece')).toHaveAttribute('data-state', 'sent');

  await context.unroute('**/pkg/split_dialogs.*');
  await missing.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('export-dialog')).toBeVisible();
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
});

test('the service worker keeps every piece: offline, a reload opens the chat, and a dialog never opened opens', async ({ newContext }) => {
  const context = await newContext();
  const page = await context.newPage();
  const name = await join(page, 'Offparts');
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The worker finds the pieces through the scripts of the package (none is named in the page).
  const kept = () =>
    page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      }
      return urls
        .map((path) => /^\/pkg\/(split_\w+)\.[\w-]{22}\.wasm$/.exec(path)?.[1])
        .filter((piece) => piece)
        .sort();
    });
  await expect.poll(kept, { timeout: 20_000 }).toEqual(['split_chat_page', 'split_dialogs', 'split_inspector_page']);

  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('me')).toHaveText(name);
  // A dialog never opened before opens offline: its piece is in the worker's cache.
  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
  await context.setOffline(false);
});

// The parts of the app that load when first opened (app/src/ui/later.rs): a first visit
// fetches none of them; a dialog's piece of WASM comes when the dialog is first opened,
// once; a piece that cannot be fetched is said in place, the rest of the app goes on, and
// it opens once it can. The service worker is blocked here so every fetch is seen.
import { expect } from '@playwright/test';
import { accountItem, join, message, say, test } from './helpers';

/** Records the package files the page fetches. */
function packageFetches(page: import('@playwright/test').Page): string[] {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/pkg/')) fetched.push(path);
  });
  return fetched;
}

test('a first visit fetches no part; a dialog fetches its own piece when first opened, once', async ({ newContext }) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const fetched = packageFetches(page);
  await join(page, 'Parts');
  // The main module, its script and the script that loads pieces (imported by it).
  expect(fetched.some((path) => /^\/pkg\/parley\.[\w-]{22}\.wasm$/.test(path))).toBe(true);
  expect(fetched.filter((path) => /\/(split|chunk)_/.test(path))).toEqual([]);
  // The page's script and the script that loads pieces (which the first imports) are
  // named in the page's head with its nonce, so both are fetched at once, and once.
  const preloaded = await page.locator('head link[rel="modulepreload"][nonce]').evaluateAll((links) =>
    links.map((l) => new URL((l as HTMLLinkElement).href).pathname).sort(),
  );
  expect(preloaded).toHaveLength(2);
  expect(preloaded[0]).toMatch(/^\/pkg\/__wasm_split\.[\w-]{22}\.js$/);
  expect(preloaded[1]).toMatch(/^\/pkg\/parley\.[\w-]{22}\.js$/);
  for (const script of preloaded) expect(fetched.filter((path) => path === script)).toHaveLength(1);

  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  const tokens = fetched.filter((path) => /^\/pkg\/split_tokens\.[\w-]{22}\.wasm$/.test(path));
  expect(tokens).toHaveLength(1);
  // Nothing of the other dialogs came with it.
  expect(fetched.filter((path) => /\/split_(?!tokens\.)/.test(path))).toEqual([]);

  await page.keyboard.press('Escape');
  await expect(page.getByTestId('tokens-dialog')).toBeHidden();
  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  expect(fetched.filter((path) => /\/split_tokens\./.test(path))).toHaveLength(1);
});

test('a piece that cannot be fetched is said in place, the chat goes on, and it opens when it can', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await join(page, 'Offpart');
  await context.route('**/pkg/split_export.*', (route) => route.abort('internetdisconnected'));

  await (await accountItem(page, 'export')).click();
  const missing = page.getByTestId('part-missing');
  await expect(missing).toBeVisible();
  await expect(missing).toContainText('could not be loaded');
  await expect(page.getByTestId('export-dialog')).toHaveCount(0);

  // The app is alive: a message still goes.
  await say(page, 'still here after a missing piece');
  await expect(message(page, 'still here after a missing piece')).toHaveAttribute('data-state', 'sent');

  await context.unroute('**/pkg/split_export.*');
  await missing.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('export-dialog')).toBeVisible();
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
});

test('the service worker keeps every piece: a part never opened before opens offline', async ({ newContext }) => {
  const context = await newContext();
  const page = await context.newPage();
  await join(page, 'Offparts');
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The worker finds the pieces through the scripts of the package (none is named in the page).
  const kept = () =>
    page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      }
      return urls.filter((path) => /\/pkg\/split_/.test(path)).length;
    });
  await expect.poll(kept, { timeout: 20_000 }).toBeGreaterThanOrEqual(12);

  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');
  await (await accountItem(page, 'tokens')).click();
  await expect(page.getByTestId('tokens-dialog')).toBeVisible();
  await expect(page.getByTestId('part-missing')).toHaveCount(0);
  await context.setOffline(false);
});

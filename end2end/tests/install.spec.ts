// Installable: Chromium reads the web app manifest (a name, icons of the sizes it asks for,
// a theme colour, standalone, a start URL) and finds nothing missing to offer installing
// Parley; the manifest and icons are kept by the service worker, so the installed app opens
// without the server.
import { chromium, expect } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { appURL } from '../ports';
import { join, shellCached, test } from './helpers';

test('Chromium finds Parley installable, and its manifest and icons open offline', async ({}, testInfo) => {
  // A browser profile on disk: Chromium offers no install in an incognito-like context,
  // which is what Playwright's contexts are.
  const profile = mkdtempSync(joinPath(tmpdir(), 'parley-install-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...testInfo.project.use.launchOptions,
    baseURL: appURL,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await join(page, 'Installer');
  await shellCached(page);
  const cdp = await page.context().newCDPSession(page);

  const manifest = await cdp.send('Page.getAppManifest');
  expect(manifest.errors).toEqual([]);
  const data = JSON.parse(manifest.data ?? '{}');
  expect(data.name).toBe('Parley');
  expect(data.display).toBe('standalone');
  expect(data.start_url).toBe('/');
  const sizes = data.icons.map((icon: { sizes: string }) => icon.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  for (const icon of data.icons) {
    const response = await page.request.get(icon.src);
    expect(response.status(), icon.src).toBe(200);
    expect(response.headers()['content-type'], icon.src).toBe(icon.type);
  }
  const served = await page.request.get('/manifest.webmanifest');
  expect(served.headers()['content-type']).toContain('manifest+json');

  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors).toEqual([]);

  // Offline (the installed app started without the server): the shell and its icons come
  // from the service worker's cache.
  // The worker keeps the shell (the page, its /pkg/ files, the icons, the manifest) before
  // it activates; wait until every one is in its cache, and say which is not.
  const missing = await page.evaluate(async () => {
    const html = document.documentElement.outerHTML;
    const wanted = new Set(['/', '/manifest.webmanifest', '/icon-192.png', '/icon-512.png']);
    for (const match of html.matchAll(/["'(](\/pkg\/[^"'()\s]+)/g)) wanted.add(match[1]);
    let left = [...wanted];
    for (let i = 0; i < 100 && left.length > 0; i++) {
      const found = await Promise.all(left.map((url) => caches.match(url, { ignoreVary: true })));
      left = left.filter((_, n) => !found[n]);
      if (left.length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    return left;
  });
  expect(missing).toEqual([]);
  await page.context().setOffline(true);
  await page.reload();
  // The debug build's WASM is compiled again from the worker's copy: give it time.
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible({ timeout: 25_000 });
  const offline = await page.evaluate(async () => {
    const icon = await fetch('/icon-192.png');
    const manifest = await fetch('/manifest.webmanifest');
    return [icon.status, manifest.status];
  });
  expect(offline).toEqual([200, 200]);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
});

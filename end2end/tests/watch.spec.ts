// The development loop the README promises: `cargo leptos watch` serves the app, and a
// change to the stylesheet shows in the open page without anyone reloading it. Runs on
// ports, a site folder and a database of its own, and changes a copy of the stylesheet
// (in style/, where cargo-leptos watches; deleted at the end), so the other tests' server
// and files, and the tracked sources, are untouched.
import { expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from './helpers';
import { root } from './server';

const port = Number(process.env.PARLEY_E2E_WATCH_PORT ?? 3240);
const base = `http://127.0.0.1:${port}`;

test.use({ baseURL: base });

test('cargo leptos watch serves the app and a stylesheet change reaches the open page', async ({ newContext }) => {
  test.setTimeout(600_000);
  const dir = mkdtempSync(joinPath(tmpdir(), 'parley-watch-'));
  // Relative to the repository, as cargo-leptos matches the files it watches.
  const styleFile = `style/watch-test-${process.pid}.css`;
  const style = joinPath(root, styleFile);
  copyFileSync(joinPath(root, 'style', 'main.css'), style);
  const watch = spawn('cargo', ['leptos', 'watch'], {
    cwd: root,
    detached: true,
    // Its output, for when the test fails.
    stdio: ['ignore', openSync(joinPath(dir, 'watch.log'), 'w'), openSync(joinPath(dir, 'watch.log'), 'a')],
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      // The server takes its address from its own settings, not from cargo-leptos's.
      PARLEY_PORT: String(port),
      LEPTOS_RELOAD_PORT: String(port + 1),
      LEPTOS_SITE_ROOT: joinPath(dir, 'site'),
      LEPTOS_STYLE_FILE: styleFile,
      DATABASE_URL: `sqlite://${joinPath(dir, 'parley.db')}`,
      RUST_LOG: 'warn',
    },
  });
  const stop = () => {
    try {
      process.kill(-watch.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  console.log(`cargo leptos watch: its output is in ${dir}/watch.log`);
  try {
    await expect
      .poll(
        async () => {
          try {
            return (await fetch(`${base}/healthz`)).status;
          } catch {
            return 0;
          }
        },
        { timeout: 480_000, intervals: [1000] },
      )
      .toBe(200);
    const page = await (await newContext({ baseURL: base })).newPage();
    await page.goto('/');
    await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
    const probe = () =>
      page
        .evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--parley-watch-probe').trim())
        .catch(() => 'navigating');
    expect(await probe()).toBe('');

    appendFileSync(style, '\n:root { --parley-watch-probe: 42; }\n');
    // cargo-leptos serves before its file watcher is armed: a change made in between is
    // never seen (a full run's CI missed it so), so the file is touched again now and then.
    let touched = Date.now();
    const seen = async () => {
      const value = await probe();
      if (value !== '42' && Date.now() - touched > 5_000) {
        appendFileSync(style, '\n/* again */\n');
        touched = Date.now();
      }
      return value;
    };
    await expect.poll(seen, { timeout: 120_000, intervals: [500] }).toBe('42');
  } finally {
    stop();
    rmSync(style, { force: true });
    // Its log stays, for when the test failed.
    rmSync(joinPath(dir, 'site'), { recursive: true, force: true });
  }
});

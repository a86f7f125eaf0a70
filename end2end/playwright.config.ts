// Parley's browser tests: the real server (the debug build cargo-leptos made) on a fresh
// SQLite database, and the Trunk bundle served from another origin, driven through
// Debian's Chromium (downloading a browser is not possible here).
import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { appPort, appURL, csrOtherSiteURL, csrPort, csrURL, smtpPort } from './ports';

const root = resolve(__dirname, '..');
// Made once, by the runner; its workers (which load this file again) find it in the
// environment, so a test can reach the server's database (to damage a row, say).
const dataDir = process.env.PARLEY_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'parley-e2e-'));
process.env.PARLEY_E2E_DATA_DIR = dataDir;
const profile = process.env.PARLEY_E2E_PROFILE ?? 'debug';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: appURL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      // The instance admin is made as an operator makes one (`create-admin`), then the
      // server starts on the same database.
      command: `${join(root, 'target', profile, 'parley-server')} create-admin e2e-admin && exec ${join(root, 'target', profile, 'parley-server')} --port ${appPort}`,
      cwd: root,
      url: `${appURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        DATABASE_URL: `sqlite://${join(dataDir, 'parley.db')}`,
        LEPTOS_OUTPUT_NAME: 'parley',
        LEPTOS_SITE_ROOT: join(root, 'target', 'site'),
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_SITE_ADDR: `127.0.0.1:${appPort}`,
        LEPTOS_ENV: 'PROD',
        RUST_LOG: 'warn',
        // The bundle's origin, and the same bundle on another site (which CORS lets call,
        // but where the browser keeps no cookie of ours: csr.spec.ts).
        PARLEY_CORS_ORIGINS: `${csrURL},${csrOtherSiteURL}`,
        // Webhook retries quick enough to watch one be parked within a test.
        PARLEY_WEBHOOK_BACKOFF_MS: '100',
        // Tests that fill a channel post a few hundred messages at once as one user.
        PARLEY_POST_RATE: '100',
        // The password of the instance admin `create-admin` makes (the tests' PASSWORD).
        PARLEY_ADMIN_PASSWORD: 'correct horse battery',
        // Every browser test signs up from 127.0.0.1: no per-address limit on sign-ups here
        // (the Rust tests attack it).
        PARLEY_LIMIT_PER_ADDRESS: 'false',
        // The browser tests' people meet in the lobby: there, they see each other's
        // presence (off by default; the Rust tests check who may see whom).
        PARLEY_LOBBY_PRESENCE: 'true',
        // The webhook test's receiver listens on loopback.
        PARLEY_WEBHOOK_ALLOW: '127.0.0.1,::1',
        // Mail goes to the receiver the mail test starts on loopback (mail.spec.ts); links
        // in it point at this server.
        PARLEY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        PARLEY_PUBLIC_URL: appURL,
      },
    },
    {
      // The bundle `trunk build` wrote, built with PARLEY_SERVER_URL pointing at the app above.
      command: `python3 -m http.server ${csrPort} --bind 127.0.0.1 --directory ${join(root, 'target', 'dist')}`,
      url: `${csrURL}/index.html`,
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
});

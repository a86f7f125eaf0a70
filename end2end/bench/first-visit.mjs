// Parley's browser benchmark: what a first visit downloads and how long it takes to be
// interactive on a slow link, how soon a reload paints cached history, and how soon a
// reader back online has the messages it missed. Figures, not
// pass/fail. Starts the release server (target/release/parley-server, `.ci/build --release`
// first) on a free loopback port with a fresh database, drives
// Debian's Chromium, prints one JSON line per figure.
//   node end2end/bench/first-visit.mjs [--runs 5] [--kbps 1600] [--rtt 150] [--messages 30] [--site DIR] [--server BIN] [--trace FILE]
// (--only first_visit,returning_visit,reload_paint,back_online: some of the scenarios;
// --messages: how many the reloading user has cached; 200 fills the page the cache paints;
// --missed: how many messages a reader misses offline before coming back, 300 by default)
// (--site: serve another site folder, e.g. a copy without the .br/.gz files, to compare;
// --server: another build's server binary, with the hash.txt of its site beside it, to
// compare two builds in one sitting with --site;
// --trace: one more reload under Chromium's performance trace, written to FILE, and where
// the page's main thread spent the time until the cached history was painted)
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const root = resolve(import.meta.dirname, '..', '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 5);
const kbps = arg('kbps', 1600);
const rtt = arg('rtt', 150);
const messages = arg('messages', 30);
const siteArg = process.argv.indexOf('--site');
const site = siteArg > 0 ? resolve(process.argv[siteArg + 1]) : join(root, 'target', 'site');
const serverArg = process.argv.indexOf('--server');
const serverBin = serverArg > 0 ? resolve(process.argv[serverArg + 1]) : join(root, 'target', 'release', 'parley-server');

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'parley-browser-bench-'));
const server = spawn(serverBin, ['--port', String(port)], {
  cwd: root,
  stdio: 'ignore',
  env: {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, 'parley.db')}`,
    LEPTOS_OUTPUT_NAME: 'parley',
    LEPTOS_SITE_ROOT: site,
    LEPTOS_SITE_PKG_DIR: 'pkg',
    LEPTOS_ENV: 'PROD',
    RUST_LOG: 'warn',
    PARLEY_LIMIT_PER_ADDRESS: 'false',
    PARLEY_POST_RATE: '0',
  },
});
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {}
  if (i > 300) throw new Error('the server did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// The machine's CPU time, all cores, and the part its hypervisor gave to other guests
// (/proc/stat's first line; zeros where there is none). Each figure says how much was
// stolen while its scenario ran: this machine's figures move with it.
const machineTicks = () => {
  try {
    const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return [ticks.reduce((a, b) => a + b, 0), ticks[7] ?? 0];
  } catch {
    return [0, 0];
  }
};
let scenarioStart = machineTicks();
const print = (figure) => {
  const [all, stolen] = machineTicks();
  const share = all > scenarioStart[0] ? ((stolen - scenarioStart[1]) / (all - scenarioStart[0])) * 100 : 0;
  console.log(JSON.stringify({ ...figure, machine_steal_pct: Math.round(share * 10) / 10 }));
};
const onlyArg = process.argv.indexOf('--only');
const wanted = (scenario) => onlyArg < 0 || process.argv[onlyArg + 1].split(',').includes(scenario);

try {
  for (const [name, run] of [
    ['first_visit', firstVisit],
    ['returning_visit', returningVisit],
    ['reload_paint', reloadPaint],
    ['back_online', backOnline],
  ]) {
    if (!wanted(name)) continue;
    scenarioStart = machineTicks();
    await run();
  }
} finally {
  await browser.close();
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await exited;
  }
  // The run's database and files go with it.
  rmSync(dir, { recursive: true, force: true });
}

// A page of `context` on the emulated slow link, and what each of its answers weighed over
// the wire (`done`: when it had all come).
async function onSlowLink(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: rtt,
    downloadThroughput: (kbps * 1000) / 8,
    uploadThroughput: (kbps * 1000) / 8,
  });
  const sizes = new Map();
  cdp.on('Network.responseReceived', (e) => sizes.set(e.requestId, { url: e.response.url, bytes: 0, done: Infinity }));
  cdp.on('Network.loadingFinished', (e) => {
    const s = sizes.get(e.requestId);
    if (s) Object.assign(s, { bytes: e.encodedDataLength, done: Date.now() });
  });
  return { page, sizes };
}

// What an answer is, by its address: the page, WASM, JS, CSS or anything else.
function kindOf(url) {
  const path = new URL(url).pathname;
  return path === '/' ? 'html' : path.endsWith('.wasm') ? 'wasm' : path.endsWith('.js') ? 'js' : path.endsWith('.css') ? 'css' : 'other';
}

// First visit: a fresh browser profile each run, on an emulated slow link: the page until
// it is interactive (hydrated), then signing up there until the chat is on screen, taking
// messages (what comes after the sign-in page, in the background, is counted apart).
async function firstVisit() {
  const interactive = [];
  const formShown = [];
  const chatPiece = [];
  const signedUp = [];
  let bytes = {};
  let later = {};
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext();
    const { page, sizes } = await onSlowLink(context);
    await page.goto(base);
    await page.locator('main[data-hydrated="true"]').waitFor({ timeout: 120_000 });
    const hydratedAt = Date.now();
    const ms = await page.evaluate(() => performance.now());
    interactive.push(ms);
    // The server's page holds the sign-in form (no session cookie): its first contentful
    // paint is the form on screen, focused and taking keys.
    formShown.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
    bytes = {};
    for (const { url, bytes: n, done } of sizes.values()) {
      if (done <= hydratedAt) bytes[kindOf(url)] = (bytes[kindOf(url)] ?? 0) + n;
    }
    // Signing up: from the click to the chat on screen and ready for a message.
    await page.getByTestId('auth-switch').click();
    await page.getByTestId('auth-username').fill(`first${run}${Date.now().toString(36)}`);
    await page.getByTestId('auth-password').fill('correct horse battery');
    const clicked = await page.evaluate(() => performance.now());
    await page.getByTestId('auth-submit').click();
    await page.locator('[data-testid="composer"]:enabled').waitFor({ timeout: 120_000 });
    signedUp.push((await page.evaluate(() => performance.now())) - clicked);
    // The chat's piece of the WASM (a build that has one), from navigation start.
    chatPiece.push(
      await page.evaluate(
        () => performance.getEntriesByType('resource').find((r) => /\/split_chat_page\./.test(r.name))?.responseEnd ?? NaN,
      ),
    );
    later = {};
    for (const { url, bytes: n, done } of sizes.values()) {
      if (done > hydratedAt && done < Infinity && /\/pkg\//.test(url)) later[kindOf(url)] = (later[kindOf(url)] ?? 0) + n;
    }
    await context.close();
  }
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  print({
    scenario: 'first_visit',
    link: `${kbps} kbit/s, ${rtt} ms RTT`,
    interactive_ms_median: Math.round(median(interactive)),
    interactive_ms: interactive.map(Math.round),
    sign_in_form_ms_median: Math.round(median(formShown)),
    bytes_over_the_wire: total,
    bytes_by_kind: bytes,
    // After it was interactive: the rest of the app's code (the chat's piece), fetched while
    // the visitor types.
    package_bytes_after_interactive: later,
    chat_piece_ms_median: Math.round(median(chatPiece)),
    sign_up_to_chat_ms_median: Math.round(median(signedUp)),
    sign_up_to_chat_ms: signedUp.map(Math.round),
  });
}

// A returning visit with nothing cached (another browser, or the first visit after a
// deploy): someone signed in opens the site on the slow link, until the chat takes a
// message. The page's head names the chat's files, so they come beside the main module.
async function returningVisit() {
  const first = await browser.newContext();
  await signUp(await first.newPage(), 'returning');
  const storageState = await first.storageState();
  await first.close();
  const ready = [];
  const chatFilesAt = [];
  let bytes = {};
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ storageState, serviceWorkers: 'block' });
    const { page, sizes } = await onSlowLink(context);
    // Not until the load event (which waits for every preload): the chat is drawn by the
    // server, and ready once the app has hydrated it.
    await page.goto(base, { waitUntil: 'commit' });
    // Looked for at every frame, the time taken in the page.
    const at = await page.waitForFunction(
      () => document.querySelector('main[data-hydrated="true"] [data-testid="composer"]:enabled') && performance.now(),
      null,
      { polling: 'raf', timeout: 120_000 },
    );
    ready.push(await at.jsonValue());
    // When the last of the chat's files (its piece and the chunks it shares) had come.
    chatFilesAt.push(
      await page.evaluate(() =>
        Math.max(
          ...performance
            .getEntriesByType('resource')
            .filter((r) => /\/pkg\/(split|chunk)_/.test(r.name))
            .map((r) => r.responseEnd),
        ),
      ),
    );
    bytes = {};
    for (const { url, bytes: n } of sizes.values()) bytes[kindOf(url)] = (bytes[kindOf(url)] ?? 0) + n;
    await context.close();
  }
  print({
    scenario: 'returning_visit',
    link: `${kbps} kbit/s, ${rtt} ms RTT`,
    chat_ready_ms_median: Math.round(median(ready)),
    chat_ready_ms: ready.map(Math.round),
    chat_files_ms_median: Math.round(median(chatFilesAt)),
    bytes_over_the_wire: Object.values(bytes).reduce((a, b) => a + b, 0),
    bytes_by_kind: bytes,
  });
}

// Reload: a signed-in user with history in IndexedDB; the server's answers are held back
// so what is painted can only come from the cache (as in the browser test).
async function reloadPaint() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page, 'bench');
  for (let i = 0; i < messages; i++) {
    await page.getByTestId('composer').fill(`history line ${i}`);
    await page.getByTestId('composer').press('Enter');
  }
  await page.locator('[data-testid="message"][data-state="sent"]').nth(messages - 1).waitFor();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await page.locator('main[data-hydrated="true"]').waitFor();
  const painted = [];
  await context.route('**/api/history', () => {});
  await context.routeWebSocket('**/ws', () => {});
  for (let run = 0; run < runs; run++) {
    await page.reload();
    await page.locator('[data-testid="message"]').nth(messages - 1).waitFor();
    painted.push(
      await page.evaluate(() => {
        const at = (e) => Math.round(e?.responseEnd ?? -1);
        const nav = performance.getEntriesByType('navigation')[0];
        const resources = performance.getEntriesByType('resource');
        return {
          html: at(nav),
          script: at(resources.find((r) => r.name.endsWith('.js'))),
          wasm: at(resources.find((r) => r.name.endsWith('.wasm'))),
          // The channel as last seen, drawn by the page's head (-1: none drawn).
          picture: Math.round(performance.getEntriesByName('parley:snapshot-painted')[0]?.startTime ?? -1),
          painted: Math.round(performance.getEntriesByName('parley:cached-history')[0]?.startTime ?? -1),
        };
      }),
    );
  }
  const traceArg = process.argv.indexOf('--trace');
  const traceFile = traceArg > 0 ? resolve(process.argv[traceArg + 1]) : null;
  if (traceFile) {
    await browser.startTracing(page, {
      path: traceFile,
      categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.wasm', 'blink.user_timing', 'loading', 'IndexedDB'],
    });
    await page.reload();
    await page.locator('[data-testid="message"]').nth(messages - 1).waitFor();
    await browser.stopTracing();
  }
  print({
    scenario: 'reload_paint',
    messages,
    // The history first on screen: the picture of the channel the page's head draws from
    // the last visit (client/snapshot.rs), before the WASM runs.
    picture_ms_median: median(painted.map((p) => p.picture)),
    // The app's own drawing of the cached history, which takes the picture's place.
    painted_ms_median: median(painted.map((p) => p.painted)),
    // When each arrived (ms after navigation start): the page, its script, its WASM (from
    // the service worker's cache), then the picture and the app's cached history painted.
    runs: painted,
  });
  if (traceFile) print(traceFigure(JSON.parse(readFileSync(traceFile, 'utf8'))));
  await context.close();
}

// Back online: a reader misses `--missed` messages while offline, then comes back; how
// soon the first and the last of them are on screen, after the network returns.
async function backOnline() {
  const missed = arg('missed', 300);
  const caughtUp = [];
  for (let run = 0; run < Math.min(runs, 3); run++) caughtUp.push(await catchUp(missed));
  print({
    scenario: 'back_online',
    missed,
    last_shown_ms_median: median(caughtUp.map((c) => c.last)),
    runs: caughtUp,
  });
}

async function signUp(page, label) {
  await page.goto(base);
  await page.locator('main[data-hydrated="true"]').waitFor();
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill(`${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);
  await page.getByTestId('auth-password').fill('correct horse battery');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('connection').filter({ hasText: 'online' }).waitFor();
}

// One run of `back_online`: the writer posts through the REST API with a token made in its
// page; the reader's page notes (performance.now) when the first and last missed lines show.
async function catchUp(missed) {
  const readerContext = await browser.newContext();
  const writerContext = await browser.newContext();
  try {
    const reader = await readerContext.newPage();
    const writer = await writerContext.newPage();
    await signUp(reader, 'reader');
    await signUp(writer, 'writer');
    const menu = writer.getByTestId('account-menu');
    if (!(await menu.isVisible())) await writer.getByTestId('account').click();
    await menu.getByTestId('tokens').click();
    await writer.getByTestId('token-name').fill('bench');
    await writer.getByTestId('token-create').click();
    const secret = await writer.getByTestId('token-secret').inputValue();
    await readerContext.setOffline(true);
    await reader.getByTestId('connection').filter({ hasText: 'offline' }).waitFor();
    const tag = Math.random().toString(36).slice(2, 8);
    for (let i = 0; i < missed; i++) {
      const posted = await fetch(`${base}/api/v1/channels/00000000-0000-7000-8000-000000000001/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: `missed ${tag} ${i}` }),
      });
      if (posted.status !== 201) throw new Error(`post ${i}: ${posted.status} ${await posted.text()}`);
    }
    await reader.evaluate(
      ([first, last]) => {
        // Only what was added is read: the observer costs the page next to nothing.
        window.__backOnline = { first: null, last: null };
        const observer = new MutationObserver((records) => {
          const now = performance.now();
          for (const record of records) {
            for (const node of record.addedNodes) {
              const text = node.textContent ?? '';
              if (window.__backOnline.first === null && text.includes(first)) window.__backOnline.first = now;
              if (window.__backOnline.last === null && text.includes(last)) window.__backOnline.last = now;
            }
          }
          if (window.__backOnline.last !== null) observer.disconnect();
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      },
      [`missed ${tag} 0`, `missed ${tag} ${missed - 1}`],
    );
    const online = await reader.evaluate(() => performance.now());
    await readerContext.setOffline(false);
    await reader.waitForFunction(() => window.__backOnline.last !== null, null, { timeout: 120_000 });
    const shown = await reader.evaluate(() => window.__backOnline);
    return { first: Math.round(shown.first - online), last: Math.round(shown.last - online) };
  } finally {
    await readerContext.close();
    await writerContext.close();
  }
}

// The traced reload: from the page's last navigation start to the paint mark, the main
// thread's tasks over 2 ms (when, how long, and the work inside them that took longest).
function traceFigure(trace) {
  const events = trace.traceEvents ?? trace;
  const mark = events.find((e) => e.name === 'parley:cached-history');
  if (!mark) return { scenario: 'reload_trace', error: 'no paint mark in the trace' };
  const onMain = (e) => e.pid === mark.pid && e.tid === mark.tid;
  // The start of the navigation the mark belongs to (other frames navigate too).
  const navigation = mark.args?.data?.navigationId;
  const start = Math.min(
    ...events
      .filter((e) => onMain(e) && e.name === 'navigationStart' && e.args?.data?.navigationId === navigation)
      .map((e) => e.ts),
  );
  const within = events.filter((e) => onMain(e) && e.ph === 'X' && e.ts >= start && e.ts <= mark.ts);
  const tasks = within.filter((e) => e.name === 'RunTask');
  const ms = (us) => Math.round(us / 100) / 10;
  const inside = (task) => {
    const by = new Map();
    for (const e of within) {
      if (e.name !== 'RunTask' && e.ts >= task.ts && e.ts < task.ts + task.dur) {
        by.set(e.name, (by.get(e.name) ?? 0) + e.dur);
      }
    }
    return [...by].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, dur]) => `${name} ${ms(dur)}`);
  };
  return {
    scenario: 'reload_trace',
    painted_ms: ms(mark.ts - start),
    main_thread_busy_ms: ms(tasks.reduce((sum, t) => sum + t.dur, 0)),
    tasks_over_2ms: tasks
      .filter((t) => t.dur >= 2000)
      .map((t) => ({ at_ms: ms(t.ts - start), ms: ms(t.dur), inside: inside(t) })),
  };
}

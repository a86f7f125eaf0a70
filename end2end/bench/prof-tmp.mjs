import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const site = process.argv[2], bin = process.argv[3];
const port = 3988, base = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const server = spawn(bin, ['--port', String(port)], { stdio: 'ignore', env: { ...process.env, DATABASE_URL: `sqlite://${join(dir, 'p.db')}`, LEPTOS_OUTPUT_NAME: 'parley', LEPTOS_SITE_ROOT: site, LEPTOS_SITE_PKG_DIR: 'pkg', LEPTOS_ENV: 'PROD', RUST_LOG: 'warn', PARLEY_LIMIT_PER_ADDRESS: 'false' } });
for (let i = 0; ; i++) { try { if ((await fetch(`${base}/healthz`)).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  await page.locator('main[data-hydrated="true"]').waitFor();
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill(`bench-${Date.now().toString(36)}`);
  await page.getByTestId('auth-password').fill('correct horse battery');
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('connection').filter({ hasText: 'online' }).waitFor();
  for (let i = 0; i < 30; i++) { await page.getByTestId('composer').fill(`history line ${i} with **some** _markdown_ and a [link](https://example.org)`); await page.getByTestId('composer').press('Enter'); }
  await page.locator('[data-testid="message"][data-state="sent"]').nth(29).waitFor();
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload(); await page.locator('main[data-hydrated="true"]').waitFor();
  await context.route('**/api/history', () => {});
  await context.routeWebSocket('**/ws', () => {});
  for (let i = 0; i < 3; i++) { await page.reload(); await page.locator('[data-testid="message"]').nth(29).waitFor(); }
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
  const totals = new Map(); let all = 0;
  for (let r = 0; r < 6; r++) {
    await cdp.send('Profiler.start');
    await page.reload();
    await page.locator('[data-testid="message"]').nth(29).waitFor();
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const counts = new Map();
    for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [id, c] of counts) {
      const n = byId.get(id); const f = n.callFrame;
      if (['(idle)', '(program)', '(garbage collector)'].includes(f.functionName) && false) continue;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}`;
      totals.set(key, (totals.get(key) ?? 0) + c); all += c;
    }
    if (r === 0) writeFileSync('/tmp/wz/reload.cpuprofile', JSON.stringify(profile));
  }
  const top = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 70);
  console.log('samples', all);
  for (const [k, c] of top) console.log(String(c).padStart(6), (c * 0.05 / 6).toFixed(2).padStart(7), 'ms/reload', k.slice(0, 150));
} finally { await browser.close(); server.kill('SIGTERM'); }

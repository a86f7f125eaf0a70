// Draws the app's install icons (frontend/public/icon-*.png) from its SVG favicon in
// Chromium: 192 and 512 px as they are, and a 512 px "maskable" one whose logo sits in the
// middle 80 % (the safe zone a phone's mask keeps) on a full-bleed background. Run it after
// changing favicon.svg: `cd end2end && node scripts/icons.mjs`; the PNGs are committed.
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const publicDir = join(import.meta.dirname, '..', '..', 'frontend', 'public');
const svg = readFileSync(join(publicDir, 'favicon.svg'), 'utf8');
const src = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage();
for (const [name, size, maskable] of [
  ['icon-192.png', 192, false],
  ['icon-512.png', 512, false],
  ['icon-maskable-512.png', 512, true],
]) {
  await page.setViewportSize({ width: size, height: size });
  const inner = maskable ? Math.round(size * 0.8) : size;
  await page.setContent(
    `<body style="margin:0;width:${size}px;height:${size}px;display:grid;place-items:center;background:${maskable ? '#4f46e5' : 'transparent'}">` +
      `<img src="${src}" width="${inner}" height="${inner}"></body>`,
  );
  await page.locator('img').evaluate((img) => img.decode());
  await page.screenshot({ path: join(publicDir, name), omitBackground: !maskable });
  console.log(`${name}: ${size}×${size}${maskable ? ', maskable' : ''}`);
}
await browser.close();

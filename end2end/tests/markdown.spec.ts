// Message bodies: Markdown shown as formatting, and hostile input shown as inert text.
import { expect, type Page } from '@playwright/test';
import { join, message, say, unique, test } from './helpers';

/** Hostile bodies: none may run script, load anything, or leave a live handler or link. */
const PAYLOADS = [
  '<script>window.__xss = 1</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<img src=x onerror="window.__xss = 2">',
  '<svg onload="window.__xss = 3"></svg>',
  '<svg><script>window.__xss = 4</script></svg>',
  '<body onload="window.__xss = 5">',
  '<iframe src="javascript:window.__xss = 6"></iframe>',
  '<iframe srcdoc="<script>parent.__xss = 7</script>"></iframe>',
  '<a href="javascript:window.__xss = 8">click</a>',
  '[click](javascript:window.__xss=9)',
  '[click](JaVaScRiPt:window.__xss=10)',
  '[click](java\tscript:window.__xss=11)',
  '[click](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTI8L3NjcmlwdD4=)',
  '![x](javascript:window.__xss=13)',
  '<javascript:window.__xss=14>',
  '[click](vbscript:msgbox(15))',
  '<div style="background:url(javascript:window.__xss=16)">styled</div>',
  '<style>*{display:none}</style>',
  '<object data="javascript:window.__xss=18"></object>',
  '<embed src="javascript:window.__xss=19">',
  '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=20">',
  '<details open ontoggle="window.__xss = 21">',
  '<input autofocus onfocus="window.__xss = 22">',
  '<video><source onerror="window.__xss = 23"></video>',
  '"><img src=x onerror=window.__xss=24>',
  "'><script>window.__xss=25</script>",
  '<scr<script>ipt>window.__xss=26</script>',
  '<!--<img src="--><img src=x onerror=window.__xss=27//">',
  '<a href="&#106;avascript:window.__xss=28">entity</a>',
  '[entity](&#106;avascript:window.__xss=29)',
  '<form action="javascript:window.__xss=30"><button>go</button></form>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=31">',
  '<base href="javascript:window.__xss=32//">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<marquee onstart="window.__xss = 34">m</marquee>',
  '<unclosed <b onclick="window.__xss=35"',
];

/** What may appear inside the message list: nothing that runs, loads or submits. */
async function inert(page: Page): Promise<void> {
  const found = await page.getByTestId('messages').evaluate((list) => {
    const problems: string[] = [];
    const banned = 'script, iframe, object, embed, svg, math, img, video, audio, source, style, link, meta, base, form, input, details, marquee, body';
    for (const el of Array.from(list.querySelectorAll(banned))) problems.push(`element ${el.tagName}`);
    // What messages hold (the list's own parts, an avatar's colour say, are the app's).
    for (const el of Array.from(list.querySelectorAll('.body, .body *'))) {
      for (const attr of Array.from(el.attributes)) {
        if (attr.name.startsWith('on')) problems.push(`handler ${attr.name} on ${el.tagName}`);
        if (attr.name === 'style' || attr.name === 'srcdoc') problems.push(`attribute ${attr.name}`);
      }
    }
    for (const a of Array.from(list.querySelectorAll('a:not(.channel-ref)'))) {
      const href = a.getAttribute('href') ?? '';
      if (!/^(https?:\/\/|mailto:)/i.test(href)) problems.push(`link to ${href}`);
      if (!(a.getAttribute('rel') ?? '').includes('noopener')) problems.push(`link without noopener: ${href}`);
    }
    // A #channel links within the app, to a channel and nowhere else.
    for (const a of Array.from(list.querySelectorAll('a.channel-ref'))) {
      const href = a.getAttribute('href') ?? '';
      if (!/^\/(\?c=[0-9a-f-]{36})?$/.test(href)) problems.push(`channel link to ${href}`);
    }
    return problems;
  });
  expect(found).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
}

test('Markdown is shown as formatting, with safe links and highlighted mentions', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  await join(bob, 'Bob');
  const tag = unique('md');
  await say(ada, `${tag} **bold** _italic_ \`code\` [docs](https://example.com/docs) @${adaName}`);
  for (const page of [ada, bob]) {
    const m = message(page, tag);
    await expect(m).toHaveAttribute('data-state', 'sent');
    await expect(m.locator('.body strong')).toHaveText('bold');
    await expect(m.locator('.body em')).toHaveText('italic');
    await expect(m.locator('.body code')).toHaveText('code');
    const link = m.locator('.body a');
    await expect(link).toHaveText('docs');
    await expect(link).toHaveAttribute('href', 'https://example.com/docs');
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(link).toHaveAttribute('rel', /noopener/);
    await expect(m.locator('.mention')).toHaveText(`@${adaName}`);
  }
  // Only the mentioned user sees the mention marked as theirs.
  await expect(message(ada, tag).locator('.mention.me')).toHaveCount(1);
  await expect(message(bob, tag).locator('.mention.me')).toHaveCount(0);

  const block = unique('block');
  await ada.getByTestId('composer').fill(`${block}\n\n\`\`\`\nlet x = 1;\n\`\`\`\n\n> quoted\n\n- one\n- two`);
  await ada.getByTestId('composer').press('Enter');
  const m = message(bob, block);
  await expect(m.locator('pre code')).toHaveText('let x = 1;\n');
  await expect(m.locator('blockquote')).toHaveText('quoted');
  await expect(m.locator('ul li')).toHaveText(['one', 'two']);
});

test(`an XSS corpus of ${PAYLOADS.length} payloads is shown as inert text, to the sender and to others`, async ({
  newContext,
}) => {
  // 36 messages shown in two browsers, then a reload: 31–36 s on this machine today.
  test.slow();
  const mallory = await (await newContext()).newPage();
  const victim = await (await newContext()).newPage();
  await join(mallory, 'Mallory');
  await join(victim, 'Victim');
  const dialogs: string[] = [];
  for (const page of [mallory, victim]) page.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss()));
  const tag = unique('xss');
  for (const [i, payload] of PAYLOADS.entries()) {
    await say(mallory, `${tag}-${i}: ${payload}`);
  }
  for (const page of [mallory, victim]) {
    const last = message(page, `${tag}-${PAYLOADS.length - 1}:`);
    await expect(last).toBeVisible();
    await expect(last).toHaveAttribute('data-state', 'sent');
    await expect(page.getByTestId('message').filter({ hasText: tag })).toHaveCount(PAYLOADS.length);
    await inert(page);
  }
  // HTML stays readable as the text that was typed.
  await expect(message(victim, `${tag}-0:`).locator('.body')).toContainText('<script>window.__xss = 1</script>');
  await expect(message(victim, `${tag}-2:`).locator('.body')).toContainText('onerror=');
  // And after a reload, from the cache and the server alike.
  await victim.reload();
  await expect(message(victim, `${tag}-${PAYLOADS.length - 1}:`)).toBeVisible();
  await inert(victim);
  expect(dialogs).toEqual([]);
});

test('@name completes from the people in the channel, and the mentioned user sees it marked', async ({ newContext }) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobName = await join(bob, 'Bob');
  const hello = unique('bob is here');
  await say(bob, hello);
  await expect(message(ada, hello)).toBeVisible();

  const composer = ada.getByTestId('composer');
  await composer.fill(`thanks @${bobName.slice(0, -2)}`);
  await expect(ada.getByTestId('mention-suggestions')).toContainText(`@${bobName}`);
  await composer.press('Tab');
  await expect(composer).toHaveValue(`thanks @${bobName} `);
  await expect(ada.getByTestId('mention-suggestions')).toHaveCount(0);
  const tag = unique('for you');
  await composer.pressSequentially(tag);
  await composer.press('Enter');
  await expect(message(bob, tag).locator('.mention.me')).toHaveText(`@${bobName}`);
  await expect(message(ada, tag).locator('.mention.me')).toHaveCount(0);
});

// A body nested thousands deep once overflowed the WASM stack of every browser that opened
// the channel, on every reload. The core's parser flattens nesting past a small depth.
test('a Markdown nesting bomb in #general hurts no one who opens it', async ({ newContext }) => {
  const mallory = await (await newContext()).newPage();
  await join(mallory, 'Mallory');
  const errors: string[] = [];
  const tag = unique('bomb');
  // Each within the 4,000 characters a message may have.
  const bombs = [
    `${'>'.repeat(3950)} ${tag} quotes`,
    `${'- '.repeat(1970)}${tag} list`,
    `${'*'.repeat(1960)}${tag} emphasis${'*'.repeat(1960)}`,
  ];
  for (const bomb of bombs) expect(bomb.length).toBeLessThanOrEqual(4000);
  mallory.on('pageerror', (e) => errors.push(`mallory: ${e.message}`));
  for (const bomb of bombs) await say(mallory, bomb);
  for (const part of ['quotes', 'list', 'emphasis']) {
    await expect(message(mallory, `${tag} ${part}`)).toHaveAttribute('data-state', 'sent');
  }
  const after = unique('after the bombs');
  await say(mallory, after);
  await expect(message(mallory, after)).toHaveAttribute('data-state', 'sent');

  // Someone else opens the lobby, which holds the bombs: it renders, and goes on.
  const victim = await (await newContext()).newPage();
  victim.on('pageerror', (e) => errors.push(`victim: ${e.message}`));
  await join(victim, 'Victim');
  await expect(message(victim, after)).toBeVisible();
  await expect(message(victim, `${tag} quotes`)).toBeVisible();
  const later = unique('still alive');
  await say(mallory, later);
  await expect(message(victim, later)).toBeVisible();
  // Deep structure is flattened: a handful of levels, not thousands.
  const depth = await message(victim, `${tag} quotes`).evaluate((el) => {
    let deepest = 0;
    for (const node of Array.from(el.querySelectorAll('*'))) {
      let d = 0;
      for (let n: Element | null = node; n && n !== el; n = n.parentElement) d++;
      deepest = Math.max(deepest, d);
    }
    return deepest;
  });
  expect(depth).toBeLessThan(20);
  // And again after a reload, from the cache first.
  await victim.reload();
  await expect(message(victim, later)).toBeVisible();
  expect(errors).toEqual([]);
});

test('a #channel in a message links to the channel of that name; an unknown one stays text', async ({ page }) => {
  await join(page, 'Linker');
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(unique('Linked space'));
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText('general');
  const general = page.url();
  const channel = `deploys-${Date.now().toString(36)}`;
  await page.getByTestId('new-channel').first().click();
  await page.getByTestId('name-field').fill(channel);
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText(channel);

  await page.goto(general);
  const text = unique(`see #${channel} and #nosuchchannel`);
  await say(page, text);
  const link = message(page, text).getByTestId('channel-ref');
  await expect(link).toHaveCount(1);
  await expect(link).toHaveText(`#${channel}`);
  await expect(message(page, text)).toContainText('#nosuchchannel');
  await link.click();
  await expect(page.getByTestId('channel-title')).toContainText(channel);
});

// The walking skeleton in a real browser: hydration, accounts, sending, two users.
import { expect } from '@playwright/test';
import { PASSWORD, join, message, say, signIn, unique, username, test, accountItem } from './helpers';

test('sign up, sign out, and sign in again; mistakes are explained in place', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  // A visitor is welcomed on a page of its own: no app showing through (none of the chat is
  // drawn: its code has not been needed yet), no notification offer.
  await expect(page.getByTestId('composer')).toHaveCount(0);
  await expect(page.getByTestId('enable-notifications')).toHaveCount(0);
  const backdrop = await page.locator('.overlay.welcome').evaluate((el) => getComputedStyle(el).backgroundImage);
  expect(backdrop).toContain('gradient');

  // Sign-up rules are checked before asking the server, all of them at once.
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill('x');
  await page.getByTestId('auth-password').fill('short');
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('auth-error')).toContainText('a username must be 3 to 32 characters');
  await expect(page.getByTestId('auth-error')).toContainText('at least 8 characters');
  await page.getByTestId('auth-username').fill('x');
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('auth-error')).toContainText('a username must be 3 to 32 characters');
  const name = username('Grace');
  await page.getByTestId('auth-username').fill(name);
  await page.getByTestId('auth-password').fill('short');
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('auth-error')).toContainText('at least 8 characters');
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('auth-form')).toBeHidden();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('composer')).toBeEnabled();

  // The session is an HttpOnly cookie: no script can read it.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'parley_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');
  expect(await page.evaluate(() => document.cookie)).not.toContain('parley_session');

  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('auth-form')).toBeHidden();

  await (await accountItem(page, 'sign-out')).click();
  await expect(page.getByTestId('auth-form')).toBeVisible();
  expect((await page.context().cookies()).some((c) => c.name === 'parley_session')).toBe(false);

  // A wrong password and an unknown name get the same answer.
  await signIn(page, name, 'not the password');
  await expect(page.getByTestId('auth-error')).toHaveText('wrong username or password');
  await signIn(page, username('nobody'));
  await expect(page.getByTestId('auth-error')).toHaveText('wrong username or password');
  await signIn(page, name.toUpperCase());
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('connection')).toHaveText('online');
});

test('a first visit draws the sign-in form before its WASM arrives: what is typed meanwhile is kept, and Enter waits for the app', async ({
  newContext,
}) => {
  // No service worker: the page's WASM comes from the network, where it is held back.
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/pkg/*.wasm', async (route) => {
    await held;
    await route.continue();
  });
  const pages: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) pages.push(frame.url());
  });
  await page.goto('/', { waitUntil: 'domcontentloaded' });
  // No session cookie: the server's page has the form, focused, before any of the app runs.
  await expect(page.getByTestId('auth-form')).toBeVisible();
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'false');
  await expect(page.getByTestId('auth-username')).toBeFocused();
  await expect(page.getByTestId('auth-submit')).toBeDisabled();
  const name = username('Early');
  await page.keyboard.type(name);
  await page.getByTestId('auth-password').fill(PASSWORD);
  // Enter sends nothing until the app has come: the page stays, with what was typed.
  await page.getByTestId('auth-password').press('Enter');
  await page.waitForTimeout(500);
  expect(pages).toHaveLength(1);
  await expect(page.getByTestId('auth-username')).toHaveValue(name);

  release();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('auth-username')).toHaveValue(name);
  await expect(page.getByTestId('auth-password')).toHaveValue(PASSWORD);
  // The account is made with what was typed before the app came.
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('auth-form')).toBeHidden();
  // With a session, the server's page has no form: the app decides once it runs.
  const html = await (await page.request.get('/')).text();
  expect(html).not.toContain('data-testid="auth-form"');
  expect(pages).toHaveLength(1);
});

test('the message box of a page drawn for someone signed in takes text before its WASM arrives: kept as it hydrates, and Enter there sends once the app has come', async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await join(page, 'Earlybox');
  // The page's WASM held back until `release` is called.
  const holdWasm = async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.unroute('**/pkg/*.wasm');
    await page.route('**/pkg/*.wasm', async (route) => {
      await held;
      await route.continue();
    });
    return release;
  };
  let release = await holdWasm();
  const pages: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) pages.push(frame.url());
  });
  await page.reload({ waitUntil: 'domcontentloaded' });
  const box = page.getByTestId('composer');
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'false');
  await expect(box).toBeEnabled();
  // Enter sends nothing yet and adds no line: the page stays, the text in the box.
  await box.fill('typed before the app came');
  await box.press('Enter');
  await page.waitForTimeout(300);
  await expect(box).toHaveValue('typed before the app came');
  await expect(box).toHaveAttribute('aria-busy', 'true');
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'false');
  expect(pages).toHaveLength(1);

  release();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  // Sent once the app came, once, and the box emptied.
  await expect(message(page, 'typed before the app came')).toHaveAttribute('data-state', 'sent');
  await expect(box).toHaveValue('');
  await expect(box).not.toHaveAttribute('aria-busy');
  await expect(page.getByTestId('message').filter({ hasText: 'typed before the app came' })).toHaveCount(1);

  // Typed without Enter: still in the box after hydrating, unsent.
  release = await holdWasm();
  await page.reload({ waitUntil: 'domcontentloaded' });
  await expect(page.locator('main')).toHaveAttribute('data-hydrated', 'false');
  await box.fill('a draft from before the app');
  release();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(box).toHaveValue('a draft from before the app');
  await expect(page.getByTestId('message').filter({ hasText: 'a draft from before the app' })).toHaveCount(0);
  await box.press('Enter');
  await expect(message(page, 'a draft from before the app')).toHaveAttribute('data-state', 'sent');
});

test("a page drawn signed out in a browser that remembers a user shows no sign-in form before the app decides", async ({
  newContext,
}) => {
  const context = await newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await join(page, 'Remembered');
  // The browser loses its session cookie but remembers the user (as a page the service
  // worker kept from before signing in would have it): the server draws the form.
  await context.clearCookies();
  await page.route('**/pkg/*.wasm', () => {});
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-signed-out', 'true');
  await expect(page.locator('html')).toHaveAttribute('data-remembered', '');
  await expect(page.getByTestId('auth-form')).toHaveCount(1);
  await expect(page.getByTestId('auth-form')).toBeHidden();
  // Once the app runs, it decides: the server no longer knows this session, so the form.
  await page.unroute('**/pkg/*.wasm');
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(page.getByTestId('auth-form')).toBeVisible();
});

test('two users exchange messages both ways, live', async ({ newContext }, testInfo) => {
  const alice = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  const aliceName = await join(alice, 'Alice');
  await join(bob, 'Bob');

  const hello = unique('hello from Alice');
  await say(alice, hello);
  await expect(message(alice, hello)).toHaveAttribute('data-state', 'sent');
  await expect(message(bob, hello)).toBeVisible();
  await expect(message(bob, hello)).toContainText(aliceName);

  const reply = unique('hi Alice, Bob here');
  await say(bob, reply);
  await expect(message(alice, reply)).toBeVisible();
  await expect(message(alice, reply)).toHaveAttribute('data-state', 'sent');

  // Each message once, in the same order on both screens.
  for (const page of [alice, bob]) {
    await expect(message(page, hello)).toHaveCount(1);
    await expect(message(page, reply)).toHaveCount(1);
  }
  const order = async (page: typeof alice) =>
    (await page.getByTestId('message').locator('.body').allTextContents()).filter(
      (t) => t === hello || t === reply,
    );
  expect(await order(alice)).toEqual([hello, reply]);
  expect(await order(bob)).toEqual([hello, reply]);

  await alice.screenshot({ path: testInfo.outputPath('alice.png') });
  await bob.screenshot({ path: testInfo.outputPath('bob.png') });
});

test('your own message shows at once as pending, then turns to sent', async ({ page }) => {
  await join(page, 'Pat');
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/post_message', async (route) => {
    await held;
    await route.continue();
  });

  const text = unique('pending first');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'pending');
  await expect(page.getByTestId('composer')).toHaveValue('');
  release();
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  await expect(message(page, text)).toHaveCount(1);
});

test('a failed send is marked with a reason, and a retry sends it once', async ({ page }) => {
  await join(page, 'Flaky');
  let failures = 1;
  await page.route('**/api/post_message', async (route) => {
    // The server answers, with an error of its own (not a lost connection: see local.spec).
    if (failures-- > 0) await route.fulfill({ status: 500, contentType: 'application/json', body: '"Internal"' });
    else await route.continue();
  });

  const text = unique('retry me');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'failed');
  await expect(message(page, text).getByRole('alert')).toHaveText(
    /Not sent: the server could not complete this request, please try again/,
  );
  await message(page, text).getByRole('button', { name: 'Retry' }).click();
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  await expect(message(page, text)).toHaveCount(1);

  await page.reload();
  await expect(message(page, text)).toHaveCount(1);
});

test('an empty message is refused in place and nothing is sent', async ({ page }) => {
  await join(page, 'Quiet');
  const before = await page.getByTestId('message').count();
  let posts = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/post_message')) posts++;
  });
  await say(page, '    ');
  await expect(page.locator('.composer-note')).toContainText('a message cannot be empty');
  expect(await page.getByTestId('message').count()).toBe(before);
  expect(posts).toBe(0);
});

test('history is there after a reload', async ({ page }) => {
  await join(page, 'Rhea');
  const text = unique('still here');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  await page.reload();
  await expect(message(page, text)).toHaveCount(1);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
});

test('"… is typing" shows for the others within moments, and goes when the message is sent', async ({
  newContext,
}) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  const adaName = await join(ada, 'Ada');
  await join(bob, 'Bob');
  await ada.getByTestId('composer').pressSequentially('hello th');
  await expect(bob.getByTestId('typing')).toHaveText(`${adaName} is typing…`, { timeout: 2_000 });
  await expect(ada.getByTestId('typing')).toHaveText('', { timeout: 500 });
  const text = unique('there');
  await ada.getByTestId('composer').fill(text);
  await ada.getByTestId('composer').press('Enter');
  await expect(message(bob, text)).toBeVisible();
  await expect(bob.getByTestId('typing')).toHaveText('');
});

test('presence: online while any tab is open, away when all are hidden, offline after the last closes', async ({
  newContext,
}) => {
  test.setTimeout(60_000);
  const ada = await (await newContext()).newPage();
  await join(ada, 'Ada');
  const bobContext = await newContext();
  const bob = await bobContext.newPage();
  await join(bob, 'Bob');
  const bobTwo = await bobContext.newPage();
  await bobTwo.goto('/');
  await expect(bobTwo.getByTestId('connection')).toHaveText('online');
  const text = unique('bob says hi');
  await say(bob, text);
  const dot = message(ada, text).getByTestId('presence');
  await expect(dot).toHaveAttribute('data-status', 'online');

  const hide = (page: typeof ada) =>
    page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    });
  await hide(bob);
  await ada.waitForTimeout(500);
  await expect(dot).toHaveAttribute('data-status', 'online'); // the other tab is in view
  await hide(bobTwo);
  await expect(dot).toHaveAttribute('data-status', 'away');

  await bobTwo.close();
  await ada.waitForTimeout(6_000); // past the grace period: the other tab still counts
  await expect(dot).toHaveAttribute('data-status', 'away');
  await bob.close();
  await expect(dot).toHaveAttribute('data-status', 'offline', { timeout: 10_000 });
});

// The page's Content-Security-Policy: the app hydrates and talks to its server under it,
// and script that got into the page some other way (an injected handler) does not run.
test('the app runs under its Content-Security-Policy, and injected script does not', async ({
  page,
  policyViolations,
}) => {
  const response = await page.goto('/');
  const policy = response?.headers()['content-security-policy'] ?? '';
  expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9+/=_-]{16,}' 'strict-dynamic' 'wasm-unsafe-eval'/);
  await join(page, 'Guarded');
  const words = unique('under the policy');
  await say(page, words);
  await expect(message(page, words)).toHaveAttribute('data-state', 'sent');

  await page.evaluate(() => {
    document.body.insertAdjacentHTML('beforeend', '<img src="/nowhere.png" onerror="window.injected = 1">');
  });
  await expect.poll(() => policyViolations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
  expect(policyViolations[0]).toContain('script-src');
  policyViolations.length = 0; // seen: this test's own injection
});

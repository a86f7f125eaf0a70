// Shared steps of Parley's browser tests.
import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from '@playwright/test';

/** Collects what the browser refuses under the page's Content-Security-Policy. */
function watchPolicy(context: BrowserContext, violations: string[]) {
  context.on('console', (message) => {
    if (message.text().includes('violates the following Content Security Policy')) violations.push(message.text());
  });
}

/**
 * Playwright's `test`, with `newContext`: a browser context (one more user, or one more
 * browser) that is closed when the test ends, so no test leaves live pages and sockets
 * behind to slow the next ones down. Every test also fails if the browser refused
 * anything under the Content-Security-Policy, in any of its contexts.
 */
export const test = base.extend<{
  newContext: (options?: BrowserContextOptions) => Promise<BrowserContext>;
  policyViolations: string[];
}>({
  policyViolations: [
    async ({ context }, use) => {
      const violations: string[] = [];
      watchPolicy(context, violations);
      await use(violations);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
  newContext: async ({ browser, policyViolations }, use) => {
    const opened: BrowserContext[] = [];
    await use(async (options) => {
      const context = await browser.newContext(options);
      watchPolicy(context, policyViolations);
      opened.push(context);
      return context;
    });
    for (const context of opened) await context.close();
  },
});

/** The lobby's `#general` channel (a fixed id). */
export const GENERAL = '00000000-0000-7000-8000-000000000001';

/** The password every test account gets. */
export const PASSWORD = 'correct horse battery';

/** A username no other test (or earlier run) has taken, starting with `label`. */
export function username(label: string): string {
  return `${label.toLowerCase()}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Opens Parley, waits for hydration, and signs up a new account; returns its username. */
export async function join(page: Page, label: string, url = '/'): Promise<string> {
  const name = username(label);
  await page.goto(url);
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill(name);
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('connection')).toHaveText('online');
  return name;
}

/** Opens the account menu in the header (if closed) and returns one of its items. */
export async function accountItem(page: Page, testId: string): Promise<Locator> {
  const menu = page.getByTestId('account-menu');
  if (!(await menu.isVisible())) await page.getByTestId('account').click();
  await expect(menu).toBeVisible();
  return menu.getByTestId(testId);
}

/** Signs in to an existing account on the sign-in form. */
export async function signIn(page: Page, name: string, password = PASSWORD): Promise<void> {
  await expect(page.getByTestId('auth-form')).toBeVisible();
  await page.getByTestId('auth-username').fill(name);
  await page.getByTestId('auth-password').fill(password);
  await page.getByTestId('auth-submit').click();
}

/** Types a message and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}

export function message(page: Page, text: string) {
  return page.getByTestId('message').filter({ hasText: text });
}

/** A text no other test (or earlier run) has sent. */
export function unique(label: string): string {
  return `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Resolves once the service worker controls the page (so the shell is cached). */
export async function shellCached(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
}

/** The texts of the messages on screen, in order. */
export async function texts(page: Page): Promise<string[]> {
  return page.getByTestId('message').locator('.body').allTextContents();
}

/** Signs in as the instance admin `create-admin` made before the server started
 * (playwright.config.ts). */
export async function asAdmin(page: Page) {
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await page.getByTestId('auth-switch').click();
  await page.getByTestId('auth-username').fill('e2e-admin');
  await page.getByTestId('auth-password').fill(PASSWORD);
  await page.getByTestId('auth-submit').click();
  const online = page.getByTestId('connection');
  const taken = page.getByText('this username is taken');
  await expect(online.or(taken)).toBeVisible();
  if (await taken.isVisible()) {
    await page.getByTestId('auth-switch').click();
    await page.getByTestId('auth-password').fill(PASSWORD);
    await page.getByTestId('auth-submit').click();
  }
  await expect(online).toHaveText('online');
}

/** A space made by `ada` (its admin) that `bob` joins by its invite link; its sidebar section. */
export async function spaceWithTwo(ada: Page, bob: Page, name: string) {
  await ada.getByTestId('new-space').click();
  await ada.getByTestId('name-field').fill(name);
  await ada.getByTestId('name-submit').click();
  const space = ada.getByTestId('space').filter({ hasText: name });
  await expect(ada.getByTestId('channel-title')).toContainText(name);
  await space.getByTestId('invite').click();
  await ada.getByTestId('invite-create').click();
  const link = await ada.getByTestId('invite-link').inputValue();
  await ada.getByRole('button', { name: 'Done' }).click();
  await bob.getByTestId('join-space').click();
  await bob.getByTestId('name-field').fill(link);
  await bob.getByTestId('name-submit').click();
  await expect(bob.getByTestId('channel-title')).toContainText(name);
  return space;
}

/** Records each notification pages of `context` show (the browser's own, passed through);
 * `notes(page)` reads them back. */
export async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const Real = window.Notification;
    const shown: { title: string; body?: string }[] = [];
    (window as unknown as { __notes: typeof shown }).__notes = shown;
    window.Notification = class extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        shown.push({ title, body: options?.body });
      }
    } as typeof Notification;
  });
}

export function notes(page: Page): Promise<{ title: string; body?: string }[]> {
  return page.evaluate(() => (window as unknown as { __notes: { title: string; body?: string }[] }).__notes);
}

/** Opens (or finds) the direct conversation with `other` from the sidebar; returns its address. */
export async function openDirect(page: Page, other: string): Promise<string> {
  await page.getByTestId('new-direct').click();
  await page.getByTestId('name-field').fill(other);
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText(`@${other}`);
  return page.url();
}

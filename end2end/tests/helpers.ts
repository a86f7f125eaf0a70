// Shared steps of Parley's browser tests.
import { expect, type Page } from '@playwright/test';

/** Opens Parley, waits for hydration, and picks a display name. */
export async function join(page: Page, name: string): Promise<void> {
  await page.goto('/');
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('name-save').click();
  await expect(page.getByTestId('me')).toHaveText(name);
  await expect(page.getByTestId('connection')).toHaveText('online');
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

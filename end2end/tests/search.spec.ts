// Search: results from the channels one can read, matched words marked, and a jump to the
// message in its channel, loading older history on the way.
import { expect } from '@playwright/test';
import { GENERAL, PASSWORD, join, message, unique, username, test } from './helpers';

test('search finds a message far back, marks the words, and opens it in context', async ({ page, request }) => {
  const word = `zebra${Date.now().toString(36)}`;
  // Written with Markdown: the snippet shows the words, not the markers.
  const tail = unique('migration is done');
  const target = `the **${word}** ${tail}`;
  const signedUp = await request.post('/api/sign_up', { data: { username: username('writer'), password: PASSWORD } });
  expect(signedUp.ok()).toBe(true);
  for (const body of [target, ...Array.from({ length: 120 }, (_, i) => `later filler ${i}`)]) {
    const response = await request.post('/api/post_message', {
      data: { channel: GENERAL, message_id: crypto.randomUUID(), body },
    });
    expect(response.ok()).toBe(true);
  }
  await join(page, 'Seeker');
  await expect(message(page, 'later filler 119')).toBeVisible();
  await expect(message(page, tail)).toHaveCount(0);

  const box = page.getByTestId('search');
  await box.fill(word.slice(0, -2)); // a prefix is enough
  await box.press('Enter');
  const hits = page.getByTestId('search-hit');
  await expect(hits).toHaveCount(1);
  await expect(page.getByTestId('search-count')).toHaveText('1 message found');
  await expect(hits.first()).toContainText(`the ${word} ${tail}`);
  await expect(hits.first()).not.toContainText('**');
  await expect(hits.first().locator('mark')).toHaveText(word);
  await expect(hits.first()).toContainText('#general');

  await hits.first().click();
  await expect(page.getByTestId('search-results')).toHaveCount(0);
  const found = message(page, tail);
  await expect(found).toBeVisible();
  await expect(found).toHaveClass(/revealed/);
  await expect(found).toBeInViewport();

  await box.fill('nothingmatchesthis');
  await box.press('Enter');
  await expect(page.getByTestId('search-results')).toContainText('No messages found.');
  await box.press('Escape');
  await expect(page.getByTestId('search-results')).toHaveCount(0);
});

test('filters narrow a search: from a person, with a link, newest first; a bad filter says why', async ({ page }) => {
  const tag = `quokka${Date.now().toString(36)}`;
  const me = await join(page, 'Filterer');
  const composer = page.getByTestId('composer');
  for (const body of [`${tag} plain words`, `${tag} read https://example.org/${tag}`, `${tag} the last one`]) {
    await composer.fill(body);
    await composer.press('Enter');
    await expect(message(page, body)).toHaveAttribute('data-state', 'sent');
  }

  const box = page.getByTestId('search');
  const hits = page.getByTestId('search-hit');
  await box.fill(`${tag} has:link`);
  await box.press('Enter');
  await expect(hits).toHaveCount(1);
  await expect(hits.first()).toContainText(`https://example.org/${tag}`);
  await expect(page.getByTestId('search-help')).toContainText('from:@name');

  await box.fill(`from:@${me} ${tag} sort:new`);
  await box.press('Enter');
  await expect(hits).toHaveCount(3);
  await expect(hits.first()).toContainText('the last one');

  await box.fill(`${tag} on:tuesday`);
  await box.press('Enter');
  await expect(page.getByTestId('search-results').getByRole('alert')).toContainText('on: wants a date like 2026-11-30');
});

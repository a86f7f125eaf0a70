// A message list that scans: one person's run of messages under one avatar and name, a
// divider naming the day where it changes, each time's full date on hover, lines that stop
// at a readable length.
import { expect } from '@playwright/test';
import { join, message, say, unique, test } from './helpers';

test('one person’s messages in a row share one avatar and name; another person starts a new run', async ({
  newContext,
}) => {
  const ann = await (await newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const annName = await join(ann, 'Ann');
  const bob = await (await newContext()).newPage();
  await join(bob, 'Bob');

  const first = unique('first of a run');
  const second = unique('second of a run');
  const third = unique('third of a run');
  for (const text of [first, second, third]) {
    await say(ann, text);
    await expect(message(ann, text)).toHaveAttribute('data-state', 'sent');
  }
  const reply = unique('bob answers');
  await say(bob, reply);
  await expect(message(ann, reply)).toBeVisible();

  // The run's head shows avatar (initials of the name) and name; the rest neither.
  await expect(message(ann, first).locator('.avatar')).toHaveText(annName.slice(0, 1).toUpperCase() + annName.split('-')[1][0].toUpperCase());
  await expect(message(ann, first).locator('.author')).toHaveText(annName);
  for (const text of [second, third]) {
    await expect(message(ann, text)).toHaveClass(/\bcont\b/);
    await expect(message(ann, text).locator('.avatar')).toHaveCount(0);
    await expect(message(ann, text).locator('.author')).toHaveCount(0);
  }
  await expect(message(ann, reply).locator('.avatar')).toHaveCount(1);
  // The same run on Bob's screen.
  await expect(message(bob, third)).toHaveClass(/\bcont\b/);
  await expect(message(bob, first)).not.toHaveClass(/\bcont\b/);

  // A continued message still has its time (on hover) and its buttons.
  await message(ann, third).hover();
  await expect(message(ann, third).locator('.when')).toBeVisible();
  await expect(message(ann, third).getByTestId('edit')).toBeVisible();
  // The time's full date on hover, with the year.
  const year = String(new Date().getFullYear());
  await expect(message(ann, third).locator('.when')).toHaveAttribute('title', new RegExp(year));
  // Lines stop at a readable length on a wide window.
  await say(ann, unique('long '.repeat(60)));
  const width = await ann.getByTestId('message').last().locator('.body').evaluate((el) => el.getBoundingClientRect().width);
  expect(width).toBeLessThan(720);
});

test('a divider names the day where it changes: today, and a date once days have passed', async ({ newContext }) => {
  const page = await (await newContext()).newPage();
  await join(page, 'Days');
  const text = unique('said today');
  await say(page, text);
  await expect(message(page, text)).toHaveAttribute('data-state', 'sent');
  // The divider nearest above today's message says "Today".
  const dividers = page.getByTestId('day-divider');
  await expect(dividers.last()).toHaveText('Today');
  const above = await message(page, text).evaluate((el) => {
    let node = el.previousElementSibling;
    while (node && !node.matches('[data-testid="day-divider"]')) node = node.previousElementSibling;
    return node?.textContent ?? null;
  });
  expect(above).toBe('Today');

  // Seen three days later, the same messages are under their date, not "Today".
  const later = new Date(Date.now() + 3 * 86_400_000);
  await page.clock.setFixedTime(later);
  await page.reload();
  await expect(message(page, text)).toBeVisible();
  const label = (await dividers.last().textContent()) ?? '';
  expect(label).not.toMatch(/Today|Yesterday/);
  expect(label).toContain(String(new Date().getFullYear()));
  expect(label).toContain(new Date().toLocaleDateString('en-US', { month: 'long' }));
});

test('the lines of a long channel never overlap, whatever they hold', async ({ newContext }) => {
  const page = await (await newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await join(page, 'Long');
  // A space of its own, its channel filled past the screen with messages of several lines.
  await page.getByTestId('new-space').click();
  await page.getByTestId('name-field').fill(unique('Scroll'));
  await page.getByTestId('name-submit').click();
  await expect(page.getByTestId('channel-title')).toContainText('Scroll');
  const lines = (i: number) => `${unique(`tall ${i}`)}\nsecond line\nthird line\nfourth line`;
  const first = lines(0);
  await say(page, first);
  for (let i = 1; i < 12; i++) await say(page, lines(i));
  await expect(page.getByTestId('message')).toHaveCount(12);
  await expect(page.getByTestId('message').last()).toHaveAttribute('data-state', 'sent');
  // The list overflows: it scrolls rather than squeezing its lines.
  const list = page.locator('.messages').first();
  expect(await list.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
  // Each line holds what it shows (none squeezed, its text running under the next), and
  // follows the one before.
  const boxes = await page
    .getByTestId('message')
    .evaluateAll((els) =>
      els.map((el) => ({ top: el.getBoundingClientRect().top, bottom: el.getBoundingClientRect().bottom, height: el.clientHeight, content: el.scrollHeight })),
    );
  for (const [i, box] of boxes.entries()) {
    expect(box.content, `message ${i} is squeezed into ${box.height} px`).toBeLessThanOrEqual(box.height + 1);
    if (i > 0) expect(boxes[i - 1].bottom).toBeLessThanOrEqual(box.top + 0.5);
  }
});

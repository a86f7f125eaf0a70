// Attachments in a real browser: picked, dropped and pasted files upload with progress, an
// image is seen by another user as a thumbnail, other files as downloads, and a file sent
// offline waits in the outbox through a reload.
import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import { crc32, deflateSync } from 'node:zlib';
import { join, message, shellCached, test, unique } from './helpers';

/** A real PNG of `width` × `height` pixels (a gradient), made here. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      rows.set([(x * 255) / width, (y * 255) / height, 160], at);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The message (by its caption) once it carries files. */
function withFiles(page: Page, caption: string) {
  return message(page, caption);
}

test('an image sent with a message is seen by another user as a thumbnail; other files are downloads', async ({
  newContext,
}) => {
  const ada = await (await newContext()).newPage();
  const bob = await (await newContext()).newPage();
  await join(ada, 'Ada');
  await join(bob, 'Bob');

  // Picked with the file picker: a chip with a progress bar, done when uploaded.
  await ada.getByTestId('file-input').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(640, 320) });
  const chip = ada.getByTestId('draft');
  await expect(chip).toContainText('sunset.png');
  await expect(chip).toHaveAttribute('data-state', 'uploaded');
  await expect(chip.getByTestId('upload-progress')).toHaveAttribute('value', '100');
  const caption = unique('look at this');
  await ada.getByTestId('composer').fill(caption);
  await ada.getByTestId('composer').press('Enter');
  await expect(ada.getByTestId('drafts')).toHaveCount(0);
  await expect(withFiles(ada, caption)).toHaveAttribute('data-state', 'sent');

  // Bob sees the thumbnail (a picture 320 pixels wide, from the server), linked to the full image.
  const thumb = withFiles(bob, caption).getByTestId('attachment-image');
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
  expect(await thumb.evaluate((img: HTMLImageElement) => img.naturalHeight)).toBe(160);
  const full = await thumb.locator('xpath=..').getAttribute('href');
  const fetched = await bob.request.get(full ?? '');
  expect(fetched.status()).toBe(200);
  expect(fetched.headers()['content-type']).toBe('image/png');

  // Dropped on the composer: a text file, sent with no words, offered as a download.
  const notes = `notes ${Date.now()}.txt`;
  const transfer = await ada.evaluateHandle((name) => {
    const data = new DataTransfer();
    data.items.add(new File(['meeting at noon\n'], name, { type: 'text/plain' }));
    return data;
  }, notes);
  await ada.locator('form.composer').dispatchEvent('drop', { dataTransfer: transfer });
  await expect(ada.getByTestId('draft')).toHaveAttribute('data-state', 'uploaded');
  await ada.getByTestId('composer').press('Enter');
  const link = bob.getByTestId('attachment-file').filter({ hasText: notes });
  await expect(link).toBeVisible();
  const text = await bob.request.get((await link.getAttribute('href')) ?? '');
  expect(await text.text()).toBe('meeting at noon\n');
  expect(text.headers()['content-disposition']).toContain('attachment');

  // Pasted: an image from the clipboard.
  await ada.getByTestId('composer').focus();
  await ada.evaluate(async (bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
    const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    document.querySelector('[data-testid="composer"]')?.dispatchEvent(event);
  }, [...png(40, 40)]);
  await expect(ada.getByTestId('draft')).toContainText('pasted.png');
  await expect(ada.getByTestId('draft')).toHaveAttribute('data-state', 'uploaded');

  // A file the server does not take is refused on its chip, and nothing is sent.
  await ada.getByTestId('file-input').setInputFiles({
    name: 'tool.exe',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0xff, 0xff, 0x00, 0x00]),
  });
  const refused = ada.getByTestId('draft').filter({ hasText: 'tool.exe' });
  await expect(refused).toHaveAttribute('data-state', 'failed');
  await expect(refused).toContainText('cannot be sent');
  await ada.getByTestId('composer').press('Enter');
  await expect(ada.getByRole('alert').filter({ hasText: 'Remove the files' })).toBeVisible();
});

test('a file sent offline waits in the outbox through a reload, then goes', async ({ context, newContext }) => {
  const page = await context.newPage();
  await join(page, 'Nomad');
  await shellCached(page);
  await context.setOffline(true);
  await expect(page.getByTestId('connection')).toHaveText('offline');

  await page.getByTestId('file-input').setInputFiles({ name: 'map.png', mimeType: 'image/png', buffer: png(100, 50) });
  await expect(page.getByTestId('draft')).toContainText('map.png');
  const caption = unique('the map');
  await page.getByTestId('composer').fill(caption);
  await page.getByTestId('composer').press('Enter');
  await expect(message(page, caption).getByTestId('attachment-pending')).toContainText('map.png');

  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toBeVisible();
  await expect(message(page, caption)).not.toHaveAttribute('data-state', 'sent');
  await expect(message(page, caption).getByTestId('attachment-pending')).toContainText('map.png');

  await context.setOffline(false);
  await expect(message(page, caption)).toHaveAttribute('data-state', 'sent');
  await expect(message(page, caption).getByTestId('attachment-image')).toBeVisible();
  const other = await (await newContext()).newPage();
  await join(other, 'Witness');
  const thumb = message(other, caption).getByTestId('attachment-image');
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(100);
  await expect(message(other, caption)).toHaveCount(1);
});

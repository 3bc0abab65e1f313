import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { expectStatusErrors, signIn, useBrowserTests } from './stack.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const ui = useBrowserTests();
const { page, watchedPage } = ui;

const messageBox = (p: Page) => p.getByRole('textbox', { name: 'Message' });
const conversation = (p: Page) => p.getByRole('region', { name: 'Conversation' });
const focusedLabel = (p: Page) =>
  p.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent.trim());

async function ask(p: Page, text: string): Promise<void> {
  await messageBox(p).fill(text);
  await messageBox(p).press('Enter');
}

const slowAnswer = (text: string) => ({ kind: 'answer' as const, text: `${text} `.repeat(40), chunks: 40, delayMs: 80 });

describe('several conversations at once', () => {
  it('asks in a new chat while another is still answering, and Stop there stops only its own answer', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue(slowAnswer('First story.'));
    await ask(p, 'Tell me a long story');
    await conversation(p).getByText('First story.', { exact: false }).first().waitFor();
    const firstAddress = p.url();

    await p.getByRole('button', { name: 'New chat' }).click();
    // This conversation is idle: it offers Send, not the other one's Stop.
    expect(await p.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    ui.stack.upstream.enqueue(slowAnswer('Second story.'));
    await ask(p, 'Another story, please');
    await conversation(p).getByText('Second story.', { exact: false }).first().waitFor();
    expect(await conversation(p).getByText('First story.', { exact: false }).count()).toBe(0);
    await expect.poll(() => p.locator('.session-when', { hasText: 'Answering…' }).count()).toBe(2);

    const aborts = ui.stack.upstream.clientAborts;
    await p.getByRole('button', { name: 'Stop' }).click();
    await conversation(p).getByText('Stopped before the end.').waitFor();
    expect(ui.stack.upstream.clientAborts).toBe(aborts + 1);

    // The first conversation went on answering, out of sight, to its end.
    await p.goto(firstAddress);
    await expect.poll(() => p.locator('.message-meta').count(), { timeout: 20_000 }).toBe(1);
    expect(await conversation(p).getByText('Stopped before the end.').count()).toBe(0);
  });
});

describe('errors keep the question', () => {
  it('after a cut stream keeps what arrived and offers Retry', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue({ kind: 'cut', textBefore: 'Half an answer' });
    await ask(p, 'Cut me off');
    await conversation(p)
      .getByText(/^Cut short:/)
      .waitFor();
    await conversation(p).getByText('Half an answer').waitFor();
    await conversation(p).getByRole('button', { name: 'Retry' }).click();
    await conversation(p).getByText('You said: Cut me off').waitFor();
    await expect.poll(() => conversation(p).getByText('Half an answer').count()).toBe(0);
  });

  it('after an upstream failure shows the question, why it failed, and Retry that answers it in place', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    // Anthropic refuses (as it does a revoked key): not retried, so the failure reaches the person.
    ui.stack.upstream.enqueue({ kind: 'http-error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    await ask(p, 'Is anyone there?');
    await conversation(p).getByRole('alert').waitFor();
    await conversation(p).getByText('Is anyone there?').waitFor();

    await conversation(p).getByRole('button', { name: 'Retry' }).click();
    await conversation(p).getByText('You said: Is anyone there?').waitFor();
    await expect.poll(() => conversation(p).getByRole('alert').count()).toBe(0);
    expect(await conversation(p).getByRole('article', { name: 'You' }).count()).toBe(1);
  });

  it('puts a refused question and its files back in the message box, with the reason', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await signIn(p, ui.stack);
    await p.route('**/api/v1/chat', (route) =>
      route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ error: { type: 'invalid_request_error', message: 'That question cannot be asked.' } }),
      }),
    );
    await p.locator('input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
    await ask(p, 'Keep me');
    await conversation(p).getByText('That question cannot be asked.').waitFor();
    expect(await messageBox(p).inputValue()).toBe('Keep me');
    await p.getByRole('list', { name: 'Files to send' }).getByText('notes.txt').waitFor();
    expectStatusErrors(watched, 400);
  });

  it('refuses a file Perch cannot read when it is picked, says why, and keeps the text', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    expect(await p.locator('input[type="file"]').getAttribute('accept')).toContain('image/png');
    await messageBox(p).fill('Half-typed question');
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe]);
    await p.locator('input[type="file"]').setInputFiles([
      { name: 'archive.zip', mimeType: 'application/zip', buffer: zip },
      { name: 'dot.png', mimeType: 'image/png', buffer: PNG },
    ]);
    await p.getByText("'archive.zip' is not a supported file type").waitFor();
    expect(await messageBox(p).inputValue()).toBe('Half-typed question');
    const queued = p.getByRole('list', { name: 'Files to send' });
    await queued.getByText('dot.png').waitFor();
    expect(await queued.getByText('archive.zip').count()).toBe(0);
  });
});

describe('answers you can act on', () => {
  it('copies an answer, regenerates the last one, and edits a sent question in place', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'The first take.' });
    await ask(p, 'Give me a take');
    await conversation(p).getByText('The first take.').waitFor();

    await conversation(p).getByRole('button', { name: 'Copy', exact: true }).click();
    await conversation(p).getByRole('button', { name: 'Copied' }).waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe('The first take.');

    ui.stack.upstream.enqueue({ kind: 'answer', text: 'The second take.' });
    await conversation(p).getByRole('button', { name: 'Regenerate' }).click();
    await conversation(p).getByText('The second take.').waitFor();
    await expect.poll(() => conversation(p).getByText('The first take.').count()).toBe(0);
    expect(await conversation(p).getByRole('article', { name: 'You' }).count()).toBe(1);

    await conversation(p).getByRole('button', { name: 'Edit' }).click();
    const editor = p.getByRole('textbox', { name: 'Edit your message' });
    await editor.fill('Give me a better take');
    await editor.press('Enter');
    await conversation(p).getByText('You said: Give me a better take').waitFor();
    await expect.poll(() => conversation(p).getByText('The second take.').count()).toBe(0);
    expect(await conversation(p).getByRole('article', { name: 'You' }).allTextContents()).toEqual([
      expect.stringContaining('Give me a better take'),
    ]);
  });
});

describe('focus and keys', () => {
  it('puts the cursor in the message box on load, after New chat and after switching sessions', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await expect.poll(() => focusedLabel(p)).toBe('Message');
    await ask(p, 'Focus one');
    await conversation(p).getByText('You said: Focus one').waitFor();
    await p.getByRole('button', { name: 'New chat' }).click();
    await expect.poll(() => focusedLabel(p)).toBe('Message');
    await p.getByRole('link', { name: /Focus one/ }).click();
    await conversation(p).getByText('You said: Focus one').waitFor();
    await expect.poll(() => focusedLabel(p)).toBe('Message');
  });

  it('stops an answer with Esc, and the first Tab offers a skip link to the message box', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue(slowAnswer('Esc me.'));
    await ask(p, 'Something long');
    await conversation(p).getByText('Esc me.', { exact: false }).first().waitFor();
    await p.keyboard.press('Escape');
    await conversation(p).getByText('Stopped before the end.').waitFor();
    // What was generated before the stop is counted, estimated from the text that arrived.
    await expect.poll(() => p.locator('.message-meta').last().textContent()).toMatch(/ · ≈[1-9][\d,]* out · ≈\$/);

    // A keyboard arriving at the top of the page.
    await p.evaluate(() => {
      document.body.tabIndex = -1;
      document.body.focus();
    });
    await p.keyboard.press('Tab');
    expect(await focusedLabel(p)).toBe('Skip to the message box');
    await p.keyboard.press('Enter');
    await expect.poll(() => focusedLabel(p)).toBe('Message');
    expect(new URL(p.url()).hash).toMatch(/^#\/chat/);

    // Usage says which figures are estimates.
    await p.goto(`${ui.stack.url}/#/usage`);
    await expect.poll(() => p.getByTestId('usage-estimated').textContent()).toMatch(/answers? ended early/);
  });

  it('on a phone, Esc closes the sessions drawer and gives the focus back to its button', async () => {
    const p = await page({ width: 390, height: 844 });
    await signIn(p, ui.stack);
    await p.getByRole('button', { name: 'Sessions' }).click();
    await expect.poll(() => focusedLabel(p)).toBe('New chat');
    await p.keyboard.press('Escape');
    await expect.poll(() => p.getByRole('button', { name: 'Sessions' }).getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => p.evaluate(() => document.activeElement?.classList.contains('sidebar-toggle'))).toBe(true);
  });
});

describe('quick ask in a browser tab', () => {
  it('keeps the question above its answer, clears with Esc, and leads back to chat', async () => {
    const p = await page({ width: 1920, height: 900 });
    await signIn(p, ui.stack, '#/quick-ask');
    await p.keyboard.type('Where is the answer?');
    await p.keyboard.press('Enter');
    const answer = p.getByRole('region', { name: 'Answer' });
    await answer.getByText('You said: Where is the answer?').waitFor();
    expect(await answer.getByLabel('Your question').textContent()).toBe('Where is the answer?');
    const box = await answer.locator('.md-root').boundingBox();
    expect(box?.width).toBeLessThanOrEqual(800);

    await p.locator('body').click({ position: { x: 5, y: 890 } });
    await p.keyboard.press('Escape');
    await expect.poll(() => answer.count()).toBe(0);
    await p.getByRole('link', { name: 'Chat', exact: true }).click();
    await expect.poll(() => p.url()).toMatch(/#\/chat$/);
  });
});

describe('reading comfort', () => {
  it('shows answers at the size of the person’s words, code a step smaller, and readable comments in dark', async () => {
    const p = await page({ colorScheme: 'dark' });
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'Plain words here.\n\n```js\n// a comment\nconst x = 1;\n```' });
    await ask(p, 'Show me code');
    // The highlighter and its grammar load on first use: slow on a busy two-core machine.
    await p.locator('.md-code[data-highlighted="true"]').waitFor({ timeout: 45_000 });
    const sizes = await p.evaluate(() => {
      const px = (selector: string) => parseFloat(getComputedStyle(document.querySelector(selector) as Element).fontSize);
      return { answer: px('.md-root p'), question: px('.user-text'), code: px('.md-code-body pre') };
    });
    expect(sizes.answer).toBeGreaterThanOrEqual(16);
    expect(sizes.answer).toBeGreaterThanOrEqual(sizes.question);
    expect(sizes.code).toBeGreaterThanOrEqual(13.5);
    expect(sizes.code).toBeLessThanOrEqual(14.5);

    const contrast = await p.evaluate(() => {
      const rgb = (color: string) => (color.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
      const luminance = (color: string) => {
        const [r = 0, g = 0, b = 0] = rgb(color).map((value) => {
          const channel = value / 255;
          return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const comment = [...document.querySelectorAll('.md-code-body span')].find((span) => span.textContent === '// a comment');
      const block = document.querySelector('.md-code') as Element;
      const [a, b] = [luminance(getComputedStyle(comment as Element).color), luminance(getComputedStyle(block).backgroundColor)];
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
    expect(contrast).toBeGreaterThanOrEqual(4.5);
  }, 60_000);

  it('highlights the conversation while files are dragged over it, and shows thumbnails of attached images', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await p.evaluate(() => {
      const drag = new DataTransfer();
      drag.items.add(new File(['x'], 'x.txt', { type: 'text/plain' }));
      document
        .querySelector('section.messages')
        ?.dispatchEvent(new DragEvent('dragenter', { dataTransfer: drag, bubbles: true }));
    });
    await p.getByText('Drop to attach').waitFor();
    await p.evaluate(() => {
      const drag = new DataTransfer();
      document.querySelector('main.conversation')?.dispatchEvent(new DragEvent('drop', { dataTransfer: drag, bubbles: true }));
    });
    await expect.poll(() => p.getByText('Drop to attach').count()).toBe(0);

    await p.locator('input[type="file"]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const thumbnail = p.getByRole('list', { name: 'Files to send' }).locator('img.chip-thumbnail');
    await thumbnail.waitFor();
    await ask(p, 'Look at this');
    await conversation(p).getByText('You said: Look at this').waitFor();
    // The saved message fetches its thumbnail from the service.
    const saved = conversation(p).getByRole('list', { name: 'Attachments' }).locator('img.chip-thumbnail');
    await expect.poll(() => saved.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBe(1);
  });
});

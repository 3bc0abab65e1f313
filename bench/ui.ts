/**
 * The web UI's weight and speed in Chromium: gzipped JavaScript each view loads, time from
 * navigation to a usable message box, and main-thread time while a long answer streams in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, signIn, startUiStack, type UiStack } from '../test/ui/stack.js';

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** The JavaScript files a page fetched, gzipped as a server would send them. */
async function javascriptLoaded(page: Page, url: string, ready: (page: Page) => Promise<void>, rendererDir: string) {
  const files = new Set<string>();
  const onResponse = (response: { url: () => string }): void => {
    const pathname = new URL(response.url()).pathname;
    if (pathname.endsWith('.js')) files.add(pathname);
  };
  page.on('response', onResponse);
  await page.goto(url);
  await ready(page);
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  let raw = 0;
  let gzipped = 0;
  for (const file of files) {
    const content = readFileSync(path.join(rendererDir, file));
    raw += content.length;
    gzipped += gzipSync(content, { level: 9 }).length;
  }
  return { files: files.size, rawKb: round(raw / 1024), gzippedKb: round(gzipped / 1024) };
}

async function timeToInput(page: Page, url: string, rounds: number): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    await page.goto('about:blank');
    await page.goto(url, { waitUntil: 'commit' });
    // performance.now() counts from the navigation's start.
    const at = await page.waitForFunction(
      () => {
        const box = document.querySelector<HTMLTextAreaElement>('textarea[aria-label="Message"]');
        return box && !box.disabled ? performance.now() : false;
      },
      undefined,
      { polling: 'raf' },
    );
    times.push((await at.jsonValue()) as number);
  }
  return round(median(times));
}

function longAnswer(lines: number): string {
  const parts: string[] = [];
  for (let line = 0; parts.length < lines; line += 1) {
    if (line % 40 === 0) {
      parts.push('```ts');
      for (let code = 0; code < 12; code += 1)
        parts.push(`export function step${line}_${code}(value: number): number { return value * ${code} + ${line}; }`);
      parts.push('```', '');
    } else if (line % 9 === 0) {
      parts.push(`## Part ${line}`, '');
    } else {
      parts.push(
        `Line ${line}: the answer keeps going with **some emphasis**, a [link](https://example.com/${line}) and \`inline code\`.`,
      );
      if (line % 5 === 0) parts.push('');
    }
  }
  return parts.join('\n');
}

/** Reads CDP's main-thread task time (seconds), counted from when the reader was made. */
async function taskClock(page: Page): Promise<() => Promise<number>> {
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  return async () => {
    const { metrics } = await session.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'TaskDuration')?.value ?? Number.NaN;
  };
}

/** A fresh browser profile (empty cache) signed in through the API, as the sign-in form does. */
async function signedInPage(browser: Browser, stack: UiStack): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.request.post(`${stack.url}/api/v1/auth/session`, { data: { token: stack.token } });
  return context.newPage();
}

async function streamingCost(browser: Browser, stack: UiStack, lines: number): Promise<Record<string, number>> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signIn(page, stack);
  const text = longAnswer(lines);
  stack.upstream.enqueue({ kind: 'answer', text, chunks: Math.ceil(text.length / 40), delayMs: 1 });
  // Warm the lazy chunks (markdown, highlighter) so only the streaming itself is measured.
  stack.upstream.enqueue({ kind: 'answer', text: '```ts\nconst warm = 1;\n```' });
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('warm up');
  await box.press('Enter');
  await page.getByRole('button', { name: 'Copy code' }).first().waitFor();
  const taskSeconds = await taskClock(page);
  const before = await taskSeconds();
  const started = Date.now();
  await box.fill('a very long answer please');
  await box.press('Enter');
  // A cheap check twice a second: Playwright's role queries over a huge page would cost main-thread time themselves.
  const busy = (state: 'true' | 'false') =>
    page.waitForFunction((wanted) => document.querySelector('section.messages')?.getAttribute('aria-busy') === wanted, state, {
      polling: 500,
      timeout: 300_000,
    });
  await busy('true');
  await busy('false');
  const wall = (Date.now() - started) / 1000;
  const after = await taskSeconds();
  await context.close();
  return {
    lines,
    characters: text.length,
    wallSeconds: round(wall, 2),
    mainThreadSeconds: round(after - before, 2),
    mainThreadShare: round((after - before) / wall, 2),
  };
}

export async function measureUi(rendererDir: string): Promise<Record<string, unknown>> {
  const [stack, browser] = await Promise.all([startUiStack(), launchChromium()]);
  try {
    const messageBox = async (p: Page): Promise<void> => {
      await p.getByRole('textbox', { name: 'Message' }).waitFor();
    };
    // Each view in a fresh profile, so everything it needs is fetched and counted.
    const quickAskPage = await signedInPage(browser, stack);
    const quickAsk = await javascriptLoaded(quickAskPage, `${stack.url}/#/quick-ask`, messageBox, rendererDir);
    const chatPage = await signedInPage(browser, stack);
    const chat = await javascriptLoaded(chatPage, `${stack.url}/#/chat`, messageBox, rendererDir);
    const result = {
      javascript: { quickAsk, chat },
      // Warm cache, as in the desktop app after its first start.
      timeToUsableInputMs: {
        quickAsk: await timeToInput(quickAskPage, `${stack.url}/#/quick-ask`, 15),
        chat: await timeToInput(chatPage, `${stack.url}/#/chat`, 15),
      },
      streaming2000Lines: await streamingCost(browser, stack, 2000),
    };
    await quickAskPage.context().close();
    await chatPage.context().close();
    return result;
  } finally {
    await browser.close();
    await stack.stop();
  }
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { temporaryDataDir, TEST_API_KEY } from '../helpers/perch.js';
import { cliEnv, requireBuild, startServe, type ServeProcess } from '../cli/run-perch.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, headless, with nothing that reaches the network on its own. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`The browser tests need Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** `perch serve` (the built CLI) against a fake Anthropic upstream, in a fresh data folder. */
export interface UiStack {
  url: string;
  token: string;
  dataDir: string;
  upstream: FakeAnthropic;
  serve: ServeProcess;
  stop(): Promise<void>;
}

export async function startUiStack(options: { apiKey?: string | null } = {}): Promise<UiStack> {
  requireBuild();
  const upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
  const dataDir = temporaryDataDir();
  const apiKey = options.apiKey === undefined ? TEST_API_KEY : options.apiKey;
  const serve = await startServe(
    ['--port', '0'],
    cliEnv({ PERCH_DATA_DIR: dataDir, PERCH_UPSTREAM_URL: upstream.url, ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}) }),
  );
  return {
    url: serve.url,
    token: readFileSync(path.join(dataDir, 'token'), 'utf8').trim(),
    dataDir,
    upstream,
    serve,
    async stop() {
      serve.child.kill('SIGTERM');
      await serve.exited;
      await upstream.stop();
    },
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
}

/** Chromium logs every 4xx/5xx answer as a console error; a test that causes one on purpose says so. */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

export const isExpectedStatusError = (error: string, status: number): boolean =>
  error === `Failed to load resource: the server responded with a status of ${status} (${STATUS_TEXT[status] ?? ''})`;

/** Drops the console errors a test caused on purpose (a refused token, a rejected value). */
export function expectStatusErrors(watched: WatchedPage, status: number): void {
  watched.errors.splice(0, watched.errors.length, ...watched.errors.filter((error) => !isExpectedStatusError(error, status)));
}

/** A fresh browser profile and page that records every console error. */
export async function openPage(
  browser: Browser,
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    colorScheme: options.colorScheme ?? 'light',
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  // Shorter than a test's own timeout, so a step that never happens is named in the failure.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, context, errors };
}

/** Signs the page in the way a person does: the token in the "API token" field, then Enter. */
export async function signIn(page: Page, stack: UiStack, hash = '#/chat'): Promise<void> {
  await page.goto(`${stack.url}/${hash}`);
  await page.getByLabel('API token').fill(stack.token);
  await page.getByLabel('API token').press('Enter');
  // The sign-in form goes away (Settings has an "API token" of its own, so look for the form).
  await page.locator('form.sign-in-card').waitFor({ state: 'detached' });
}

export const screenshotDir = path.resolve(import.meta.dirname, '../../docs/screenshots');

type PageOptions = Parameters<typeof openPage>[1];

/** One test file's browser session: a `perch serve` stack, Chromium, and pages that must stay free of console errors. */
export interface BrowserTests {
  readonly stack: UiStack;
  readonly browser: Browser;
  watchedPage: (options?: PageOptions) => Promise<WatchedPage>;
  page: (options?: PageOptions) => Promise<Page>;
  /** The service's API with the stack's token, as a script calls it (`json`: a JSON body, POSTed unless a method is given). */
  api: (route: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;
}

/**
 * Starts the stack and Chromium before the file's tests and stops them after. After every test
 * its pages must have logged no console errors, and nothing it scripted is left for the next.
 */
export function useBrowserTests(): BrowserTests {
  let stack: UiStack | undefined;
  let browser: Browser | undefined;
  const pages: WatchedPage[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('The browser tests have not started yet (use them inside a test).');
    return value;
  };

  // Chromium's first start on a busy two-core machine can take a while.
  beforeAll(async () => {
    [stack, browser] = await Promise.all([startUiStack(), launchChromium()]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });
  afterEach(async () => {
    stack?.upstream.clearQueue();
    for (const watched of pages.splice(0)) {
      expect(watched.errors).toEqual([]);
      await watched.context.close();
    }
  });

  const watchedPage = async (options: PageOptions = {}): Promise<WatchedPage> => {
    const watched = await openPage(started(browser), options);
    pages.push(watched);
    return watched;
  };
  return {
    get stack() {
      return started(stack);
    },
    get browser() {
      return started(browser);
    },
    watchedPage,
    page: async (options) => (await watchedPage(options)).page,
    api: async (route, init = {}) => {
      const { json, ...rest } = init;
      const { url, token } = started(stack);
      return fetch(`${url}${route}`, {
        ...rest,
        headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(json === undefined ? {} : { method: rest.method ?? 'POST', body: JSON.stringify(json) }),
      });
    },
  };
}

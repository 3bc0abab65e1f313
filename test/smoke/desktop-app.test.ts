/**
 * The smoke test: the real desktop app, started with Playwright's Electron support. It starts
 * the built app (Electron's binary running out/, as `npm start` does) or, with
 * PERCH_SMOKE_PACKAGED=<electron-builder --dir output>, the packaged one (asar, better-sqlite3
 * rebuilt for Electron), with a temporary data folder and a fake Anthropic upstream, and checks
 * what matters on a real machine: the local API comes up, both windows load the UI from
 * perch://app with no console errors, they are sandboxed, a question typed in the chat gets its
 * answer, and Quit ends every process of the app.
 *
 * Where Electron cannot run (no binary, or no display) it is skipped, and says why; with
 * PERCH_SMOKE_REQUIRED=1 (CI) that is a failure instead. README → Development says how to run it.
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { isAlive } from '../../main/core/tasks/process-tree.js';
import { TEST_API_KEY } from '../helpers/perch.js';
import { repositoryRoot, smokePlan } from './target.js';
import { unusedPort } from '../helpers/ports.js';

const plan = smokePlan();
const required = process.env.PERCH_SMOKE_REQUIRED === '1';
const skipped = 'skip' in plan && !required;
if ('skip' in plan) console.info(`Desktop smoke test ${required ? 'cannot run' : 'skipped'}: ${plan.skip}.`);

const title =
  'skip' in plan
    ? `the desktop app, for real (${required ? 'cannot run' : 'skipped'}: ${plan.skip})`
    : `the desktop app, for real (${plan.target.kind})`;
const QUESTION = 'Is the smoke test answered?';

/**
 * Whether the OS confines a renderer: Electron says so on macOS and Windows; on Linux, Chromium's
 * sandbox puts every renderer under a seccomp-bpf filter (mode 2 in /proc/<pid>/status).
 */
function osSandboxed(pid: number, reported: boolean | undefined): boolean {
  if (process.platform !== 'linux') return reported === true;
  return /^Seccomp:\s*2$/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

describe.skipIf(skipped)(title, () => {
  /** What beforeAll started; a start that failed half-way leaves the rest unset for afterAll. */
  const running: { upstream?: FakeAnthropic; dataDir?: string; app?: ElectronApplication } = {};
  let port = 0;
  const problems: string[] = [];
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The smoke test's ${what} did not start.`);
    return value;
  };
  const app = (): ElectronApplication => started(running.app, 'app');
  const dataDir = (): string => started(running.dataDir, 'data folder');
  const upstream = (): FakeAnthropic => started(running.upstream, 'fake upstream');

  /** Every console error and uncaught exception of a window, from its first load. */
  const watch = (page: Page): void => {
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`${page.url()}: console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  };

  const pageOn = (route: string): Page | undefined =>
    app()
      .windows()
      .find((page) => page.url().endsWith(`#/${route}`));
  const windowOn = async (route: string): Promise<Page> => {
    await expect.poll(() => pageOn(route) !== undefined, { timeout: 30_000 }).toBe(true);
    return pageOn(route) as Page;
  };

  beforeAll(async () => {
    if ('skip' in plan) throw new Error(`The desktop smoke test cannot run: ${plan.skip}.`);
    running.upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
    running.dataDir = mkdtempSync(path.join(tmpdir(), 'perch-smoke-'));
    port = await unusedPort();
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && name !== 'ELECTRON_RUN_AS_NODE' && !name.startsWith('PERCH_')) env[name] = value;
    }
    running.app = await _electron
      .launch({
        executablePath: plan.target.executablePath,
        args: plan.target.args,
        cwd: repositoryRoot,
        // Keep Chromium's own sandbox on Linux too (Playwright turns it off there by default).
        chromiumSandbox: true,
        env: {
          ...env,
          PERCH_DATA_DIR: dataDir(),
          PERCH_PORT: String(port),
          PERCH_HOST: '127.0.0.1',
          PERCH_UPSTREAM_URL: upstream().url,
          ANTHROPIC_API_KEY: TEST_API_KEY,
          // Linux: start at login is an XDG autostart file; keep any inside the temporary folder.
          XDG_CONFIG_HOME: path.join(dataDir(), 'xdg'),
        },
        timeout: 60_000,
      })
      .catch((error: unknown) => {
        // Playwright drives the main process through Node's inspector, which a release build's
        // fuses switch off.
        const hint =
          plan.target.kind === 'packaged'
            ? ' A packaged app can be driven only when built with -c.electronFuses.enableNodeCliInspectArguments=true (README → Development).'
            : '';
        throw new Error(`${(error as Error).message}${hint}`, { cause: error });
      });
    app().on('window', watch);
    // Windows that opened before Playwright was watching load again, watched.
    for (const page of app().windows()) {
      watch(page);
      await page.reload();
    }
  }, 120_000);

  afterAll(async () => {
    const { app: launched, upstream: fake, dataDir: folder } = running;
    if (launched?.process().exitCode === null) await launched.close().catch(() => undefined);
    await fake?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }, 60_000);

  it('brings up the local API', { timeout: 60_000 }, async () => {
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => undefined))?.status, {
        timeout: 30_000,
      })
      .toBe(200);
    expect(existsSync(path.join(dataDir(), 'service.json'))).toBe(true);
  });

  it('loads the chat and quick-ask windows from perch://app', { timeout: 90_000 }, async () => {
    const chat = await windowOn('chat');
    const quickAsk = await windowOn('quick-ask');
    expect(chat.url()).toBe('perch://app/index.html#/chat');
    expect(quickAsk.url()).toBe('perch://app/index.html#/quick-ask');
    await chat.getByRole('textbox', { name: 'Message' }).waitFor({ timeout: 30_000 });
    await quickAsk.getByRole('textbox', { name: 'Message' }).waitFor({ state: 'attached', timeout: 30_000 });
  });

  it('runs every window in a sandboxed renderer, without Node', { timeout: 30_000 }, async () => {
    const { windows, processes } = await app().evaluate(({ app: electronApp, BrowserWindow }) => ({
      windows: BrowserWindow.getAllWindows().map((window) => ({
        url: window.webContents.getURL(),
        pid: window.webContents.getOSProcessId(),
      })),
      processes: electronApp.getAppMetrics().map(({ pid, type, sandboxed }) => ({ pid, type, sandboxed })),
    }));
    expect(windows.map((window) => window.url).sort()).toEqual([
      'perch://app/index.html#/chat',
      'perch://app/index.html#/quick-ask',
    ]);
    for (const window of windows) {
      const renderer = processes.find((metric) => metric.pid === window.pid);
      expect(renderer?.type, window.url).toBe('Tab');
      // A renderer with Node (sandbox: false) cannot be sandboxed by the OS, so this is both.
      expect(osSandboxed(window.pid, renderer?.sandboxed), window.url).toBe(true);
    }
    for (const page of app().windows()) {
      // The page sees the bridge, and nothing of Node.
      expect(await page.evaluate('[typeof window.perch, typeof window.require, typeof window.process]')).toEqual([
        'object',
        'undefined',
        'undefined',
      ]);
    }
  });

  it('answers a question typed into the chat window', { timeout: 60_000 }, async () => {
    const chat = await windowOn('chat');
    const message = chat.getByRole('textbox', { name: 'Message' });
    await message.fill(QUESTION);
    await message.press('Enter');
    await chat.getByText(`You said: ${QUESTION}`).waitFor({ timeout: 30_000 });
    expect(upstream().messageRequests.length).toBeGreaterThan(0);
  });

  it('logged no console errors in any window', () => {
    expect(problems).toEqual([]);
  });

  it('quits cleanly on Quit: the service stops and no process of the app is left', { timeout: 60_000 }, async () => {
    const pids = await app().evaluate(({ app: electronApp }) => electronApp.getAppMetrics().map((metric) => metric.pid));
    expect(pids.length).toBeGreaterThan(0);
    const child = app().process();
    const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve([child.exitCode, null]);
    // What the tray's Quit item does.
    await app().evaluate(({ app: electronApp }) => void setImmediate(() => electronApp.quit()));
    const [code] = (await exited) as [number | null, string | null];
    expect(code).toBe(0);
    expect(existsSync(path.join(dataDir(), 'service.json'))).toBe(false);
    await expect.poll(() => pids.filter(isAlive), { timeout: 15_000 }).toEqual([]);
  });
});

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { IpcChannel, type DesktopStatus, type ServiceConnection } from '../../preload/bridge.js';
import { cliEnv, runPerch } from '../cli/run-perch.js';
import { startFakeAnthropic } from '../fixtures/fake-anthropic.js';
import { TEST_API_KEY, temporaryDataDir } from '../helpers/perch.js';
import { projectFolder } from '../helpers/tasks.js';
import type { ChildMessage, Command, PermissionAnswer, RecordedWindow, StandInState } from './stand-in/protocol.js';
import { unusedPort } from '../helpers/ports.js';

/**
 * The built Electron main process (out/main/desktop.js), run in plain Node with a recording
 * stand-in for the `electron` module: what the desktop app does at start, from the tray, and
 * on quit, without the Electron binary.
 */

const root = path.resolve(import.meta.dirname, '../..');
const mainEntry = path.join(root, 'out/main/desktop.js');

type Command_ = Command extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

class DesktopProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly port: number,
  ) {
    child.on('message', (message: ChildMessage) => {
      if (!('id' in message)) return;
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(new Error(message.error));
    });
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  send<T = StandInState>(command: Command_): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...command, id });
    });
  }

  state(): Promise<StandInState> {
    return this.send({ type: 'state' });
  }

  async window(route: string): Promise<RecordedWindow> {
    const found = (await this.state()).windows.find((window) => window.url.endsWith(`#/${route}`));
    if (!found) throw new Error(`No window on #/${route}`);
    return found;
  }
}

const running: DesktopProcess[] = [];
afterEach(async () => {
  for (const desktop of running.splice(0)) {
    desktop.child.kill('SIGKILL');
    await desktop.exited;
  }
});

async function launch(
  options: { env?: NodeJS.ProcessEnv; args?: string[]; port?: number; dataDir?: string } = {},
): Promise<DesktopProcess> {
  if (!existsSync(mainEntry)) throw new Error('out/main/desktop.js is missing: run `npm run build` first.');
  const dataDir = options.dataDir ?? temporaryDataDir();
  const port = options.port ?? (await unusedPort());
  const child = fork(mainEntry, options.args ?? [], {
    cwd: root,
    // A URL, not a path: `--import C:\\…` would read as a URL with the scheme c: on Windows.
    execArgv: ['--import', 'tsx', '--import', pathToFileURL(path.join(import.meta.dirname, 'stand-in/register.mjs')).href],
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      XDG_CONFIG_HOME: path.join(dataDir, 'xdg'),
      PERCH_DATA_DIR: dataDir,
      PERCH_PORT: String(port),
      PERCH_UPSTREAM_URL: 'http://127.0.0.1:9',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const desktop = new DesktopProcess(child, dataDir, port);
  running.push(desktop);
  return desktop;
}

/** Waits until the app has finished starting: its tray has a menu and quick ask is made (the last step). */
async function started(desktop: DesktopProcess): Promise<StandInState> {
  const ready = (state: StandInState): boolean =>
    (state.tray?.menu.length ?? 0) > 0 && state.windows.some((window) => window.url.endsWith('#/quick-ask'));
  await expect
    .poll(async () => ready(await desktop.state()), { timeout: 15_000 })
    .toBe(true)
    .catch((error: unknown) => {
      throw new Error(`The desktop app did not start: ${String(error)}\n${desktop.output.join('')}`);
    });
  return desktop.state();
}

const labels = (state: StandInState): string[] => state.tray?.menu.map((item) => item.label ?? '—') ?? [];

describe('tasks in the desktop app', () => {
  it('says in the tray and a notification when a task needs the person, and both open the task', async () => {
    const upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
    try {
      const dataDir = temporaryDataDir();
      const folder = projectFolder();
      const added = await runPerch(['workspace', 'add', folder, '--name', 'app'], { env: cliEnv({ PERCH_DATA_DIR: dataDir }) });
      expect(added.code).toBe(0);
      const desktop = await launch({ dataDir, env: { PERCH_UPSTREAM_URL: upstream.url, ANTHROPIC_API_KEY: TEST_API_KEY } });
      await started(desktop);
      upstream.enqueue({
        kind: 'tool-use',
        tool: { id: 'toolu_d1', name: 'Write', input: { file_path: path.join(folder, 'x.md'), content: 'x' } },
      });
      const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${desktop.port}/api/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Write x.md', workspace: 'app' }),
      });
      const task = (await res.json()) as { id: string };
      await expect.poll(async () => labels(await desktop.state())[0], { timeout: 20_000 }).toBe('Task needs you: Write x.md');
      const state = await desktop.state();
      expect(state.notifications).toContainEqual({
        title: 'Claude needs you',
        body: 'Write x.md: a request waits for your answer.',
      });
      // Its own icon, not the one for an answer being written: this one needs the person.
      expect(path.basename(state.tray?.image ?? '')).toBe(
        process.platform === 'darwin' ? 'trayAttentionTemplate.png' : 'tray-attention.png',
      );
      expect(existsSync(state.tray?.image ?? '')).toBe(true);
      expect(state.tray?.toolTip).toBe('Perch: task needs you: Write x.md');
      expect(state.tray?.title).toBe(process.platform === 'darwin' ? '1' : '');
      await desktop.send({ type: 'click-tray', label: 'Task needs you: Write x.md' });
      await desktop.window(`tasks/${task.id}`);
      await desktop.send({ type: 'click-notification', title: 'Claude needs you' });
      await desktop.window(`tasks/${task.id}`);
      await fetch(`http://127.0.0.1:${desktop.port}/api/v1/tasks/${task.id}/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      await expect.poll(async () => labels(await desktop.state())[0], { timeout: 10_000 }).toBe('Quick Ask');
      const after = await desktop.state();
      expect(path.basename(after.tray?.image ?? '')).toMatch(/^tray(Template)?\.png$/);
      expect(after.tray?.toolTip).toBe('Perch');
    } finally {
      await upstream.stop();
    }
  });
});

describe('the desktop main process', () => {
  it('takes the single-instance lock, starts the service, and puts Perch in the tray with its menu', async () => {
    const desktop = await launch();
    const state = await started(desktop);
    expect(state.lockRequested).toBe(true);
    expect(state.privilegedSchemes).toEqual(['perch']);
    expect(state.tray?.toolTip).toBe('Perch');
    expect(existsSync(state.tray?.image ?? '')).toBe(true);
    expect(labels(state)).toEqual([
      'Quick Ask',
      'Open Chat',
      'Tasks',
      'Settings',
      '—',
      `API on 127.0.0.1:${desktop.port}`,
      'Copy API Token',
      'Open Logs Folder',
      '—',
      'Start at Login',
      '—',
      'Quit',
    ]);
    expect(state.tray?.menu[0]?.accelerator).toBe('CommandOrControl+Shift+Space');
    expect(state.tray?.menu[5]?.enabled).toBe(false);

    const health = await fetch(`http://127.0.0.1:${desktop.port}/api/v1/health`);
    expect(health.status).toBe(200);
  });

  it('registers the quick-ask shortcut and pre-creates the quick-ask window hidden, sandboxed, with the preload', async () => {
    const desktop = await launch();
    const state = await started(desktop);
    expect(state.shortcuts).toEqual(['CommandOrControl+Shift+Space']);
    const quickAsk = await desktop.window('quick-ask');
    expect(quickAsk.url).toBe('perch://app/index.html#/quick-ask');
    expect(quickAsk.visible).toBe(false);
    expect(quickAsk.options).toMatchObject({ frame: false, alwaysOnTop: true, skipTaskbar: true, show: false });
    for (const window of state.windows) {
      const preferences = window.options.webPreferences as Record<string, unknown>;
      expect(preferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
      expect(preferences.preload).toBe(path.join(root, 'out/preload/index.cjs'));
      expect(existsSync(preferences.preload as string)).toBe(true);
    }
    // The chat window opens at start (not hidden by a setting or --hidden).
    expect((await desktop.window('chat')).visible).toBe(true);
  });

  it('shows quick ask from the tray, centred on the display under the pointer, and toggles it with the shortcut', async () => {
    const desktop = await launch();
    await started(desktop);
    await desktop.send({ type: 'click-tray', label: 'Quick Ask' });
    const shown = await desktop.window('quick-ask');
    expect(shown.visible).toBe(true);
    expect(shown.bounds).toEqual({ x: 620, y: 220, width: 680, height: 420 });
    await desktop.send({ type: 'press-shortcut', accelerator: 'CommandOrControl+Shift+Space' });
    expect((await desktop.window('quick-ask')).visible).toBe(false);
  });

  it('hides quick ask shortly after it loses focus, unless pinned', async () => {
    const desktop = await launch();
    await started(desktop);
    await desktop.send({ type: 'press-shortcut', accelerator: 'CommandOrControl+Shift+Space' });
    const { id } = await desktop.window('quick-ask');
    await desktop.send({ type: 'send', channel: IpcChannel.pinQuickAsk, windowId: id, args: [true] });
    await desktop.send({ type: 'blur', windowId: id });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await desktop.window('quick-ask')).visible).toBe(true);
    await desktop.send({ type: 'send', channel: IpcChannel.pinQuickAsk, windowId: id, args: [false] });
    await desktop.send({ type: 'blur', windowId: id });
    await expect.poll(async () => (await desktop.window('quick-ask')).visible).toBe(false);
  });

  it('opens a task that quick ask started in the main window, and ignores an id that is not a task', async () => {
    const desktop = await launch();
    await started(desktop);
    await desktop.send({ type: 'press-shortcut', accelerator: 'CommandOrControl+Shift+Space' });
    const { id } = await desktop.window('quick-ask');
    await desktop.send({ type: 'send', channel: IpcChannel.openTask, windowId: id, args: ['../settings'] });
    expect((await desktop.state()).windows.some((window) => window.url.includes('#/tasks'))).toBe(false);
    await desktop.send({ type: 'send', channel: IpcChannel.openTask, windowId: id, args: ['task_0abc123'] });
    expect((await desktop.window('tasks/task_0abc123')).visible).toBe(true);
    expect((await desktop.window('quick-ask')).visible).toBe(false);
  });

  it('gives the connection to its own windows only', async () => {
    const desktop = await launch();
    await started(desktop);
    const { id } = await desktop.window('quick-ask');
    const connection = await desktop.send<ServiceConnection>({ type: 'invoke', channel: IpcChannel.getConnection, windowId: id });
    expect(connection.baseUrl).toBe(`http://127.0.0.1:${desktop.port}`);
    expect(connection.token).toBe(readFileSync(path.join(desktop.dataDir, 'token'), 'utf8').trim());
    expect(connection.desktopSecret.length).toBeGreaterThan(30);
    await expect(desktop.send({ type: 'invoke', channel: IpcChannel.getConnection, windowId: null })).rejects.toThrow(/Refused/);

    // The app's own pages may change security settings with the per-launch secret.
    const settings = await fetch(`${connection.baseUrl}/api/v1/settings`, {
      headers: {
        authorization: `Bearer ${connection.token}`,
        'x-perch-desktop': connection.desktopSecret,
        origin: 'perch://app',
      },
    });
    expect(settings.headers.get('access-control-allow-origin')).toBe('perch://app');
    expect(((await settings.json()) as { editable: { security: boolean } }).editable.security).toBe(true);

    const status = await desktop.send<DesktopStatus>({ type: 'invoke', channel: IpcChannel.getDesktopStatus, windowId: id });
    expect(status).toEqual({
      shortcut: { accelerator: 'CommandOrControl+Shift+Space', registered: true },
      loginItem: { enabled: false },
      port: null,
    });
  });

  it('serves the UI from perch://app with a strict content security policy, and nothing outside it', async () => {
    const desktop = await launch();
    await started(desktop);
    type Served = { status: number; headers: Record<string, string>; body: string };
    const page = await desktop.send<Served>({ type: 'fetch-app', url: 'perch://app/index.html' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.headers['content-security-policy']).toContain(`connect-src http://127.0.0.1:${desktop.port}`);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const escape = await desktop.send<Served>({ type: 'fetch-app', url: 'perch://app/..%2F..%2Fpackage.json' });
    expect(escape.status).toBe(404);
  });

  it('says once in a notification, and always in Settings, when the shortcut is not available, and keeps working', async () => {
    const taken = { STAND_IN_TAKEN_SHORTCUT: 'CommandOrControl+Shift+Space' };
    const first = await launch({ env: taken });
    const state = await started(first);
    expect(state.shortcuts).toEqual([]);
    expect(state.tray?.menu[0]?.accelerator).toBeUndefined();
    expect(state.notifications.map((notice) => notice.title)).toContain('Quick Ask shortcut not available');
    await first.send({ type: 'click-tray', label: 'Quick Ask' });
    expect((await first.window('quick-ask')).visible).toBe(true);
    await first.send({ type: 'click-tray', label: 'Quit' });
    expect(await first.exited).toBe(0);

    // The next start (on Wayland without the portal, every start) shows no notification…
    const again = await launch({ env: taken, dataDir: first.dataDir });
    const next = await started(again);
    expect(next.notifications.map((notice) => notice.title)).not.toContain('Quick Ask shortcut not available');
    // …while Settings still says why.
    const { id } = await again.window('quick-ask');
    const status = await again.send<DesktopStatus>({ type: 'invoke', channel: IpcChannel.getDesktopStatus, windowId: id });
    expect(status.shortcut).toMatchObject({ registered: false, error: expect.stringContaining('CommandOrControl+Shift+Space') });
  });

  it('runs on another port when its port is taken, and says so', async () => {
    const blocker = net.createServer();
    const port = await unusedPort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const desktop = await launch({ port });
      const state = await started(desktop);
      const statusLine = labels(state)[5] ?? '';
      expect(statusLine).toMatch(new RegExp(`^API on 127\\.0\\.0\\.1:\\d+ \\(port ${port} was in use\\)$`));
      expect(state.notifications.map((notice) => notice.title)).toContain(`Port ${port} is in use`);
      const actual = Number(/:(\d+)/.exec(statusLine)?.[1]);
      expect((await fetch(`http://127.0.0.1:${actual}/api/v1/health`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('starts in the tray only with --hidden, and a second launch with --quick-ask shows quick ask', async () => {
    const desktop = await launch({ args: ['--hidden'] });
    const state = await started(desktop);
    expect(state.windows.filter((window) => window.visible)).toEqual([]);
    await desktop.send({ type: 'second-instance', argv: ['perch', '--quick-ask'] });
    await expect.poll(async () => (await desktop.window('quick-ask')).visible).toBe(true);
    await desktop.send({ type: 'second-instance', argv: ['perch'] });
    await expect.poll(async () => (await desktop.window('chat')).visible).toBe(true);
  });

  it('opens nothing when a second launch asks to stay hidden (a login item firing while Perch runs)', async () => {
    const desktop = await launch({ args: ['--hidden'] });
    await started(desktop);
    await desktop.send({ type: 'second-instance', argv: ['perch', '--hidden'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await desktop.state()).windows.filter((window) => window.visible)).toEqual([]);
  });

  it('opens the chat when macOS reopens it (Perch opened again from the Finder or Spotlight)', async () => {
    const desktop = await launch({ args: ['--hidden'] });
    await started(desktop);
    await desktop.send({ type: 'activate' });
    await expect
      .poll(async () => (await desktop.state()).windows.some((window) => window.url.endsWith('#/chat') && window.visible))
      .toBe(true);
  });

  it.skipIf(process.platform === 'darwin')('toggles quick ask on a left click on the tray icon (Windows, KDE)', async () => {
    const desktop = await launch();
    await started(desktop);
    await desktop.send({ type: 'click-tray-icon' });
    expect((await desktop.window('quick-ask')).visible).toBe(true);
    await desktop.send({ type: 'click-tray-icon' });
    expect((await desktop.window('quick-ask')).visible).toBe(false);
  });

  it('lets its own pages, and no others, reach the local service under Local Network Access', async () => {
    const desktop = await launch();
    await started(desktop);
    for (const permission of ['loopback-network', 'local-network-access']) {
      expect(await desktop.send<PermissionAnswer>({ type: 'permission', permission, origin: 'perch://app' })).toEqual({
        check: true,
        request: true,
      });
      expect(await desktop.send<PermissionAnswer>({ type: 'permission', permission, origin: 'https://example.com' })).toEqual({
        check: false,
        request: false,
      });
    }
    expect(
      await desktop.send<PermissionAnswer>({ type: 'permission', permission: 'geolocation', origin: 'perch://app' }),
    ).toEqual({
      check: false,
      request: false,
    });
  });

  it('hands its windows a loopback address when the API listens on every address (api.host 0.0.0.0)', async () => {
    const desktop = await launch({ env: { PERCH_HOST: '0.0.0.0' } });
    await started(desktop);
    const { id } = await desktop.window('quick-ask');
    const connection = await desktop.send<ServiceConnection>({ type: 'invoke', channel: IpcChannel.getConnection, windowId: id });
    expect(connection.baseUrl).toBe(`http://127.0.0.1:${desktop.port}`);
    const page = await desktop.send<{ headers: Record<string, string> }>({ type: 'fetch-app', url: 'perch://app/index.html' });
    expect(page.headers['content-security-policy']).toContain(`connect-src http://127.0.0.1:${desktop.port}`);
    const health = await fetch(`${connection.baseUrl}/api/v1/health`, { headers: { origin: 'perch://app' } });
    expect(health.status).toBe(200);
  });

  it('sets up the app before it is ready: no default menu, the Wayland shortcut portal, and its Windows identity', async () => {
    const desktop = await launch();
    const state = await started(desktop);
    if (process.platform === 'darwin') {
      expect(state.applicationMenu).toEqual(['appMenu', 'fileMenu', 'editMenu', 'windowMenu']);
    } else {
      expect(state.applicationMenu).toBeNull();
    }
    if (process.platform === 'linux') {
      expect(state.switchesAtReady['enable-features']).toContain('GlobalShortcutsPortal');
    }
    // A development run has no installed shortcut: Electron's own executable stands in.
    expect(state.appUserModelId).toBe(process.platform === 'win32' ? process.execPath : null);
  });

  // Linux's login item is a file this test can read; macOS and Windows keep theirs in the OS.
  it.runIf(process.platform === 'linux')(
    'switches start at login from the tray: an XDG autostart entry, the setting, and the checkbox agree',
    async () => {
      const desktop = await launch();
      await started(desktop);
      const entry = path.join(desktop.dataDir, 'xdg/autostart/perch.desktop');
      expect(existsSync(entry)).toBe(false);
      await desktop.send({ type: 'click-tray', label: 'Start at Login' });
      // A development run starts the same program on the same app folder.
      expect(readFileSync(entry, 'utf8')).toContain(`\nExec=${process.execPath} ${root}\n`);
      const config = JSON.parse(readFileSync(path.join(desktop.dataDir, 'config.json'), 'utf8')) as {
        desktop: { startAtLogin: boolean };
      };
      expect(config.desktop.startAtLogin).toBe(true);
      const checkbox = (await desktop.state()).tray?.menu.find((item) => item.label === 'Start at Login');
      expect(checkbox?.checked).toBe(true);
      await desktop.send({ type: 'click-tray', label: 'Start at Login' });
      expect(existsSync(entry)).toBe(false);
    },
  );

  it('believes the OS over the settings file about start at login', async () => {
    const dataDir = temporaryDataDir();
    writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ desktop: { startAtLogin: true } }));
    const desktop = await launch({ dataDir });
    const state = await started(desktop);
    expect(state.tray?.menu.find((item) => item.label === 'Start at Login')?.checked).toBe(false);
    const config = JSON.parse(readFileSync(path.join(dataDir, 'config.json'), 'utf8')) as { desktop: { startAtLogin: boolean } };
    expect(config.desktop.startAtLogin).toBe(false);
  });

  it('quits at once when another instance holds the lock', async () => {
    const desktop = await launch({ env: { STAND_IN_LOCK: 'taken' } });
    expect(await desktop.exited).toBe(0);
  });

  it('copies the token from the tray, and on Quit stops the service cleanly', async () => {
    const desktop = await launch();
    await started(desktop);
    const state = await desktop.send({ type: 'click-tray', label: 'Copy API Token' });
    expect(state.clipboard).toEqual([readFileSync(path.join(desktop.dataDir, 'token'), 'utf8').trim()]);
    expect(existsSync(path.join(desktop.dataDir, 'service.json'))).toBe(true);
    await desktop.send({ type: 'click-tray', label: 'Quit' });
    expect(await desktop.exited).toBe(0);
    expect(existsSync(path.join(desktop.dataDir, 'service.json'))).toBe(false);
  });

  it('remembers where the chat window was when the app quits with it open', async () => {
    const desktop = await launch();
    await started(desktop);
    await desktop.window('chat');
    await desktop.send({ type: 'click-tray', label: 'Quit' });
    expect(await desktop.exited).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(desktop.dataDir, 'window-state.json'), 'utf8')) as Record<string, unknown>;
    expect(saved.main).toEqual({ bounds: { x: 0, y: 0, width: 1100, height: 760 }, maximized: false });
  });
});

/**
 * A recording stand-in for the `electron` module, so the built main process can run in plain
 * Node: it records what the app asks of Electron and lets the test drive it (click a tray item,
 * press the shortcut, call IPC as a window) over the child-process channel.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, PermissionAnswer, Reply, StandInState } from './protocol.js';

type Listener = (...args: unknown[]) => unknown;
type MenuItem = {
  label?: string;
  role?: string;
  type?: string;
  accelerator?: string;
  enabled?: boolean;
  checked?: boolean;
  click?: Listener;
};

const state: StandInState = {
  lockRequested: false,
  privilegedSchemes: [],
  tray: null,
  shortcuts: [],
  windows: [],
  notifications: [],
  clipboard: [],
  openedExternally: [],
  loginItems: [],
  dockHidden: false,
  switchesAtReady: {},
  appUserModelId: null,
  applicationMenu: 'default',
};
const switches: Record<string, string> = {};
let permissionRequestHandler: ((...args: unknown[]) => void) | undefined;
let permissionCheckHandler: ((...args: unknown[]) => boolean) | undefined;
let tray: Tray | undefined;
let trayMenu: MenuItem[] = [];
const shortcutHandlers = new Map<string, Listener>();
const ipcHandlers = new Map<string, Listener>();
const ipcListeners = new Map<string, Listener[]>();
const protocolHandlers = new Map<string, (request: { url: string }) => Promise<Response> | Response>();
const paths = new Map<string, string>([['userData', path.join(os.tmpdir(), 'perch-stand-in-default')]]);

class StandInApp extends EventEmitter {
  isPackaged = false;
  dock = { hide: (): void => void (state.dockHidden = true) };
  commandLine = {
    getSwitchValue: (name: string): string => switches[name] ?? '',
    appendSwitch: (name: string, value = ''): void => void (switches[name] = value),
  };
  private ready: Promise<void> | undefined;

  getPath(name: string): string {
    return paths.get(name) ?? os.tmpdir();
  }
  setPath(name: string, value: string): void {
    paths.set(name, value);
  }
  getAppPath(): string {
    return process.cwd();
  }
  getVersion(): string {
    return '0.0.0-stand-in';
  }
  requestSingleInstanceLock(): boolean {
    state.lockRequested = true;
    return process.env.STAND_IN_LOCK !== 'taken';
  }
  setAppUserModelId(id: string): void {
    state.appUserModelId = id;
  }
  whenReady(): Promise<void> {
    this.ready ??= new Promise((resolve) =>
      setImmediate(() => {
        state.switchesAtReady = { ...switches };
        this.emit('ready');
        resolve();
      }),
    );
    return this.ready;
  }
  quit(): void {
    const event = { defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.exit(0);
  }
  exit(code = 0): void {
    process.exit(code);
  }
  hide(): void {}
  getLoginItemSettings(): { openAtLogin: boolean } {
    return { openAtLogin: false };
  }
  setLoginItemSettings(settings: unknown): void {
    state.loginItems.push(settings);
  }
}
export const app = new StandInApp();

class WebContents extends EventEmitter {
  url = '';
  openHandler: Listener | undefined;
  constructor(readonly id: number) {
    super();
  }
  setWindowOpenHandler(handler: Listener): void {
    this.openHandler = handler;
  }
  getURL(): string {
    return this.url;
  }
  send(): void {}
}

let nextWindowId = 1;
const windows: BrowserWindow[] = [];

export class BrowserWindow extends EventEmitter {
  readonly id = nextWindowId++;
  readonly webContents = new WebContents(this.id);
  private readonly record;
  private destroyed = false;

  static getAllWindows(): BrowserWindow[] {
    return windows.filter((window) => !window.destroyed);
  }

  constructor(options: Record<string, unknown> = {}) {
    super();
    const width = typeof options.width === 'number' ? options.width : 800;
    const height = typeof options.height === 'number' ? options.height : 600;
    this.record = { id: this.id, options, url: '', visible: options.show !== false, bounds: { x: 0, y: 0, width, height } };
    state.windows.push(this.record);
    windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url: string): Promise<void> {
    this.record.url = url;
    this.webContents.url = url;
    setImmediate(() => this.emit('ready-to-show'));
    return Promise.resolve();
  }
  show(): void {
    this.record.visible = true;
    this.emit('show');
  }
  hide(): void {
    this.record.visible = false;
  }
  focus(): void {
    this.emit('focus');
  }
  close(): void {
    this.emit('close');
    this.destroyed = true;
    this.emit('closed');
  }
  isVisible(): boolean {
    return this.record.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return false;
  }
  isMaximized(): boolean {
    return false;
  }
  restore(): void {}
  maximize(): void {}
  getBounds(): StandInState['windows'][number]['bounds'] {
    return { ...this.record.bounds };
  }
  getNormalBounds(): StandInState['windows'][number]['bounds'] {
    return this.getBounds();
  }
  setBounds(bounds: Partial<StandInState['windows'][number]['bounds']>): void {
    this.record.bounds = { ...this.record.bounds, ...bounds };
  }
  setAlwaysOnTop(): void {}
  setVisibleOnAllWorkspaces(): void {}
}

export class Tray extends EventEmitter {
  constructor(image: { path: string }) {
    super();
    state.tray = { toolTip: '', title: '', image: image.path, menu: [] };
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the test clicks the one tray icon
    tray = this;
  }
  setToolTip(text: string): void {
    if (state.tray) state.tray.toolTip = text;
  }
  setTitle(text: string): void {
    if (state.tray) state.tray.title = text;
  }
  setImage(image: { path: string }): void {
    if (state.tray) state.tray.image = image.path;
  }
  setContextMenu(menu: { items: MenuItem[] }): void {
    trayMenu = menu.items;
    if (state.tray) {
      state.tray.menu = menu.items.map(({ label, type, accelerator, enabled, checked }) => ({
        ...(label === undefined ? {} : { label }),
        ...(type === undefined ? {} : { type }),
        ...(accelerator === undefined ? {} : { accelerator }),
        ...(enabled === undefined ? {} : { enabled }),
        ...(checked === undefined ? {} : { checked }),
      }));
    }
  }
}

export const Menu = {
  buildFromTemplate: (items: MenuItem[]): { items: MenuItem[] } => ({ items }),
  setApplicationMenu(menu: { items: MenuItem[] } | null): void {
    state.applicationMenu = menu ? menu.items.map((item) => item.role ?? item.label ?? '?') : null;
  },
};

export const nativeImage = {
  createFromPath: (file: string) => ({ path: file, isEmpty: () => !existsSync(file), setTemplateImage: () => undefined }),
};

export const globalShortcut = {
  register(accelerator: string, handler: Listener): boolean {
    if (process.env.STAND_IN_TAKEN_SHORTCUT === accelerator) return false;
    shortcutHandlers.set(accelerator, handler);
    state.shortcuts = [...shortcutHandlers.keys()];
    return true;
  },
  unregister(accelerator: string): void {
    shortcutHandlers.delete(accelerator);
    state.shortcuts = [...shortcutHandlers.keys()];
  },
  unregisterAll(): void {
    shortcutHandlers.clear();
    state.shortcuts = [];
  },
};

const display = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1080 }, bounds: { x: 0, y: 0, width: 1920, height: 1080 } };
export const screen = {
  getCursorScreenPoint: () => ({ x: 200, y: 200 }),
  getDisplayNearestPoint: () => display,
  getAllDisplays: () => [display],
  getPrimaryDisplay: () => display,
};

export const ipcMain = {
  handle(channel: string, handler: Listener): void {
    ipcHandlers.set(channel, handler);
  },
  on(channel: string, listener: Listener): void {
    ipcListeners.set(channel, [...(ipcListeners.get(channel) ?? []), listener]);
  },
};

export const shell = {
  openExternal(url: string): Promise<void> {
    state.openedExternally.push(url);
    return Promise.resolve();
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: Array<{ scheme: string }>): void {
    state.privilegedSchemes.push(...schemes.map((entry) => entry.scheme));
  },
  handle(scheme: string, handler: (request: { url: string }) => Promise<Response> | Response): void {
    protocolHandlers.set(scheme, handler);
  },
};

export const session = {
  defaultSession: {
    setPermissionRequestHandler: (handler: (...args: unknown[]) => void): void => void (permissionRequestHandler = handler),
    setPermissionCheckHandler: (handler: (...args: unknown[]) => boolean): void => void (permissionCheckHandler = handler),
  },
};

const shownNotifications: Notification[] = [];

export class Notification extends EventEmitter {
  static isSupported(): boolean {
    return true;
  }
  constructor(readonly options: { title: string; body: string }) {
    super();
  }
  show(): void {
    state.notifications.push({ title: this.options.title, body: this.options.body });
    shownNotifications.push(this);
  }
}

// Reversible and visibly not plain text: enough to see the key never lands on disk unencrypted.
export const safeStorage = {
  isAsyncEncryptionAvailable: () => Promise.resolve(true),
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptStringAsync: (text: string) => Promise.resolve(Buffer.from(`sealed:${Buffer.from(text).toString('hex')}`)),
  decryptStringAsync: (data: Buffer) =>
    Promise.resolve({ result: Buffer.from(data.toString().replace(/^sealed:/, ''), 'hex').toString(), shouldReEncrypt: false }),
};

export const clipboard = {
  writeText(text: string): void {
    state.clipboard.push(text);
  },
};

export const powerMonitor = new EventEmitter();
export const nativeTheme = { shouldUseDarkColors: false };

// The test drives the app through the child-process channel.
async function run(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'state':
      return state;
    case 'click-tray': {
      const item = trayMenu.find((entry) => entry.label === command.label);
      if (!item?.click) throw new Error(`No tray menu item '${command.label}'.`);
      await item.click({ ...item, checked: item.type === 'checkbox' ? !item.checked : item.checked });
      return state;
    }
    case 'press-shortcut': {
      const handler = shortcutHandlers.get(command.accelerator);
      if (!handler) throw new Error(`Shortcut '${command.accelerator}' is not registered.`);
      handler();
      return state;
    }
    case 'invoke': {
      const handler = ipcHandlers.get(command.channel);
      if (!handler) throw new Error(`No IPC handler for '${command.channel}'.`);
      const window = windows.find((entry) => entry.id === command.windowId);
      const sender = window?.webContents ?? new WebContents(-1);
      return await handler({ sender }, ...(command.args ?? []));
    }
    case 'send': {
      const window = windows.find((entry) => entry.id === command.windowId);
      for (const listener of ipcListeners.get(command.channel) ?? [])
        listener({ sender: window?.webContents }, ...(command.args ?? []));
      return state;
    }
    case 'fetch-app': {
      const handler = protocolHandlers.get(new URL(command.url).protocol.replace(':', ''));
      if (!handler) throw new Error('No protocol handler.');
      const response = await handler({ url: command.url });
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    }
    case 'click-notification': {
      const shown = shownNotifications.findLast((entry) => entry.options.title === command.title);
      if (!shown) throw new Error(`No notification '${command.title}'.`);
      shown.emit('click');
      return state;
    }
    case 'blur': {
      windows.find((entry) => entry.id === command.windowId)?.emit('blur');
      return state;
    }
    case 'second-instance':
      app.emit('second-instance', {}, command.argv, process.cwd());
      return state;
    case 'activate':
      app.emit('activate', {}, false);
      return state;
    case 'click-tray-icon':
      tray?.emit('click', {}, { x: 0, y: 0, width: 0, height: 0 });
      return state;
    case 'permission': {
      if (!permissionCheckHandler || !permissionRequestHandler) throw new Error('No permission handlers.');
      const check = permissionCheckHandler(null, command.permission, command.origin, {});
      const request = await new Promise<boolean>((resolve) =>
        permissionRequestHandler?.({}, command.permission, resolve, { requestingUrl: `${command.origin}/index.html` }),
      );
      return { check, request } satisfies PermissionAnswer;
    }
    case 'quit':
      setImmediate(() => app.quit());
      return true;
  }
}

process.on('message', (message: Command) => {
  void run(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies Reply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: (error as Error).message } satisfies Reply),
  );
});

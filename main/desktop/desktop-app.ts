import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import type * as ElectronModule from 'electron';
import type { BrowserWindowConstructorOptions, WebContents } from 'electron';
import { IpcChannel, type DesktopStatus, type ServiceConnection } from '../../preload/bridge.js';
import { PerchError } from '../core/errors.js';
import { logsDir, openLogFile, type RotatingLogFile } from '../core/log-files.js';
import { createLogger, type Logger } from '../core/logger.js';
import { resolveDataDir } from '../core/paths.js';
import type { Settings } from '../core/settings/schema.js';
import { startService, type RunningService } from '../service.js';
import { loginShellPath } from './shell-path.js';
import { jobNotice, taskNotice, TrayActivity, type DesktopNotice } from './activity.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appPageUrl, serveRendererFile } from './app-protocol.js';
import { guardContents, permissionAllowed } from './hardening.js';
import { parseLaunchArgs } from './launch-args.js';
import {
  applyLoginItem,
  createLoginItem,
  openedHiddenAtLogin,
  syncLoginItemAtStart,
  type LoginItem,
  type LoginItemResult,
} from './login-item.js';
import { MainWindow } from './main-window.js';
import { QuickAskWindow } from './quick-ask-window.js';
import { SafeStorageApiKeySource } from './safe-storage-key.js';
import { QuickAskShortcut } from './shortcut.js';
import { trayMenuTemplate, type TrayMenuState } from './tray-menu.js';
import { Updates } from './updater.js';
import { WindowStateStore } from './window-state.js';

/** The parts of Electron the shell uses (the real module, or a recording stand-in in tests). */
export type DesktopElectron = Pick<
  typeof ElectronModule,
  | 'app'
  | 'BrowserWindow'
  | 'Tray'
  | 'Menu'
  | 'nativeImage'
  | 'globalShortcut'
  | 'screen'
  | 'ipcMain'
  | 'shell'
  | 'protocol'
  | 'session'
  | 'Notification'
  | 'safeStorage'
  | 'clipboard'
  | 'powerMonitor'
  | 'nativeTheme'
>;

export interface DesktopOptions {
  /** The built main-process folder (out/main): the preload and renderer are found next to it. */
  mainDir: string;
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/**
 * The desktop app: a tray icon that hosts the Perch service (the same one `perch serve` runs)
 * and opens the UI in its windows. Everything here is wiring; the decisions live in the small
 * modules beside it, which are tested on their own.
 */
export function startDesktopApp(electron: DesktopElectron, options: DesktopOptions): void {
  const { app, protocol } = electron;
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const launch = parseLaunchArgs(options.argv ?? process.argv);

  // Same folder as the CLI's default, so the desktop app and `perch` share settings and history.
  app.setPath('userData', resolveDataDir(env.PERCH_DATA_DIR || app.getPath('userData')));
  // Must happen before "ready": the UI's own origin, perch://app.
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  // A menu-bar app on macOS: no Dock icon (the packaged app also says so in Info.plist).
  if (platform === 'darwin') app.dock?.hide();

  const shell = new DesktopShell(electron, { ...options, env, platform });
  app.on('second-instance', (_event, argv) => shell.handleLaunch(parseLaunchArgs(argv)));
  // Closing windows never quits: the service keeps serving editors and scripts.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    if (!shell.stopping) {
      event.preventDefault();
      void shell.stop().finally(() => app.exit(0));
    }
  });
  void app.whenReady().then(() => shell.start(launch));
}

class DesktopShell {
  stopping = false;
  private readonly logger: Logger;
  private readonly logFile: RotatingLogFile;
  private readonly desktopSecret = randomBytes(32).toString('base64url');
  private readonly rendererDir: string;
  private readonly preload: string;
  private service: RunningService | undefined;
  private apiKeys: SafeStorageApiKeySource | undefined;
  private serviceProblem: string | undefined;
  private configuredPort = 0;
  private tray: ElectronModule.Tray | undefined;
  private activity: TrayActivity | undefined;
  private shortcut: QuickAskShortcut;
  private loginItem: LoginItem;
  private loginItemError: string | undefined;
  private readonly quickAsk: QuickAskWindow;
  private readonly mainWindow: MainWindow;
  private readonly updates: Updates;
  private stopListening: (() => void) | undefined;
  private applied: Settings['desktop'] | undefined;

  constructor(
    private readonly electron: DesktopElectron,
    private readonly options: DesktopOptions & { env: NodeJS.ProcessEnv; platform: NodeJS.Platform },
  ) {
    const { app, screen, globalShortcut } = electron;
    // No terminal to read: the log lives in <dataDir>/logs (and on stdout too in development).
    this.logFile = openLogFile(app.getPath('userData'));
    this.logger = createLogger({ pretty: !app.isPackaged, file: this.logFile });
    this.rendererDir = path.join(options.mainDir, '../renderer');
    this.preload = path.join(options.mainDir, '../preload/index.cjs');
    this.shortcut = new QuickAskShortcut(globalShortcut, () => this.quickAsk.toggle(), options.platform);
    this.loginItem = createLoginItem({
      platform: options.platform,
      app,
      env: options.env,
      execPath: process.execPath,
      homeDir: homedir(),
    });
    this.quickAsk = new QuickAskWindow({
      create: () => this.createQuickAskWindow(),
      displays: { workAreaUnderCursor: () => screen.getDisplayNearestPoint(screen.getCursorScreenPoint()).workArea },
      // macOS: give the keyboard back to the app the person was in, unless a Perch window is open.
      onHidden: () => {
        if (options.platform === 'darwin' && !this.mainWindow.isOpen) app.hide();
      },
    });
    const states = new WindowStateStore(app.getPath('userData'));
    this.mainWindow = new MainWindow({
      create: (bounds) => this.createWindow({ ...bounds, minWidth: 480, minHeight: 360, title: 'Perch' }),
      urlFor: appPageUrl,
      states,
      workAreas: () => screen.getAllDisplays().map((display) => display.workArea),
    });
    this.updates = new Updates({
      enabled: app.isPackaged,
      load: async () => (await import('electron-updater')).autoUpdater,
      onStateChange: () => this.refreshTray(),
      notify: (title, body) => this.notify({ title, body }),
      log: (message) => this.logger.warn(message),
    });
  }

  async start(launch: { quickAsk: boolean; hidden: boolean }): Promise<void> {
    const { app, ipcMain, session, powerMonitor } = this.electron;
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
      callback(permissionAllowed(permission, details.requestingUrl)),
    );
    session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
      permissionAllowed(permission, `${requestingOrigin}/`),
    );
    this.electron.protocol.handle(APP_SCHEME, (request) =>
      serveRendererFile(this.rendererDir, request.url, () =>
        this.service ? new URL(this.service.url).origin : 'http://127.0.0.1',
      ),
    );
    app.on('web-contents-created', (_event, contents) =>
      guardContents(contents, (url) => void this.electron.shell.openExternal(url)),
    );

    await this.startService();
    this.registerIpc(ipcMain);
    this.createTray();
    if (this.service) {
      const { core } = this.service;
      this.applyDesktopSettings(core.currentSettings().desktop, true);
      this.stopListening = core.onSettingsChanged((settings) => this.applyDesktopSettings(settings.desktop, false));
      this.activity = new TrayActivity({
        events: core.events,
        onBusyChange: (busy) => this.setBusy(busy),
        onWaitingChange: () => this.refreshTray(),
      });
      core.events.on('job:finished', (event) => {
        const notice = jobNotice(event);
        if (notice) this.notify(notice);
      });
      core.events.on('task:changed', (event) => {
        const notice = taskNotice(event);
        if (notice) this.notify(notice);
      });
      // Scheduled runs missed while the computer slept are caught up at once on wake.
      powerMonitor.on('resume', () => core.scheduler.checkNow());
    }
    this.quickAsk.prepare();
    const startHidden = this.service?.core.currentSettings().desktop.startHidden ?? false;
    const hidden = launch.hidden || openedHiddenAtLogin({ platform: this.options.platform, app: this.electron.app, startHidden });
    if (launch.quickAsk) this.quickAsk.show();
    else if (!hidden) this.mainWindow.open('chat');
    if (this.updates.current !== 'unavailable') {
      setTimeout(() => void this.updates.check(false), 30_000).unref();
    }
  }

  handleLaunch(launch: { quickAsk: boolean; hidden: boolean }): void {
    if (launch.quickAsk) this.quickAsk.show();
    else this.mainWindow.open('chat');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.electron.globalShortcut.unregisterAll();
    this.stopListening?.();
    this.activity?.close();
    await this.service?.stop({ graceMs: 5_000 });
    this.service = undefined;
    // A key saved a moment ago is still being encrypted: let it reach the disk.
    await this.apiKeys?.flush();
    await this.logFile.flush();
  }

  private async startService(): Promise<void> {
    const { app, safeStorage } = this.electron;
    const dataDir = app.getPath('userData');
    this.apiKeys = await SafeStorageApiKeySource.open({
      dataDir,
      keychain: safeStorage,
      platform: this.options.platform,
      env: this.options.env,
      onWarning: (message) => this.logger.warn(message),
    });
    // The service's own copy: a task's agent takes PATH from it when its turn starts.
    const env = { ...this.options.env };
    void loginShellPath(env, this.options.platform).then((shellPath) => {
      if (shellPath) env.PATH = shellPath;
    });
    const serviceOptions = {
      dataDir,
      env,
      logger: this.logger,
      staticDir: this.rendererDir,
      desktopSecret: this.desktopSecret,
      apiKeys: this.apiKeys,
    };
    try {
      this.service = await startService(serviceOptions);
      this.configuredPort = this.service.port;
    } catch (error) {
      if (!(error instanceof PerchError) || error.type !== 'port_in_use') {
        this.serviceProblem = `Perch could not start: ${(error as Error).message}`;
        this.logger.error(this.serviceProblem);
        this.notify({ title: 'Perch could not start', body: (error as Error).message });
        return;
      }
      // The configured port is taken: run on a free one so the app works, and say so.
      this.service = await startService({ ...serviceOptions, port: 0 });
      this.configuredPort = this.service.core.currentSettings().api.port;
      this.notify({
        title: `Port ${this.configuredPort} is in use`,
        body: `Perch is running on port ${this.service.port} for now. Choose another port in Settings → Local API.`,
        route: 'settings',
      });
    }
  }

  private registerIpc(ipcMain: ElectronModule.IpcMain): void {
    const own = (contents: WebContents): boolean =>
      this.electron.BrowserWindow.getAllWindows().some((window) => window.webContents === contents);
    ipcMain.handle(IpcChannel.getConnection, (event): ServiceConnection => {
      if (!own(event.sender) || !this.service) throw new Error('Refused: not a Perch window, or the service is not running.');
      return { baseUrl: this.service.url, token: this.service.core.tokens.get(), desktopSecret: this.desktopSecret };
    });
    ipcMain.handle(IpcChannel.getDesktopStatus, (event): DesktopStatus => {
      if (!own(event.sender)) throw new Error('Refused: not a Perch window.');
      return this.desktopStatus();
    });
    ipcMain.on(IpcChannel.hideQuickAsk, (event) => {
      if (own(event.sender)) this.quickAsk.hide();
    });
    ipcMain.on(IpcChannel.resizeQuickAsk, (event, height: unknown) => {
      if (own(event.sender) && typeof height === 'number') this.quickAsk.fitContent(height);
    });
    ipcMain.on(IpcChannel.pinQuickAsk, (event, pinned: unknown) => {
      if (own(event.sender)) this.quickAsk.setPinned(pinned === true);
    });
    ipcMain.on(IpcChannel.openChat, (event, sessionId: unknown) => {
      if (!own(event.sender)) return;
      this.quickAsk.hide();
      this.mainWindow.open(typeof sessionId === 'string' && sessionId ? `chat/${encodeURIComponent(sessionId)}` : 'chat');
    });
    ipcMain.on(IpcChannel.openTask, (event, taskId: unknown) => {
      if (!own(event.sender) || typeof taskId !== 'string' || !/^task_[a-z0-9]+$/.test(taskId)) return;
      this.quickAsk.hide();
      this.mainWindow.open(`tasks/${taskId}`);
    });
  }

  private desktopStatus(): DesktopStatus {
    const shortcut = this.shortcut.status();
    return {
      shortcut: shortcut ?? null,
      loginItem: { enabled: this.loginItemEnabled(), ...(this.loginItemError ? { error: this.loginItemError } : {}) },
      port:
        this.service && this.service.port !== this.configuredPort
          ? { configured: this.configuredPort, actual: this.service.port }
          : null,
    };
  }

  /** Applies the desktop settings that changed; at start, the OS's login item wins over the file. */
  private applyDesktopSettings(desktop: Settings['desktop'], atStart: boolean): void {
    const before = this.applied;
    this.applied = desktop;
    if (before?.shortcut !== desktop.shortcut) {
      const status = this.shortcut.apply(desktop.shortcut);
      if (status.error && atStart)
        this.notify({ title: 'Quick Ask shortcut not available', body: status.error, route: 'settings' });
    }
    const loginItemChanged =
      before !== undefined && (before.startAtLogin !== desktop.startAtLogin || before.startHidden !== desktop.startHidden);
    if (atStart) this.recordLoginItem(syncLoginItemAtStart(this.loginItem, desktop), desktop);
    else if (loginItemChanged) this.recordLoginItem(applyLoginItem(this.loginItem, desktop), desktop);
    this.refreshTray();
  }

  /** Keeps the settings file saying what the OS says, and any refusal for Settings to show. */
  private recordLoginItem(result: LoginItemResult, stored: Settings['desktop']): void {
    if (result.error && result.error !== this.loginItemError) {
      this.notify({ title: 'Start at login could not be changed', body: result.error, route: 'settings' });
    }
    this.loginItemError = result.error;
    const corrections: Array<[string, boolean]> = [];
    if (result.startAtLogin !== stored.startAtLogin) corrections.push(['desktop.startAtLogin', result.startAtLogin]);
    if (result.startHidden !== stored.startHidden) corrections.push(['desktop.startHidden', result.startHidden]);
    if (corrections.length === 0) return;
    this.applied = { ...stored, startAtLogin: result.startAtLogin, startHidden: result.startHidden };
    this.service?.core.settings.setMany(corrections);
  }

  /** From the tray: through the settings file, so the Settings window and `perch config get` agree. */
  private setStartAtLogin(enabled: boolean): void {
    const desktop = this.service?.core.currentSettings().desktop;
    if (!this.service || !desktop) {
      this.loginItemError = applyLoginItem(this.loginItem, { startAtLogin: enabled, startHidden: false }).error;
      this.refreshTray();
      return;
    }
    this.service.core.settings.setMany([['desktop.startAtLogin', enabled]]);
    this.applyDesktopSettings({ ...desktop, startAtLogin: enabled }, false);
  }

  private loginItemEnabled(): boolean {
    try {
      return this.loginItem.isEnabled();
    } catch {
      return false;
    }
  }

  private createTray(): void {
    const { Tray } = this.electron;
    const tray = new Tray(this.trayImage(false));
    tray.setToolTip('Perch');
    // Windows: a left click opens quick ask (macOS opens the menu; Linux trays only have the menu).
    if (this.options.platform === 'win32') tray.on('click', () => this.quickAsk.toggle());
    this.tray = tray;
    this.refreshTray();
  }

  private refreshTray(): void {
    if (!this.tray) return;
    const settings = this.service?.core.currentSettings();
    const shortcut = this.shortcut.status();
    const state: TrayMenuState = {
      quickAskShortcut: shortcut?.registered ? shortcut.accelerator : undefined,
      status: this.statusLine(),
      startAtLogin: settings?.desktop.startAtLogin ?? this.loginItemEnabled(),
      updates: this.updates.current,
      waiting: this.activity?.waitingTasks ?? [],
    };
    const menu = this.electron.Menu.buildFromTemplate(
      trayMenuTemplate(state, {
        quickAsk: () => this.quickAsk.show(),
        openChat: () => this.mainWindow.open('chat'),
        openSettings: () => this.mainWindow.open('settings'),
        openTasks: (taskId) => this.mainWindow.open(taskId ? `tasks/${encodeURIComponent(taskId)}` : 'tasks'),
        copyToken: () => {
          if (this.service) void this.electron.clipboard.writeText(this.service.core.tokens.get());
        },
        setStartAtLogin: (enabled) => this.setStartAtLogin(enabled),
        checkForUpdates: () => void this.updates.check(true),
        installUpdate: () => this.updates.install(),
        openLogs: () => this.openLogs(),
        quit: () => this.electron.app.quit(),
      }),
    );
    this.tray.setContextMenu(menu);
  }

  private openLogs(): void {
    void this.electron.shell.openPath(logsDir(this.electron.app.getPath('userData'))).then((problem) => {
      if (problem) this.logger.warn(`Could not open the logs folder: ${problem}`);
    });
  }

  private statusLine(): string {
    if (!this.service) return this.serviceProblem ?? 'API not running';
    const address = `${this.service.host}:${this.service.port}`;
    return this.service.port === this.configuredPort
      ? `API on ${address}`
      : `API on ${address} (port ${this.configuredPort} was in use)`;
  }

  private setBusy(busy: boolean): void {
    this.tray?.setImage(this.trayImage(busy));
  }

  private trayImage(busy: boolean): ElectronModule.NativeImage {
    const { app, nativeImage } = this.electron;
    const folder = app.isPackaged ? path.join(process.resourcesPath, 'tray') : path.join(app.getAppPath(), 'assets/tray');
    // macOS draws template images in the menu bar's own colours (light, dark, highlighted).
    const mac = this.options.platform === 'darwin';
    const name = mac ? (busy ? 'trayBusyTemplate.png' : 'trayTemplate.png') : busy ? 'tray-busy.png' : 'tray.png';
    const image = nativeImage.createFromPath(path.join(folder, name));
    if (mac) image.setTemplateImage(true);
    return image;
  }

  private notify(notice: DesktopNotice): void {
    const { Notification } = this.electron;
    if (!Notification.isSupported()) return;
    const notification = new Notification({ title: notice.title, body: notice.body, silent: false });
    if (notice.route) {
      const route = notice.route;
      notification.on('click', () => this.mainWindow.open(route));
    }
    notification.show();
  }

  private createQuickAskWindow(): QuickAskWindowHandle {
    const window = this.createWindow({
      width: 680,
      height: 420,
      frame: false,
      resizable: false,
      movable: true,
      alwaysOnTop: true,
      skipTaskbar: true,
      fullscreenable: false,
      minimizable: false,
      maximizable: false,
      title: 'Perch Quick Ask',
    });
    window.setAlwaysOnTop(true, 'floating');
    window.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
    void window.loadURL(appPageUrl('quick-ask'));
    return window;
  }

  private createWindow(extra: BrowserWindowConstructorOptions): ElectronModule.BrowserWindow & MainWindowHandle {
    const window = new this.electron.BrowserWindow({
      show: false,
      // The UI's own background, so a window never flashes white before it paints.
      backgroundColor: this.electron.nativeTheme.shouldUseDarkColors ? '#1c1c1e' : '#f6f5f3',
      ...extra,
      webPreferences: {
        preload: this.preload,
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webSecurity: true,
        spellcheck: true,
      },
    });
    return Object.assign(window, { currentUrl: () => window.webContents.getURL() });
  }
}

type QuickAskWindowHandle = ElectronModule.BrowserWindow;
type MainWindowHandle = { currentUrl(): string };

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
import { jobNotice, taskNotice, TrayActivity, type DesktopNotice, type TrayState } from './activity.js';
import { appUserModelId } from './app-identity.js';
import { applicationMenuTemplate } from './app-menu.js';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appPageUrl, serveRendererFile, serviceOriginForWindows } from './app-protocol.js';
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
import { Notifier } from './notifier.js';
import { QuickAskWindow } from './quick-ask-window.js';
import { SafeStorageApiKeySource } from './safe-storage-key.js';
import { enableGlobalShortcutsPortal, isWaylandSession, QuickAskShortcut } from './shortcut.js';
import { ToldOnce } from './told-once.js';
import { trayMenuTemplate, trayToolTip, type TrayMenuState } from './tray-menu.js';
import { updateSupport } from './update-support.js';
import { loadAutoUpdater, Updates } from './updater.js';
import { WindowStateStore } from './window-state.js';

/** The tray's image for each state: macOS template images (tinted by the menu bar), coloured ones elsewhere. */
const TRAY_IMAGES: Record<TrayState, { mac: string; coloured: string }> = {
  idle: { mac: 'trayTemplate.png', coloured: 'tray.png' },
  busy: { mac: 'trayBusyTemplate.png', coloured: 'tray-busy.png' },
  'needs-you': { mac: 'trayAttentionTemplate.png', coloured: 'tray-attention.png' },
};

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
  const windowsAppId = appUserModelId({ isPackaged: app.isPackaged, execPath: process.execPath });

  // Windows: before anything else, since reading login items gives the process a default id. The
  // installer's shortcut carries the same one: without it, Windows shows no notification.
  if (platform === 'win32') app.setAppUserModelId(windowsAppId);
  // Same folder as the CLI's default, so the desktop app and `perch` share settings and history.
  app.setPath('userData', resolveDataDir(env.PERCH_DATA_DIR || app.getPath('userData')));
  // Must happen before "ready": the UI's own origin, perch://app, and the Wayland shortcut portal.
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  enableGlobalShortcutsPortal(app.commandLine, platform);

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  // A menu-bar app on macOS: no Dock icon (the packaged app also says so in Info.plist).
  if (platform === 'darwin') app.dock?.hide();

  const shell = new DesktopShell(electron, { ...options, env, platform, appUserModelId: windowsAppId });
  app.on('second-instance', (_event, argv) => shell.handleLaunch(parseLaunchArgs(argv)));
  // macOS: opening Perch again from the Finder or Spotlight reopens the running app instead of
  // starting a second one (it has no Dock icon to click): show the chat, as a second launch does.
  app.on('activate', () => shell.reopen());
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
  private readonly notifier: Notifier;
  private readonly toldOnce: ToldOnce;
  private stopListening: (() => void) | undefined;
  private applied: Settings['desktop'] | undefined;
  private started = false;
  private readonly whenStarted: Promise<void>;
  private markStarted: () => void = () => {};

  constructor(
    private readonly electron: DesktopElectron,
    private readonly options: DesktopOptions & { env: NodeJS.ProcessEnv; platform: NodeJS.Platform; appUserModelId: string },
  ) {
    const { app, screen, globalShortcut } = electron;
    this.whenStarted = new Promise((resolve) => (this.markStarted = resolve));
    // No terminal to read: the log lives in <dataDir>/logs (and on stdout too in development).
    this.logFile = openLogFile(app.getPath('userData'));
    this.logger = createLogger({ pretty: !app.isPackaged, file: this.logFile });
    this.rendererDir = path.join(options.mainDir, '../renderer');
    this.preload = path.join(options.mainDir, '../preload/index.cjs');
    this.shortcut = new QuickAskShortcut(
      globalShortcut,
      () => this.quickAsk.toggle(),
      options.platform,
      isWaylandSession(options.env),
    );
    this.loginItem = createLoginItem({
      platform: options.platform,
      app,
      env: options.env,
      execPath: process.execPath,
      homeDir: homedir(),
      appUserModelId: options.appUserModelId,
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
      displays: () => ({
        all: screen.getAllDisplays().map((display) => display.workArea),
        primary: screen.getPrimaryDisplay().workArea,
      }),
    });
    this.notifier = new Notifier({ Notification: electron.Notification, open: (route) => this.mainWindow.open(route) });
    this.toldOnce = new ToldOnce(app.getPath('userData'));
    this.updates = new Updates({
      enabled: app.isPackaged,
      load: () => loadAutoUpdater(),
      onStateChange: () => this.refreshTray(),
      notify: (title, body) => this.notify({ title, body }),
      log: (message) => this.logger.warn(message),
      onAppImageRenamed: (file) => this.followMovedApp(file),
    });
  }

  async start(launch: { quickAsk: boolean; hidden: boolean }): Promise<void> {
    const { app, ipcMain, session, powerMonitor, Menu } = this.electron;
    const menu = applicationMenuTemplate(this.options.platform);
    Menu.setApplicationMenu(menu ? Menu.buildFromTemplate(menu) : null);
    // Asked now (macOS runs codesign), answered before the tray offers "Check for Updates…".
    const updates = updateSupport({
      isPackaged: app.isPackaged,
      platform: this.options.platform,
      execPath: process.execPath,
      log: (message) => this.logger.warn(message),
    });
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
      callback(permissionAllowed(permission, details.requestingUrl)),
    );
    session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
      permissionAllowed(permission, `${requestingOrigin}/`),
    );
    this.electron.protocol.handle(APP_SCHEME, (request) =>
      serveRendererFile(this.rendererDir, request.url, () =>
        this.service ? serviceOriginForWindows(this.service.url) : 'http://127.0.0.1',
      ),
    );
    app.on('web-contents-created', (_event, contents) =>
      guardContents(contents, (url) => void this.electron.shell.openExternal(url)),
    );

    await this.startService();
    this.registerIpc(ipcMain);
    const support = await updates;
    if (!support.enabled) this.updates.turnOff(support.note);
    this.createTray();
    if (this.service) {
      const { core } = this.service;
      this.applyDesktopSettings(core.currentSettings().desktop, true);
      this.stopListening = core.onSettingsChanged((settings) => this.applyDesktopSettings(settings.desktop, false));
      this.activity = new TrayActivity({
        events: core.events,
        onStateChange: (state) => this.tray?.setImage(this.trayImage(state)),
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
    this.started = true;
    this.markStarted();
  }

  /** Another launch of Perch (its arguments forwarded): waits until this one has started. */
  handleLaunch(launch: { quickAsk: boolean; hidden: boolean }): void {
    void this.whenStarted.then(() => {
      if (launch.quickAsk) this.quickAsk.show();
      // A login item firing while Perch already runs asks for nothing to open.
      else if (!launch.hidden) this.mainWindow.open('chat');
    });
  }

  /** macOS reopens the app. Not before it has started: a launch that starts hidden stays hidden. */
  reopen(): void {
    if (this.started) this.handleLaunch({ quickAsk: false, hidden: false });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Quit exits without closing the windows, so their 'close' never comes.
    this.mainWindow.saveState();
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
      return {
        baseUrl: serviceOriginForWindows(this.service.url),
        token: this.service.core.tokens.get(),
        desktopSecret: this.desktopSecret,
      };
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
      ...(this.updates.offNote ? { updatesOff: this.updates.offNote } : {}),
    };
  }

  /** Applies the desktop settings that changed; at start, the OS's login item wins over the file. */
  private applyDesktopSettings(desktop: Settings['desktop'], atStart: boolean): void {
    const before = this.applied;
    this.applied = desktop;
    if (before?.shortcut !== desktop.shortcut) {
      const status = this.shortcut.apply(desktop.shortcut);
      // Settings always says why; a notification says it once, not at every start (on Wayland
      // without the portal it never changes).
      const told = `shortcut-unavailable:${desktop.shortcut}`;
      if (!status.error) this.toldOnce.forget(told);
      else if (atStart && this.toldOnce.firstTime(told))
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
    const tray = new Tray(this.trayImage('idle'));
    // Windows and KDE send a left click as `click`: it opens quick ask, and the right click the
    // menu. macOS and GNOME's AppIndicator open the menu on a left click and send no `click`.
    if (this.options.platform !== 'darwin') tray.on('click', () => this.quickAsk.toggle());
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
    this.tray.setToolTip(trayToolTip(state.waiting));
    // macOS shows the count beside the icon in the menu bar, where a person looks first.
    if (this.options.platform === 'darwin') this.tray.setTitle(state.waiting.length > 0 ? String(state.waiting.length) : '');
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

  private trayImage(state: TrayState): ElectronModule.NativeImage {
    const { app, nativeImage } = this.electron;
    const folder = app.isPackaged ? path.join(process.resourcesPath, 'tray') : path.join(app.getAppPath(), 'assets/tray');
    // macOS draws template images in the menu bar's own colours (light, dark, highlighted).
    const mac = this.options.platform === 'darwin';
    const name = TRAY_IMAGES[state][mac ? 'mac' : 'coloured'];
    const image = nativeImage.createFromPath(path.join(folder, name));
    if (mac) image.setTemplateImage(true);
    return image;
  }

  private notify(notice: DesktopNotice): void {
    this.notifier.notify(notice);
  }

  /** An AppImage update renamed Perch's file: start at login must start the new one. */
  private followMovedApp(file: string): void {
    try {
      if (this.loginItem.followMovedApp(file)) this.logger.info(`Start at login now starts ${file}.`);
    } catch (error) {
      this.logger.warn(`Start at login could not follow the update to ${file}: ${(error as Error).message}`);
    }
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

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, ipcMain, shell, type WebContents } from 'electron';
import { IpcChannel, type ServiceConnection } from '../../preload/bridge.js';
import { createLogger } from '../core/logger.js';
import { resolveDataDir } from '../core/paths.js';
import { startService, type RunningService } from '../service.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// Same folder as the CLI's default, so the desktop app and `perch` share settings and history.
app.setPath('userData', resolveDataDir(process.env.PERCH_DATA_DIR || app.getPath('userData')));

let service: RunningService | undefined;
// Given only to this launch's own windows, so they alone may change security settings.
const desktopSecret = randomBytes(32).toString('base64url');
let chatWindow: BrowserWindow | undefined;

function isOwnWindow(contents: WebContents): boolean {
  return BrowserWindow.getAllWindows().some((window) => window.webContents === contents);
}

function openChatWindow(): void {
  if (!service) return;
  if (chatWindow && !chatWindow.isDestroyed()) {
    chatWindow.show();
    chatWindow.focus();
    return;
  }
  const window = new BrowserWindow({
    width: 1100,
    height: 760,
    title: 'Perch',
    show: false,
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  const serviceOrigin = new URL(service.url).origin;
  // The window shows Perch's own pages only; links open in the browser, https only.
  window.webContents.on('will-navigate', (event, url) => {
    if (new URL(url).origin !== serviceOrigin) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (new URL(url).protocol === 'https:') void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(`${service.url}/`);
  chatWindow = window;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', openChatWindow);
  // Closing windows never quits: the service keeps serving editors and scripts.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    if (!service) return;
    event.preventDefault();
    const stopping = service;
    service = undefined;
    void stopping.stop({ graceMs: 5_000 }).finally(() => app.exit(0));
  });

  void app.whenReady().then(async () => {
    const logger = createLogger({ pretty: !app.isPackaged });
    service = await startService({
      dataDir: app.getPath('userData'),
      logger,
      staticDir: path.join(here, '../renderer'),
      desktopSecret,
    });
    ipcMain.handle(IpcChannel.getConnection, (event): ServiceConnection => {
      if (!isOwnWindow(event.sender) || !service) throw new Error('Refused: not a Perch window.');
      return { baseUrl: service.url, token: service.core.tokens.get(), desktopSecret };
    });
    openChatWindow();
    app.on('activate', openChatWindow);
  });
}

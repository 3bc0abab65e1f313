import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { App } from 'electron';
import { describe, expect, it } from 'vitest';
import {
  applyLoginItem,
  createLoginItem,
  openedHiddenAtLogin,
  quoteWindowsArgument,
  syncLoginItemAtStart,
  type LoginItem,
  type LoginItemApp,
} from '../../main/desktop/login-item.js';

type Settings = Parameters<App['setLoginItemSettings']>[0];
type Query = Parameters<App['getLoginItemSettings']>[0];
type Answer = ReturnType<App['getLoginItemSettings']>;

/**
 * Electron's login item as the OS keeps it, for one platform: Windows keeps a Run-key command
 * line plus a Task Manager "approved" flag, macOS keeps a registration status.
 */
class FakeApp implements LoginItemApp {
  readonly calls: Settings[] = [];
  /** Windows: the Run value under our name, written as Electron writes it ("path args…"). */
  runValue: string | undefined;
  /** Windows: false once the user disables Perch in Task Manager → Startup apps. */
  approved = true;
  /** macOS: registration answers 'requires-approval' until the user allows it. */
  needsApproval = false;
  status: Answer['status'] = 'not-registered';
  wasOpenedAtLogin = false;

  constructor(
    readonly platform: 'darwin' | 'win32' | 'linux',
    readonly isPackaged = true,
    private readonly appPath = '/src/perch',
  ) {}

  getAppPath(): string {
    return this.appPath;
  }

  setLoginItemSettings(settings: Settings): void {
    this.calls.push(settings);
    if (this.platform === 'win32') {
      this.runValue = settings.openAtLogin ? [settings.path ?? 'C:\\default.exe', ...(settings.args ?? [])].join(' ') : undefined;
      this.approved = settings.enabled ?? true;
    } else {
      this.status = !settings.openAtLogin ? 'not-registered' : this.needsApproval ? 'requires-approval' : 'enabled';
    }
  }

  getLoginItemSettings(options?: Query): Answer {
    const asked = [options?.path ?? 'C:\\default.exe', ...(options?.args ?? [])].join(' ');
    return {
      openAtLogin: this.platform === 'win32' ? this.runValue === asked : this.status === 'enabled',
      executableWillLaunchAtLogin: this.runValue !== undefined && this.approved,
      wasOpenedAtLogin: this.wasOpenedAtLogin,
      status: this.status,
      launchItems: [],
    };
  }
}

const temporaryHome = (): string => mkdtempSync(path.join(tmpdir(), 'perch-login-item-'));

function linuxItem(options: { isPackaged?: boolean; env?: NodeJS.ProcessEnv; execPath?: string } = {}) {
  const home = temporaryHome();
  const config = path.join(home, 'config');
  const app = new FakeApp('linux', options.isPackaged ?? true);
  const item = createLoginItem({
    platform: 'linux',
    app,
    env: { XDG_CONFIG_HOME: config, ...options.env },
    execPath: options.execPath ?? '/opt/Perch/perch',
    homeDir: home,
  });
  return { item, app, home, file: path.join(config, 'autostart', 'perch.desktop') };
}

const execOf = (file: string): string | undefined => /^Exec=(.*)$/m.exec(readFileSync(file, 'utf8'))?.[1];

describe('on Linux: an XDG autostart entry', () => {
  it('turning it on writes perch.desktop in $XDG_CONFIG_HOME/autostart, whatever the executable is called', () => {
    const { item, file } = linuxItem({ execPath: '/opt/Perch/perch-bin' });
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: false })).toEqual({ startAtLogin: true, startHidden: false });
    expect(execOf(file)).toBe('/opt/Perch/perch-bin');
  });

  it('uses ~/.config/autostart when XDG_CONFIG_HOME is not set', () => {
    const home = temporaryHome();
    const item = createLoginItem({
      platform: 'linux',
      app: new FakeApp('linux'),
      env: {},
      execPath: '/opt/Perch/perch',
      homeDir: home,
    });
    applyLoginItem(item, { startAtLogin: true, startHidden: false });
    expect(existsSync(path.join(home, '.config', 'autostart', 'perch.desktop'))).toBe(true);
  });

  it('starts an AppImage through $APPIMAGE, quoted when its path has spaces, with --hidden when asked', () => {
    const { item, file } = linuxItem({
      env: { APPIMAGE: '/home/jane/My Apps/Perch.AppImage', APPDIR: '/tmp/.mount_Perch1' },
      execPath: '/tmp/.mount_Perch1/perch',
    });
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true })).toEqual({ startAtLogin: true, startHidden: true });
    expect(execOf(file)).toBe('"/home/jane/My Apps/Perch.AppImage" --hidden');
  });

  it('starts a development run as Electron plus the checkout', () => {
    const { item, file } = linuxItem({ isPackaged: false, execPath: '/src/perch/node_modules/electron/dist/electron' });
    applyLoginItem(item, { startAtLogin: true, startHidden: false });
    expect(execOf(file)).toBe('/src/perch/node_modules/electron/dist/electron /src/perch');
  });

  it('turning it off removes the entry and keeps the start-hidden choice for next time', () => {
    const { item, file } = linuxItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    expect(applyLoginItem(item, { startAtLogin: false, startHidden: true })).toEqual({ startAtLogin: false, startHidden: true });
    expect(existsSync(file)).toBe(false);
  });

  it('at start, says off when the entry was deleted outside Perch', () => {
    const { item, file } = linuxItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: false });
    rmSync(file);
    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: false })).toEqual({
      startAtLogin: false,
      startHidden: false,
    });
  });

  it('at start, says off when the desktop disabled the entry (GNOME Startup Applications)', () => {
    const { item, file } = linuxItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: false });
    writeFileSync(file, readFileSync(file, 'utf8').replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'));
    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: false }).startAtLogin).toBe(false);
  });

  it('at start, says on and hidden when the entry exists although the settings say off', () => {
    const { item } = linuxItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    expect(syncLoginItemAtStart(item, { startAtLogin: false, startHidden: false })).toEqual({
      startAtLogin: true,
      startHidden: true,
    });
  });

  it('at start, re-points an entry left by an AppImage that was replaced, keeping it hidden', () => {
    const { item, file } = linuxItem({
      env: { APPIMAGE: '/home/jane/Apps/Perch-1.1.AppImage', APPDIR: '/tmp/.mount_Perch2' },
      execPath: '/tmp/.mount_Perch2/perch',
    });
    const old = createLoginItem({
      platform: 'linux',
      app: new FakeApp('linux'),
      env: { XDG_CONFIG_HOME: path.dirname(path.dirname(file)), APPIMAGE: '/home/jane/Apps/Perch-1.0.AppImage' },
      execPath: '/tmp/.mount_Perch1/perch',
      homeDir: '/nonexistent',
    });
    applyLoginItem(old, { startAtLogin: true, startHidden: true });

    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: true })).toEqual({
      startAtLogin: true,
      startHidden: true,
    });
    expect(execOf(file)).toBe('/home/jane/Apps/Perch-1.1.AppImage --hidden');
  });

  it('a development run never re-points the real entry at the checkout', () => {
    const dev = linuxItem({ isPackaged: false, execPath: '/src/perch/node_modules/electron/dist/electron' });
    mkdirSync(path.dirname(dev.file), { recursive: true });
    writeFileSync(dev.file, '[Desktop Entry]\nType=Application\nName=Perch\nExec=/home/jane/Apps/Perch-1.0.AppImage\n');
    expect(syncLoginItemAtStart(dev.item, { startAtLogin: true, startHidden: false }).startAtLogin).toBe(true);
    expect(execOf(dev.file)).toBe('/home/jane/Apps/Perch-1.0.AppImage');
  });

  it('reports a folder it cannot write as an error a person can act on, and the state the OS is in', () => {
    const home = temporaryHome();
    writeFileSync(path.join(home, 'config'), 'not a folder');
    const item = createLoginItem({
      platform: 'linux',
      app: new FakeApp('linux'),
      env: { XDG_CONFIG_HOME: path.join(home, 'config') },
      execPath: '/opt/Perch/perch',
      homeDir: home,
    });
    const result = applyLoginItem(item, { startAtLogin: true, startHidden: false });
    expect(result).toEqual({ startAtLogin: false, startHidden: false, error: expect.any(String) });
    expect(result.error).toMatch(/^Could not turn on start at login: writing .*perch\.desktop failed: a file is in the way/);
    expect(result.error).toContain(`Make sure ${path.join(home, 'config', 'autostart')} is a folder you can write to.`);
  });
});

describe('on Windows: the Run key, through app.setLoginItemSettings', () => {
  const windowsItem = (execPath = 'C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe', isPackaged = true) => {
    const app = new FakeApp('win32', isPackaged, 'C:\\src\\my perch');
    return { app, item: createLoginItem({ platform: 'win32', app, env: {}, execPath, homeDir: 'C:\\Users\\Jane Doe' }) };
  };

  it('registers the executable, quoted, with --hidden when starting hidden', () => {
    const { app, item } = windowsItem();
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true })).toEqual({ startAtLogin: true, startHidden: true });
    expect(app.calls).toEqual([
      {
        openAtLogin: true,
        path: '"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe"',
        args: ['--hidden'],
        enabled: true,
      },
    ]);
    expect(app.runValue).toBe('"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe" --hidden');
  });

  it('switching start-hidden off rewrites the entry without --hidden', () => {
    const { app, item } = windowsItem('C:\\Perch\\Perch.exe');
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: false })).toEqual({ startAtLogin: true, startHidden: false });
    expect(app.runValue).toBe('C:\\Perch\\Perch.exe');
  });

  it('turning it off removes the entry', () => {
    const { app, item } = windowsItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: false });
    expect(applyLoginItem(item, { startAtLogin: false, startHidden: false })).toEqual({
      startAtLogin: false,
      startHidden: false,
    });
    expect(app.calls.at(-1)?.openAtLogin).toBe(false);
    expect(app.runValue).toBeUndefined();
  });

  it('at start, says off when the user disabled Perch in Task Manager; turning it on again re-approves it', () => {
    const { app, item } = windowsItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    app.approved = false;
    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: true })).toEqual({
      startAtLogin: false,
      startHidden: true,
    });
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true }).startAtLogin).toBe(true);
    expect(app.approved).toBe(true);
  });

  it('at start, says on (and hidden) when the Run key has Perch although the settings say off', () => {
    const { item } = windowsItem();
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    expect(syncLoginItemAtStart(item, { startAtLogin: false, startHidden: false })).toEqual({
      startAtLogin: true,
      startHidden: true,
    });
  });

  it('a development run passes the checkout, quoted, before --hidden', () => {
    const { app, item } = windowsItem('C:\\src\\my perch\\node_modules\\electron\\dist\\electron.exe', false);
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true })).toEqual({ startAtLogin: true, startHidden: true });
    expect(app.runValue).toBe('"C:\\src\\my perch\\node_modules\\electron\\dist\\electron.exe" "C:\\src\\my perch" --hidden');
  });

  it('quotes arguments the way Windows splits command lines', () => {
    expect(quoteWindowsArgument('C:\\Perch\\Perch.exe')).toBe('C:\\Perch\\Perch.exe');
    expect(quoteWindowsArgument('C:\\Program Files\\Perch')).toBe('"C:\\Program Files\\Perch"');
    expect(quoteWindowsArgument('C:\\My Dir\\')).toBe('"C:\\My Dir\\\\"');
    expect(quoteWindowsArgument('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteWindowsArgument('')).toBe('""');
  });
});

describe('on macOS: the login item, through app.setLoginItemSettings', () => {
  const macItem = () => {
    const app = new FakeApp('darwin');
    return {
      app,
      item: createLoginItem({
        platform: 'darwin',
        app,
        env: {},
        execPath: '/Applications/Perch.app/Contents/MacOS/Perch',
        homeDir: '/Users/jane',
      }),
    };
  };

  it('registers with openAtLogin (and the same args as elsewhere) and reads openAtLogin back', () => {
    const { app, item } = macItem();
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true })).toEqual({ startAtLogin: true, startHidden: true });
    expect(app.calls).toEqual([{ openAtLogin: true, args: ['--hidden'] }]);
    expect(applyLoginItem(item, { startAtLogin: false, startHidden: true })).toEqual({ startAtLogin: false, startHidden: true });
    expect(app.calls.at(-1)).toEqual({ openAtLogin: false, args: ['--hidden'] });
  });

  it('says where to approve Perch when macOS asks for approval, and shows it as off meanwhile', () => {
    const { app, item } = macItem();
    app.needsApproval = true;
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: false })).toEqual({
      startAtLogin: false,
      startHidden: false,
      error:
        'macOS needs your approval before Perch can start at login: open System Settings → General → Login Items and allow Perch.',
    });
  });

  it('at start, follows System Settings both ways and keeps the stored start-hidden choice (macOS cannot say)', () => {
    const { app, item } = macItem();
    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: true })).toEqual({
      startAtLogin: false,
      startHidden: true,
    });
    app.status = 'enabled';
    expect(syncLoginItemAtStart(item, { startAtLogin: false, startHidden: true })).toEqual({
      startAtLogin: true,
      startHidden: true,
    });
  });

  it('stays hidden when opened at login with start-hidden on (a macOS login item gets no arguments)', () => {
    const { app } = macItem();
    app.wasOpenedAtLogin = true;
    expect(openedHiddenAtLogin({ platform: 'darwin', app, startHidden: true })).toBe(true);
    expect(openedHiddenAtLogin({ platform: 'darwin', app, startHidden: false })).toBe(false);
    app.wasOpenedAtLogin = false;
    expect(openedHiddenAtLogin({ platform: 'darwin', app, startHidden: true })).toBe(false);
    expect(openedHiddenAtLogin({ platform: 'linux', app, startHidden: true })).toBe(false);
  });
});

describe('never crashes the app', () => {
  const broken: LoginItem = {
    isEnabled: () => {
      throw new Error('Could not read /x/perch.desktop: permission denied. Check that file and its folder are readable.');
    },
    startsHidden: () => undefined,
    set: () => {
      throw new Error('cannot write');
    },
    repair: () => false,
  };

  it('syncLoginItemAtStart keeps the stored settings and reports why the OS could not be read', () => {
    expect(syncLoginItemAtStart(broken, { startAtLogin: true, startHidden: false })).toEqual({
      startAtLogin: true,
      startHidden: false,
      error: 'Could not read /x/perch.desktop: permission denied. Check that file and its folder are readable.',
    });
  });

  it('applyLoginItem reports the first failure', () => {
    expect(applyLoginItem(broken, { startAtLogin: true, startHidden: true })).toEqual({
      startAtLogin: true,
      startHidden: true,
      error: 'cannot write',
    });
  });
});

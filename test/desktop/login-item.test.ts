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

/** The Windows program a command line starts (quoted or not), as Electron matches Run values to it. */
const programOf = (command: string): string =>
  command.startsWith('"') ? command.slice(1, command.indexOf('"', 1)) : command.split(' ')[0]!;

/**
 * Electron's login item as the OS keeps it, for one platform: Windows keeps named Run-key
 * command lines plus a Task Manager "approved" flag each, macOS keeps a registration status.
 */
class FakeApp implements LoginItemApp {
  readonly calls: Settings[] = [];
  /** Windows: the Run key's values by name, written as Electron writes them ("path args…"). */
  readonly runValues = new Map<string, string>();
  /** Windows: the Run values the user disabled in Task Manager → Startup apps. */
  readonly disabled = new Set<string>();
  /** macOS: registration answers 'requires-approval' until the user allows it. */
  needsApproval = false;
  status: Answer['status'] = 'not-registered';
  wasOpenedAtLogin = false;

  constructor(
    readonly platform: 'darwin' | 'win32' | 'linux',
    readonly isPackaged = true,
    private readonly appPath = '/src/perch',
    /** Windows: the process's AppUserModelID, which Electron names and reads its entry by. */
    readonly appUserModelId = 'app.perch.desktop',
  ) {}

  /** Windows: the Run value Electron reads back (the one named after the AppUserModelID). */
  get runValue(): string | undefined {
    return this.runValues.get(this.appUserModelId);
  }

  get approved(): boolean {
    return !this.disabled.has(this.appUserModelId);
  }

  set approved(approved: boolean) {
    if (approved) this.disabled.delete(this.appUserModelId);
    else this.disabled.add(this.appUserModelId);
  }

  getAppPath(): string {
    return this.appPath;
  }

  setLoginItemSettings(settings: Settings): void {
    this.calls.push(settings);
    if (this.platform === 'win32') {
      const name = settings.name ?? this.appUserModelId;
      if (settings.openAtLogin) {
        this.runValues.set(name, [settings.path ?? 'C:\\default.exe', ...(settings.args ?? [])].join(' '));
        if (settings.enabled ?? true) this.disabled.delete(name);
        else this.disabled.add(name);
      } else {
        this.runValues.delete(name);
        this.disabled.delete(name);
      }
    } else {
      this.status = !settings.openAtLogin ? 'not-registered' : this.needsApproval ? 'requires-approval' : 'enabled';
    }
  }

  getLoginItemSettings(options?: Query): Answer {
    const program = options?.path ?? 'C:\\default.exe';
    const asked = [program, ...(options?.args ?? [])].join(' ');
    // Every Run value that starts this program, whatever its name (args are left out: Electron
    // lists only arguments that are not switches).
    const launchItems = [...this.runValues]
      .filter(([, value]) => programOf(value).toLowerCase() === programOf(program).toLowerCase())
      .map(([name, value]) => ({
        name,
        path: programOf(value),
        args: [],
        scope: 'user' as const,
        enabled: !this.disabled.has(name),
      }));
    return {
      openAtLogin: this.platform === 'win32' ? this.runValue === asked : this.status === 'enabled',
      executableWillLaunchAtLogin: launchItems.some((item) => item.enabled),
      wasOpenedAtLogin: this.wasOpenedAtLogin,
      status: this.status,
      launchItems,
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

  it('follows an AppImage update that renamed the file, keeping --hidden', () => {
    const { item, file } = linuxItem({
      env: { APPIMAGE: '/home/jane/Apps/Perch-1.0.0-x64.AppImage', APPDIR: '/tmp/.mount_Perch1' },
      execPath: '/tmp/.mount_Perch1/perch',
    });
    applyLoginItem(item, { startAtLogin: true, startHidden: true });
    expect(item.followMovedApp('/home/jane/Apps/Perch-1.1.0-x64.AppImage')).toBe(true);
    expect(execOf(file)).toBe('/home/jane/Apps/Perch-1.1.0-x64.AppImage --hidden');
  });

  it('after an AppImage update, leaves an entry that is off or that starts another copy alone', () => {
    const env = { APPIMAGE: '/home/jane/Apps/Perch-1.0.0-x64.AppImage', APPDIR: '/tmp/.mount_Perch1' };
    const off = linuxItem({ env, execPath: '/tmp/.mount_Perch1/perch' });
    expect(off.item.followMovedApp('/home/jane/Apps/Perch-1.1.0-x64.AppImage')).toBe(false);
    expect(existsSync(off.file)).toBe(false);

    const other = linuxItem({ env, execPath: '/tmp/.mount_Perch1/perch' });
    mkdirSync(path.dirname(other.file), { recursive: true });
    writeFileSync(other.file, '[Desktop Entry]\nType=Application\nName=Perch\nExec=/opt/Perch/perch\n');
    expect(other.item.followMovedApp('/home/jane/Apps/Perch-1.1.0-x64.AppImage')).toBe(false);
    expect(execOf(other.file)).toBe('/opt/Perch/perch');
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

  it('registers the executable, quoted, with --hidden when starting hidden, named after Perch’s AppUserModelID', () => {
    const { app, item } = windowsItem();
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: true })).toEqual({ startAtLogin: true, startHidden: true });
    expect(app.calls).toEqual([
      {
        openAtLogin: true,
        name: 'app.perch.desktop',
        path: '"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe"',
        args: ['--hidden'],
        enabled: true,
      },
    ]);
    expect(app.runValue).toBe('"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe" --hidden');
  });

  it('names the Run value after the AppUserModelID the app runs with, which is the value Electron reads back', () => {
    const app = new FakeApp('win32', false, 'C:\\src\\perch', 'C:\\src\\perch\\node_modules\\electron\\dist\\electron.exe');
    const item = createLoginItem({
      platform: 'win32',
      app,
      env: {},
      execPath: 'C:\\src\\perch\\node_modules\\electron\\dist\\electron.exe',
      homeDir: 'C:\\Users\\jane',
      appUserModelId: app.appUserModelId,
    });
    expect(applyLoginItem(item, { startAtLogin: true, startHidden: false })).toEqual({ startAtLogin: true, startHidden: false });
    expect([...app.runValues.keys()]).toEqual([app.appUserModelId]);
  });

  it('at start, makes an entry an earlier version wrote under Electron’s default name its own, keeping it on and hidden', () => {
    const { app, item } = windowsItem();
    app.runValues.set('electron.app.Perch', '"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe" --hidden');
    expect(syncLoginItemAtStart(item, { startAtLogin: true, startHidden: true })).toEqual({
      startAtLogin: true,
      startHidden: true,
    });
    expect([...app.runValues]).toEqual([
      ['app.perch.desktop', '"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe" --hidden'],
    ]);
    // …so turning it off leaves nothing that would start Perch.
    expect(applyLoginItem(item, { startAtLogin: false, startHidden: true }).startAtLogin).toBe(false);
    expect(app.runValues.size).toBe(0);
  });

  it('at start, removes an old-named entry the user had disabled in Task Manager, and stays off', () => {
    const { app, item } = windowsItem();
    app.runValues.set('electron.app.Perch', '"C:\\Users\\Jane Doe\\AppData\\Local\\Programs\\Perch\\Perch.exe"');
    app.disabled.add('electron.app.Perch');
    expect(syncLoginItemAtStart(item, { startAtLogin: false, startHidden: false })).toEqual({
      startAtLogin: false,
      startHidden: false,
    });
    expect(app.runValues.size).toBe(0);
  });

  it('leaves Run values of other programs, and a development run leaves every other value, alone', () => {
    const { app, item } = windowsItem();
    app.runValues.set('OneDrive', '"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe" /background');
    syncLoginItemAtStart(item, { startAtLogin: false, startHidden: false });
    expect(app.runValues.has('OneDrive')).toBe(true);

    const dev = windowsItem('C:\\src\\my perch\\node_modules\\electron\\dist\\electron.exe', false);
    dev.app.runValues.set('electron.app.Other', '"C:\\src\\my perch\\node_modules\\electron\\dist\\electron.exe" C:\\src\\other');
    syncLoginItemAtStart(dev.item, { startAtLogin: false, startHidden: false });
    expect(dev.app.runValues.has('electron.app.Other')).toBe(true);
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
    followMovedApp: () => false,
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

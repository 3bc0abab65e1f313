/**
 * "Start at login", one interface over three mechanisms: Electron's login item on macOS and
 * Windows, an XDG autostart entry elsewhere. The OS is the truth: the user can switch Perch
 * off in System Settings, Task Manager or their desktop's startup list, so we re-read it and
 * correct the stored setting rather than trusting what we wrote last time.
 *
 * Only a type import of electron: the real `app` is passed in, so this runs in plain Node tests.
 */
import type { App } from 'electron';
import { APP_ID } from './app-identity.js';
import { autostartFilePath, launchArgs, launchTarget, LinuxAutostart, type LaunchTarget } from './autostart.js';

/** The two settings (`desktop.startAtLogin`, `desktop.startHidden`). */
export interface LoginItemState {
  startAtLogin: boolean;
  startHidden: boolean;
}

export interface LoginItem {
  /** Whether the OS will start Perch at login (asked afresh on every call). */
  isEnabled(): boolean;
  /** Whether the OS entry starts Perch hidden; undefined when the OS cannot say (macOS, or not enabled). */
  startsHidden(): boolean | undefined;
  /** Registers or removes Perch; throws an Error whose message says what to do when the OS refuses. */
  set(options: { enabled: boolean; hidden: boolean }): void;
  /**
   * At start: fixes an entry the OS keeps for an older state of this copy (Linux: a replaced
   * AppImage; Windows: a Run value an earlier version wrote under another name); returns
   * whether it changed anything.
   */
  repair(stored: LoginItemState): boolean;
  /** The program moved to `file` (an AppImage update renamed it): an entry that starts Perch follows. */
  followMovedApp(file: string): boolean;
}

export type LoginItemApp = Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings' | 'isPackaged' | 'getAppPath'>;

export interface LoginItemOptions {
  platform: NodeJS.Platform;
  app: LoginItemApp;
  env: NodeJS.ProcessEnv;
  /** process.execPath */
  execPath: string;
  /** os.homedir() */
  homeDir: string;
  /**
   * Windows: the AppUserModelID the app runs with (app.setAppUserModelId). Electron reads the
   * Run value of that name back, so Perch writes its entry under exactly this name.
   */
  appUserModelId?: string;
}

export function createLoginItem(options: LoginItemOptions): LoginItem {
  const target = launchTarget({
    env: options.env,
    execPath: options.execPath,
    isPackaged: options.app.isPackaged,
    appPath: options.app.getAppPath(),
  });
  if (options.platform === 'darwin') return macLoginItem(options.app, target);
  if (options.platform === 'win32') return windowsLoginItem(options.app, target, options.appUserModelId ?? APP_ID);
  // Linux and the BSDs: every XDG desktop reads ~/.config/autostart.
  const autostart = new LinuxAutostart({ file: autostartFilePath(options.env, options.homeDir), target });
  return {
    isEnabled: () => autostart.isEnabled(),
    startsHidden: () => (autostart.isEnabled() ? autostart.isHidden() : undefined),
    set: ({ enabled, hidden }) => (enabled ? autostart.enable(hidden) : autostart.disable()),
    // A development run must never re-point the user's real entry at a checkout.
    repair: () => options.app.isPackaged && autostart.repair(),
    followMovedApp: (file) => options.app.isPackaged && autostart.retarget(file),
  };
}

function macLoginItem(app: LoginItemApp, target: LaunchTarget): LoginItem {
  return {
    isEnabled: () => app.getLoginItemSettings().openAtLogin,
    // The login item has no arguments we can read back (and `openAsHidden` is gone since macOS 13):
    // whether to stay hidden comes from the stored setting, see openedHiddenAtLogin().
    startsHidden: () => undefined,
    set: ({ enabled, hidden }) => {
      // macOS ignores args for the main app's login item; passed so every platform gets the same request.
      app.setLoginItemSettings({ openAtLogin: enabled, args: launchArgs(target, hidden) });
      if (enabled && app.getLoginItemSettings().status === 'requires-approval') {
        throw new Error(
          'macOS needs your approval before Perch can start at login: open System Settings → General → Login Items and allow Perch.',
        );
      }
    },
    repair: () => false,
    followMovedApp: () => false,
  };
}

function windowsLoginItem(app: LoginItemApp, target: LaunchTarget, name: string): LoginItem {
  // Electron writes `path args…` into the Run key as given: quote the path ourselves, or a
  // per-user install under "C:\Users\Jane Doe\…" is an unquoted path Windows has to guess at.
  const exe = quoteWindowsArgument(target.command);
  const args = (hidden: boolean): string[] => launchArgs(target, hidden).map(quoteWindowsArgument);
  // openAtLogin compares the Run value with exactly this path and these args, so ask for both variants.
  const registered = (hidden: boolean): boolean => app.getLoginItemSettings({ path: exe, args: args(hidden) }).openAtLogin;
  // False when the user disabled Perch in Task Manager → Startup apps (the Run value stays, unapproved).
  const approved = (): boolean => app.getLoginItemSettings({ path: exe, args: args(false) }).executableWillLaunchAtLogin;
  const isEnabled = (): boolean => (registered(false) || registered(true)) && approved();
  const set = ({ enabled, hidden }: { enabled: boolean; hidden: boolean }): void => {
    // enabled: true also re-approves an entry the user had disabled in Task Manager.
    app.setLoginItemSettings({ openAtLogin: enabled, name, path: exe, args: args(hidden), enabled: true });
  };
  return {
    isEnabled,
    startsHidden: () => (isEnabled() ? registered(true) : undefined),
    set: ({ enabled, hidden }) => {
      set({ enabled, hidden });
      if (isEnabled() !== enabled) {
        throw new Error(
          enabled
            ? 'Windows did not register Perch as a startup app. Check Task Manager → Startup apps, or whether a policy blocks startup apps.'
            : 'Windows still lists Perch as a startup app. Disable it in Task Manager → Startup apps.',
        );
      }
    },
    // A Run value for this executable under another name (Electron's default,
    // `electron.app.Perch`, before Perch named its own) would start Perch a second time and
    // survive "off": it becomes Perch's own entry, on if it was on. Never in a development run,
    // whose executable is the Electron that other checkouts share.
    repair: (stored) => {
      if (!app.isPackaged) return false;
      const stale = app
        .getLoginItemSettings({ path: exe })
        .launchItems.filter((item) => item.scope === 'user' && item.name !== name);
      if (stale.length === 0) return false;
      for (const item of stale) app.setLoginItemSettings({ openAtLogin: false, name: item.name, path: exe });
      if (stale.some((item) => item.enabled) && !isEnabled()) set({ enabled: true, hidden: stored.startHidden });
      return true;
    },
    followMovedApp: () => false,
  };
}

/** Quotes an argument the way CommandLineToArgvW reads it back (only when it needs quoting). */
export function quoteWindowsArgument(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  // Backslashes are literal except before a quote: double those, and the ones before the closing quote.
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

/** What the settings should say, and why they could not be read or fixed. */
export interface LoginItemResult extends LoginItemState {
  /** A message for Settings when the OS could not be read or changed. */
  error?: string;
}

/**
 * At every start: what `desktop.startAtLogin` / `desktop.startHidden` should now say, read from
 * the OS (the user may have changed it outside Perch), after repairing what an older state left
 * behind (see LoginItem.repair). Never throws: on failure the stored values come back with `error`.
 */
export function syncLoginItemAtStart(item: LoginItem, stored: LoginItemState): LoginItemResult {
  let failure: string | undefined;
  try {
    item.repair(stored);
  } catch (error) {
    failure = messageOf(error);
  }
  try {
    const state = readState(item, stored);
    return failure === undefined ? state : { ...state, error: failure };
  } catch (error) {
    return { ...stored, error: failure ?? messageOf(error) };
  }
}

/**
 * When the user changes either setting: applies it to the OS, then answers what the OS now says
 * (store that, not the request). Never throws: a refusal comes back as `error`, with the state
 * the OS is actually in, so the toggle in Settings snaps back to the truth.
 */
export function applyLoginItem(item: LoginItem, wanted: LoginItemState): LoginItemResult {
  let failure: string | undefined;
  try {
    item.set({ enabled: wanted.startAtLogin, hidden: wanted.startHidden });
  } catch (error) {
    failure = messageOf(error);
  }
  try {
    const state = readState(item, wanted);
    return failure === undefined ? state : { ...state, error: failure };
  } catch (error) {
    return { ...wanted, error: failure ?? messageOf(error) };
  }
}

function readState(item: LoginItem, fallback: LoginItemState): LoginItemState {
  const startAtLogin = item.isEnabled();
  // Where the OS cannot say (macOS, or start at login off) the user's choice is kept for next time.
  return { startAtLogin, startHidden: (startAtLogin ? item.startsHidden() : undefined) ?? fallback.startHidden };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : `Could not change start at login: ${String(error)}`;
}

/**
 * macOS only: whether this launch should stay in the tray. A macOS login item gets no arguments,
 * so there "opened at login" plus the setting stands in for `--hidden` (which Windows and Linux
 * pass on the command line: see parseLaunchArgs). Always false elsewhere.
 */
export function openedHiddenAtLogin(options: {
  platform: NodeJS.Platform;
  app: Pick<App, 'getLoginItemSettings'>;
  startHidden: boolean;
}): boolean {
  return options.platform === 'darwin' && options.startHidden && options.app.getLoginItemSettings().wasOpenedAtLogin;
}

import type { CommandLine, GlobalShortcut } from 'electron';

/** Adds a Chromium feature to an `--enable-features` list (Chromium reads only one such switch). */
export function withFeature(features: string, feature: string): string {
  const list = features
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return (list.includes(feature) ? list : [...list, feature]).join(',');
}

/**
 * Linux: lets global shortcuts work in a Wayland session, where no app may grab keys itself and
 * Chromium asks the desktop's GlobalShortcuts portal instead (KDE Plasma 6 and recent GNOME offer
 * one; Ubuntu 24.04's GNOME does not, and Settings then says so), but only with this feature
 * switched on. Must run before the app is ready; keeps any features already asked for.
 */
export function enableGlobalShortcutsPortal(
  commandLine: Pick<CommandLine, 'getSwitchValue' | 'appendSwitch'>,
  platform: NodeJS.Platform,
): void {
  if (platform !== 'linux') return;
  commandLine.appendSwitch(
    'enable-features',
    withFeature(commandLine.getSwitchValue('enable-features'), 'GlobalShortcutsPortal'),
  );
}

/** Whether this is a Wayland session (the app may still run through XWayland). */
export const isWaylandSession = (env: NodeJS.ProcessEnv): boolean =>
  env.XDG_SESSION_TYPE === 'wayland' || Boolean(env.WAYLAND_DISPLAY);

export interface ShortcutStatus {
  accelerator: string;
  registered: boolean;
  /** Why it is not registered, in words a person can act on. */
  error?: string;
}

/**
 * The global quick-ask shortcut. Registration can fail without an exception (another app holds
 * the keys, or Wayland allows none), so the result is checked and kept for Settings to show;
 * the tray and `perch --quick-ask` keep working either way.
 */
export class QuickAskShortcut {
  private current: ShortcutStatus | undefined;

  constructor(
    private readonly globalShortcut: Pick<GlobalShortcut, 'register' | 'unregister'>,
    private readonly onPress: () => void,
    private readonly platform: NodeJS.Platform,
    private readonly wayland = false,
  ) {}

  apply(accelerator: string): ShortcutStatus {
    if (this.current?.registered && this.current.accelerator === accelerator) return this.current;
    if (this.current?.registered) this.globalShortcut.unregister(this.current.accelerator);
    let registered = false;
    let error: string | undefined;
    try {
      registered = this.globalShortcut.register(accelerator, this.onPress);
      if (!registered) error = this.takenMessage(accelerator);
    } catch {
      error = `'${accelerator}' is not a shortcut Perch understands. Use modifiers and a key, e.g. CommandOrControl+Shift+Space.`;
    }
    this.current = { accelerator, registered, ...(error ? { error } : {}) };
    return this.current;
  }

  status(): ShortcutStatus | undefined {
    return this.current;
  }

  private takenMessage(accelerator: string): string {
    const bind =
      'bind `perch --quick-ask` (the app’s program with --quick-ask) to a key in your desktop’s keyboard settings instead';
    if (this.platform === 'linux' && this.wayland) {
      return `${accelerator} is not available: on Wayland a global shortcut must be granted by the desktop (through its GlobalShortcuts portal, which KDE Plasma 6 and recent GNOME releases offer), and this session did not grant it. The tray menu still opens Quick Ask; or ${bind}.`;
    }
    const fallback = this.platform === 'linux' ? ` On Wayland, ${bind}.` : '';
    return `${accelerator} could not be registered: another app may be using it. Choose another shortcut; the tray menu still opens Quick Ask.${fallback}`;
  }
}

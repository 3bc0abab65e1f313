import type { GlobalShortcut } from 'electron';

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
    const fallback =
      this.platform === 'linux'
        ? ' On Wayland, bind `perch --quick-ask` (the app’s program with --quick-ask) to a key in your desktop’s keyboard settings instead.'
        : '';
    return `${accelerator} could not be registered: another app may be using it. Choose another shortcut; the tray menu still opens Quick Ask.${fallback}`;
  }
}

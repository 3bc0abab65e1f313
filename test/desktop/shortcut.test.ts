import { describe, expect, it, vi } from 'vitest';
import { enableGlobalShortcutsPortal, isWaylandSession, QuickAskShortcut, withFeature } from '../../main/desktop/shortcut.js';

/** Electron's globalShortcut as the OS lets it behave: some keys are taken, some are not keys at all. */
class FakeGlobalShortcut {
  readonly handlers = new Map<string, () => void>();
  readonly takenByAnotherApp = new Set<string>();
  readonly calls: string[] = [];

  register(accelerator: string, callback: () => void): boolean {
    this.calls.push(`register ${accelerator}`);
    if (!/^[A-Za-z]+(\+[A-Za-z0-9]+)+$/.test(accelerator)) throw new Error(`Error processing argument: ${accelerator}`);
    if (this.takenByAnotherApp.has(accelerator) || this.handlers.has(accelerator)) return false;
    this.handlers.set(accelerator, callback);
    return true;
  }

  unregister(accelerator: string): void {
    this.calls.push(`unregister ${accelerator}`);
    this.handlers.delete(accelerator);
  }

  press(accelerator: string): void {
    this.handlers.get(accelerator)?.();
  }
}

function shortcut(platform: NodeJS.Platform = 'darwin', wayland = false) {
  const globalShortcut = new FakeGlobalShortcut();
  const onPress = vi.fn();
  return { globalShortcut, onPress, shortcut: new QuickAskShortcut(globalShortcut, onPress, platform, wayland) };
}

/** Electron's app.commandLine: the switches Chromium starts with. */
class FakeCommandLine {
  constructor(readonly switches: Record<string, string> = {}) {}
  getSwitchValue(name: string): string {
    return this.switches[name] ?? '';
  }
  appendSwitch(name: string, value?: string): void {
    this.switches[name] = value ?? '';
  }
}

describe('the Wayland shortcut portal', () => {
  it('switches on GlobalShortcutsPortal on Linux, where Wayland lets no app grab keys itself', () => {
    const commandLine = new FakeCommandLine();
    enableGlobalShortcutsPortal(commandLine, 'linux');
    expect(commandLine.switches).toEqual({ 'enable-features': 'GlobalShortcutsPortal' });
  });

  it('keeps the features already asked for (Chromium reads only one --enable-features)', () => {
    const commandLine = new FakeCommandLine({ 'enable-features': 'WaylandWindowDecorations,UseOzonePlatform' });
    enableGlobalShortcutsPortal(commandLine, 'linux');
    expect(commandLine.switches['enable-features']).toBe('WaylandWindowDecorations,UseOzonePlatform,GlobalShortcutsPortal');
    enableGlobalShortcutsPortal(commandLine, 'linux');
    expect(commandLine.switches['enable-features']).toBe('WaylandWindowDecorations,UseOzonePlatform,GlobalShortcutsPortal');
  });

  it('changes nothing on macOS and Windows', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const commandLine = new FakeCommandLine();
      enableGlobalShortcutsPortal(commandLine, platform);
      expect(commandLine.switches).toEqual({});
    }
  });

  it('adds a feature to a list once', () => {
    expect(withFeature('', 'A')).toBe('A');
    expect(withFeature(' B , A ', 'A')).toBe('B,A');
  });

  it('knows a Wayland session by XDG_SESSION_TYPE or WAYLAND_DISPLAY', () => {
    expect(isWaylandSession({ XDG_SESSION_TYPE: 'wayland' })).toBe(true);
    expect(isWaylandSession({ WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
    expect(isWaylandSession({ XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' })).toBe(false);
  });
});

describe('QuickAskShortcut', () => {
  it('has no status before it is applied', () => {
    expect(shortcut().shortcut.status()).toBeUndefined();
  });

  it('registers the accelerator and reports it registered', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut();
    expect(quickAsk.apply('CommandOrControl+Shift+Space')).toEqual({
      accelerator: 'CommandOrControl+Shift+Space',
      registered: true,
    });
    expect(quickAsk.status()).toEqual({ accelerator: 'CommandOrControl+Shift+Space', registered: true });
    expect(globalShortcut.handlers.has('CommandOrControl+Shift+Space')).toBe(true);
  });

  it('calls onPress when the keys are pressed', () => {
    const { globalShortcut, onPress, shortcut: quickAsk } = shortcut();
    quickAsk.apply('Alt+Space');
    expect(onPress).not.toHaveBeenCalled();
    globalShortcut.press('Alt+Space');
    globalShortcut.press('Alt+Space');
    expect(onPress).toHaveBeenCalledTimes(2);
  });

  it('reports keys another app holds, with what to do about it', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut('darwin');
    globalShortcut.takenByAnotherApp.add('Alt+Space');
    const status = quickAsk.apply('Alt+Space');
    expect(status.registered).toBe(false);
    expect(status.accelerator).toBe('Alt+Space');
    expect(status.error).toContain('Alt+Space could not be registered');
    expect(status.error).toContain('Choose another shortcut');
    expect(status.error).toContain('tray menu');
    expect(status.error).not.toContain('--quick-ask');
    expect(quickAsk.status()).toEqual(status);
  });

  it('on Linux, points to binding `perch --quick-ask` in the desktop’s settings (Wayland allows no global shortcuts)', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut('linux');
    globalShortcut.takenByAnotherApp.add('Alt+Space');
    const { error } = quickAsk.apply('Alt+Space');
    expect(error).toContain('perch --quick-ask');
    expect(error).toContain('Wayland');
  });

  it('on Wayland, says the desktop did not grant the shortcut, and what still works', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut('linux', true);
    globalShortcut.takenByAnotherApp.add('Alt+Space');
    const { error } = quickAsk.apply('Alt+Space');
    expect(error).toContain('on Wayland a global shortcut must be granted by the desktop');
    expect(error).toContain('GlobalShortcuts portal');
    expect(error).toContain('tray menu still opens Quick Ask');
    expect(error).toContain('perch --quick-ask');
    expect(error).not.toContain('another app may be using it');
  });

  it('reports an accelerator Electron does not understand, without throwing', () => {
    const { shortcut: quickAsk } = shortcut();
    const status = quickAsk.apply('Hyper Shift Banana');
    expect(status.registered).toBe(false);
    expect(status.error).toContain("'Hyper Shift Banana' is not a shortcut Perch understands");
    expect(status.error).toContain('CommandOrControl+Shift+Space');
  });

  it('does nothing when the same accelerator is applied again', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut();
    const first = quickAsk.apply('Alt+Space');
    const second = quickAsk.apply('Alt+Space');
    expect(second).toEqual(first);
    expect(globalShortcut.calls).toEqual(['register Alt+Space']);
  });

  it('tries again when the same accelerator failed before (the other app may have let it go)', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut();
    globalShortcut.takenByAnotherApp.add('Alt+Space');
    expect(quickAsk.apply('Alt+Space').registered).toBe(false);
    globalShortcut.takenByAnotherApp.delete('Alt+Space');
    expect(quickAsk.apply('Alt+Space')).toEqual({ accelerator: 'Alt+Space', registered: true });
  });

  it('unregisters the old accelerator when it changes', () => {
    const { globalShortcut, onPress, shortcut: quickAsk } = shortcut();
    quickAsk.apply('Alt+Space');
    expect(quickAsk.apply('Control+Shift+K')).toEqual({ accelerator: 'Control+Shift+K', registered: true });
    expect(globalShortcut.calls).toEqual(['register Alt+Space', 'unregister Alt+Space', 'register Control+Shift+K']);
    globalShortcut.press('Alt+Space');
    expect(onPress).not.toHaveBeenCalled();
    globalShortcut.press('Control+Shift+K');
    expect(onPress).toHaveBeenCalledOnce();
  });

  it('does not unregister keys it never held (another app’s)', () => {
    const { globalShortcut, shortcut: quickAsk } = shortcut();
    globalShortcut.takenByAnotherApp.add('Alt+Space');
    quickAsk.apply('Alt+Space');
    quickAsk.apply('Control+Shift+K');
    expect(globalShortcut.calls).toEqual(['register Alt+Space', 'register Control+Shift+K']);
  });
});

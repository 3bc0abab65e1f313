import type { MenuItemConstructorOptions } from 'electron';

export type UpdateState = 'unavailable' | 'idle' | 'checking' | 'downloading' | 'downloaded';

export interface TrayMenuState {
  /** The quick-ask shortcut when it is registered (shown next to the item), else undefined. */
  quickAskShortcut: string | undefined;
  /** One line on the service: where it listens, or why it does not. */
  status: string;
  startAtLogin: boolean;
  updates: UpdateState;
}

export interface TrayMenuActions {
  quickAsk(): void;
  openChat(): void;
  openSettings(): void;
  copyToken(): void;
  openLogs(): void;
  setStartAtLogin(enabled: boolean): void;
  checkForUpdates(): void;
  installUpdate(): void;
  quit(): void;
}

const UPDATE_LABELS: Record<Exclude<UpdateState, 'unavailable' | 'downloaded'>, string> = {
  idle: 'Check for Updates…',
  checking: 'Checking for Updates…',
  downloading: 'Downloading Update…',
};

/** The tray's context menu, from the app's state: rebuilt whenever that state changes. */
export function trayMenuTemplate(state: TrayMenuState, actions: TrayMenuActions): MenuItemConstructorOptions[] {
  const updates: MenuItemConstructorOptions[] =
    state.updates === 'unavailable'
      ? []
      : state.updates === 'downloaded'
        ? [{ label: 'Restart to Update', click: () => actions.installUpdate() }]
        : [
            {
              label: UPDATE_LABELS[state.updates],
              enabled: state.updates === 'idle',
              click: () => actions.checkForUpdates(),
            },
          ];
  return [
    {
      label: 'Quick Ask',
      // Shown as a hint only: the global shortcut itself is registered elsewhere.
      ...(state.quickAskShortcut ? { accelerator: state.quickAskShortcut, registerAccelerator: false } : {}),
      click: () => actions.quickAsk(),
    },
    { label: 'Open Chat', click: () => actions.openChat() },
    { label: 'Settings', click: () => actions.openSettings() },
    { type: 'separator' },
    { label: state.status, enabled: false },
    { label: 'Copy API Token', click: () => actions.copyToken() },
    { label: 'Open Logs Folder', click: () => actions.openLogs() },
    { type: 'separator' },
    {
      label: 'Start at Login',
      type: 'checkbox',
      checked: state.startAtLogin,
      click: (item) => actions.setStartAtLogin(item.checked),
    },
    ...updates,
    { type: 'separator' },
    { label: 'Quit', accelerator: 'CommandOrControl+Q', registerAccelerator: false, click: () => actions.quit() },
  ];
}

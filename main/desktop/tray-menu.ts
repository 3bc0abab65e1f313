import type { MenuItemConstructorOptions } from 'electron';

export type UpdateState = 'unavailable' | 'idle' | 'checking' | 'downloading' | 'downloaded';

export interface TrayMenuState {
  /** The quick-ask shortcut when it is registered (shown next to the item), else undefined. */
  quickAskShortcut: string | undefined;
  /** One line on the service: where it listens, or why it does not. */
  status: string;
  startAtLogin: boolean;
  updates: UpdateState;
  /** Tasks waiting for a person's answer, oldest first. */
  waiting: Array<{ task_id: string; title: string }>;
}

export interface TrayMenuActions {
  quickAsk(): void;
  openChat(): void;
  openSettings(): void;
  /** Opens the tasks list, or one task. */
  openTasks(taskId?: string): void;
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

/** Menus show one line per item: a long task title is cut. */
const ellipsis = (title: string): string => (title.length > 48 ? `${title.slice(0, 47)}…` : title);

/** What hovering the tray icon says: its name, and who waits for the person (Windows and Linux show it). */
export function trayToolTip(waiting: TrayMenuState['waiting']): string {
  const [first] = waiting;
  if (!first) return 'Perch';
  return waiting.length === 1 ? `Perch: task needs you: ${ellipsis(first.title)}` : `Perch: ${waiting.length} tasks need you`;
}

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
  const first = state.waiting[0];
  const waiting: MenuItemConstructorOptions[] = first
    ? [
        state.waiting.length === 1
          ? { label: `Task needs you: ${ellipsis(first.title)}`, click: () => actions.openTasks(first.task_id) }
          : { label: `${state.waiting.length} tasks need you`, click: () => actions.openTasks() },
        { type: 'separator' },
      ]
    : [];
  return [
    ...waiting,
    {
      label: 'Quick Ask',
      // Shown as a hint only: the global shortcut itself is registered elsewhere.
      ...(state.quickAskShortcut ? { accelerator: state.quickAskShortcut, registerAccelerator: false } : {}),
      click: () => actions.quickAsk(),
    },
    { label: 'Open Chat', click: () => actions.openChat() },
    { label: 'Tasks', click: () => actions.openTasks() },
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

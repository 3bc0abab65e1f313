/** IPC channel names shared by the preload and the main process: one list, nothing ad hoc. */
export const IpcChannel = {
  getConnection: 'perch:get-connection',
  getDesktopStatus: 'perch:get-desktop-status',
  hideQuickAsk: 'perch:hide-quick-ask',
  resizeQuickAsk: 'perch:resize-quick-ask',
  pinQuickAsk: 'perch:pin-quick-ask',
  openChat: 'perch:open-chat',
  openTask: 'perch:open-task',
} as const;

/** How the UI reaches the service from inside the desktop app. */
export interface ServiceConnection {
  baseUrl: string;
  token: string;
  /** Made at each launch and given only to the app's own windows (lets them change security settings). */
  desktopSecret: string;
}

/** What only the desktop shell knows, for Settings to show. */
export interface DesktopStatus {
  shortcut: { accelerator: string; registered: boolean; error?: string } | null;
  loginItem: { enabled: boolean; error?: string };
  /** Set when the configured port was taken and the service listens on another one. */
  port: { configured: number; actual: number } | null;
  /** Why this installed copy does not update itself (an unsigned macOS build); absent otherwise. */
  updatesOff?: string;
}

/**
 * What the preload exposes to the renderer as `window.perch`. Functions marked optional are
 * offered by desktop shells that have the window they act on; the UI works without them.
 */
export interface PerchBridge {
  getConnection(): Promise<ServiceConnection>;
  getDesktopStatus?(): Promise<DesktopStatus>;
  /** Hides the quick-ask window (its Esc). */
  hideQuickAsk?(): void;
  /** Lets the quick-ask window grow with its answer, up to the shell's limit. */
  resizeQuickAsk?(height: number): void;
  /** Keeps the quick-ask window open when it loses focus. */
  pinQuickAsk?(pinned: boolean): void;
  /** Opens a session in the chat window. */
  openChat?(sessionId?: string): void;
  /** Opens a task in the main window. */
  openTask?(taskId: string): void;
}

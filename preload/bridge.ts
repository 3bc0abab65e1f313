/** IPC channel names shared by the preload and the main process: one list, nothing ad hoc. */
export const IpcChannel = {
  getConnection: 'perch:get-connection',
} as const;

/** How the UI reaches the service from inside the desktop app. */
export interface ServiceConnection {
  baseUrl: string;
  token: string;
  /** Made at each launch and given only to the app's own windows (lets them change security settings). */
  desktopSecret: string;
}

/**
 * What the preload exposes to the renderer as `window.perch`. Functions marked optional are
 * offered by desktop shells that have the window they act on; the UI works without them.
 */
export interface PerchBridge {
  getConnection(): Promise<ServiceConnection>;
  /** Hides the quick-ask window (its Esc). */
  hideQuickAsk?(): void;
  /** Lets the quick-ask window grow with its answer, up to the shell's limit. */
  resizeQuickAsk?(height: number): void;
  /** Opens a session in the chat window. */
  openChat?(sessionId?: string): void;
}

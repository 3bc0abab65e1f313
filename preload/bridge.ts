/** IPC channel names shared by the preload and the main process: one list, nothing ad hoc. */
export const IpcChannel = {
  getConnection: 'perch:get-connection',
} as const;

/** How the UI reaches the service from inside the desktop app. */
export interface ServiceConnection {
  baseUrl: string;
  token: string;
}

/** What the preload exposes to the renderer as `window.perch`. */
export interface PerchBridge {
  getConnection(): Promise<ServiceConnection>;
}

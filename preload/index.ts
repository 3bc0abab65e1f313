import { contextBridge, ipcRenderer } from 'electron';
import { IpcChannel, type PerchBridge, type ServiceConnection } from './bridge.js';

// Named functions only: the renderer never sees ipcRenderer or the raw IPC event.
const bridge: PerchBridge = {
  getConnection: () => ipcRenderer.invoke(IpcChannel.getConnection) as Promise<ServiceConnection>,
};

contextBridge.exposeInMainWorld('perch', bridge);

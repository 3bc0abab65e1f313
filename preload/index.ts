import { contextBridge, ipcRenderer } from 'electron';
import { IpcChannel, type DesktopStatus, type PerchBridge, type ServiceConnection } from './bridge.js';

// Named functions only: the renderer never sees ipcRenderer or the raw IPC event.
const bridge: PerchBridge = {
  getConnection: () => ipcRenderer.invoke(IpcChannel.getConnection) as Promise<ServiceConnection>,
  getDesktopStatus: () => ipcRenderer.invoke(IpcChannel.getDesktopStatus) as Promise<DesktopStatus>,
  hideQuickAsk: () => ipcRenderer.send(IpcChannel.hideQuickAsk),
  resizeQuickAsk: (height) => ipcRenderer.send(IpcChannel.resizeQuickAsk, height),
  pinQuickAsk: (pinned) => ipcRenderer.send(IpcChannel.pinQuickAsk, pinned),
  openChat: (sessionId) => ipcRenderer.send(IpcChannel.openChat, typeof sessionId === 'string' ? sessionId : undefined),
  // The main process checks the id it is sent.
  openTask: (taskId) => ipcRenderer.send(IpcChannel.openTask, taskId),
};

contextBridge.exposeInMainWorld('perch', bridge);

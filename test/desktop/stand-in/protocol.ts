/** Messages between the desktop main-process test and the stand-in `electron` module in the child. */

export interface RecordedWindow {
  id: number;
  options: Record<string, unknown>;
  url: string;
  visible: boolean;
  bounds: { x: number; y: number; width: number; height: number };
}

export interface StandInState {
  lockRequested: boolean;
  privilegedSchemes: string[];
  tray: {
    toolTip: string;
    image: string;
    menu: Array<{ label?: string; type?: string; accelerator?: string; enabled?: boolean; checked?: boolean }>;
  } | null;
  shortcuts: string[];
  windows: RecordedWindow[];
  notifications: Array<{ title: string; body: string }>;
  clipboard: string[];
  openedExternally: string[];
  loginItems: unknown[];
  dockHidden: boolean;
}

export type Command =
  | { id: number; type: 'state' }
  | { id: number; type: 'click-tray'; label: string }
  | { id: number; type: 'press-shortcut'; accelerator: string }
  | { id: number; type: 'invoke'; channel: string; windowId: number | null; args?: unknown[] }
  | { id: number; type: 'send'; channel: string; windowId: number; args?: unknown[] }
  | { id: number; type: 'fetch-app'; url: string }
  | { id: number; type: 'blur'; windowId: number }
  | { id: number; type: 'click-notification'; title: string }
  | { id: number; type: 'second-instance'; argv: string[] }
  | { id: number; type: 'quit' };

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export type ChildMessage = Reply | { ready: true };

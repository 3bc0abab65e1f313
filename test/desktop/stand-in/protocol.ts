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
    /** Text beside the icon (macOS's menu bar). */
    title: string;
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
  /** Chromium switches the app asked for, as they stood when the app became ready. */
  switchesAtReady: Record<string, string>;
  appUserModelId: string | null;
  /** 'default' until the app sets one; null for none; else the roles or labels of its menus. */
  applicationMenu: 'default' | null | string[];
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
  | { id: number; type: 'activate' }
  | { id: number; type: 'click-tray-icon' }
  | { id: number; type: 'permission'; permission: string; origin: string }
  | { id: number; type: 'quit' };

/** What the app's permission handlers answer for one permission from one origin. */
export interface PermissionAnswer {
  check: boolean;
  request: boolean;
}

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export type ChildMessage = Reply | { ready: true };

import { restoredBounds, type DisplayAreas, type Rectangle, type Size } from './placement.js';
import type { WindowStateStore } from './window-state.js';

/** The parts of a BrowserWindow the chat/settings window uses (a fake in tests). */
export interface MainWindowLike {
  show(): void;
  focus(): void;
  restore(): void;
  maximize(): void;
  isMinimized(): boolean;
  isMaximized(): boolean;
  isDestroyed(): boolean;
  getNormalBounds(): Rectangle;
  loadURL(url: string): Promise<void>;
  /** The address the window shows now (the UI changes its #route as the person moves around). */
  currentUrl(): string;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'close' | 'closed', listener: () => void): unknown;
}

export interface MainWindowOptions {
  /** Makes the window (hidden) with these bounds, or a size to centre. */
  create: (bounds: Rectangle | Size) => MainWindowLike;
  /** The address of a route of the UI (`chat`, `settings`, `chat/<id>`). */
  urlFor: (route: string) => string;
  states: WindowStateStore;
  displays: () => DisplayAreas;
}

const STATE_NAME = 'main';
export const MAIN_WINDOW_SIZE: Size = { width: 1100, height: 760 };

/**
 * The chat and settings window: one window that opens on a route, remembers its size and
 * place, and whose closing never quits the app (only Quit does).
 */
export class MainWindow {
  private window: MainWindowLike | undefined;

  constructor(private readonly options: MainWindowOptions) {}

  get isOpen(): boolean {
    return this.window !== undefined && !this.window.isDestroyed();
  }

  open(route = 'chat'): void {
    if (this.window && !this.window.isDestroyed()) {
      // "Open Chat" keeps the conversation on screen; another route is navigated to.
      const showing = new URL(this.window.currentUrl() || 'about:blank').hash.replace(/^#\/?/, '');
      const there = showing === route || (route === 'chat' && showing.startsWith('chat'));
      if (!there) void this.window.loadURL(this.options.urlFor(route));
      if (this.window.isMinimized()) this.window.restore();
      this.window.show();
      this.window.focus();
      return;
    }
    const saved = this.options.states.get(STATE_NAME);
    const window = this.options.create(restoredBounds(saved?.bounds, this.options.displays(), MAIN_WINDOW_SIZE));
    window.once('ready-to-show', () => {
      if (saved?.maximized) window.maximize();
      window.show();
      window.focus();
    });
    window.on('close', () => this.save(window));
    window.on('closed', () => {
      if (this.window === window) this.window = undefined;
    });
    void window.loadURL(this.options.urlFor(route));
    this.window = window;
  }

  /**
   * Remembers where the window is. Closing it does this; Quit must too, because the app then
   * exits without closing its windows first.
   */
  saveState(): void {
    if (this.window && !this.window.isDestroyed()) this.save(this.window);
  }

  private save(window: MainWindowLike): void {
    this.options.states.save(STATE_NAME, { bounds: window.getNormalBounds(), maximized: window.isMaximized() });
  }
}

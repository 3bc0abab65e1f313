import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appPageUrl } from '../../main/desktop/app-protocol.js';
import { MAIN_WINDOW_SIZE, MainWindow, type MainWindowLike } from '../../main/desktop/main-window.js';
import type { Rectangle, Size } from '../../main/desktop/placement.js';
import { WindowStateStore } from '../../main/desktop/window-state.js';

/** A BrowserWindow as the main window uses it: made hidden, shown on ready-to-show, closed by the person. */
class FakeWindow extends EventEmitter implements MainWindowLike {
  visible = false;
  focused = false;
  minimized = false;
  maximized = false;
  destroyed = false;
  url = '';
  readonly loaded: string[] = [];

  constructor(public bounds: Rectangle | Size) {
    super();
  }

  show(): void {
    this.visible = true;
  }
  focus(): void {
    this.focused = true;
  }
  restore(): void {
    this.minimized = false;
  }
  maximize(): void {
    this.maximized = true;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getNormalBounds(): Rectangle {
    return 'x' in this.bounds ? { ...this.bounds } : { x: 0, y: 0, ...this.bounds };
  }
  loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.url = url;
    return Promise.resolve();
  }
  currentUrl(): string {
    return this.url;
  }

  /** The first paint is ready. */
  ready(): void {
    this.emit('ready-to-show');
  }
  /** The UI moved to another route by itself (the person clicked around). */
  navigateInPage(route: string): void {
    this.url = appPageUrl(route);
  }
  /** The person moved or resized the window. */
  moveTo(bounds: Rectangle): void {
    this.bounds = bounds;
  }
  /** The person closed the window. */
  close(): void {
    this.emit('close');
    this.visible = false;
    this.destroyed = true;
    this.emit('closed');
  }
}

const laptop: Rectangle = { x: 0, y: 25, width: 1440, height: 875 };

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'perch-main-window-'));
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function mainWindow(workAreas: Rectangle[] = [laptop], primary: Rectangle = laptop) {
  const windows: FakeWindow[] = [];
  const states = new WindowStateStore(dataDir);
  const main = new MainWindow({
    create: (bounds) => {
      const window = new FakeWindow(bounds);
      windows.push(window);
      return window;
    },
    urlFor: appPageUrl,
    states,
    displays: () => ({ all: workAreas, primary }),
  });
  return {
    main,
    states,
    windows,
    window: (): FakeWindow => {
      const last = windows.at(-1);
      if (!last) throw new Error('no window was created');
      return last;
    },
  };
}

describe('MainWindow', () => {
  describe('opening', () => {
    it('opens on the chat by default, at the default size when nothing was saved', () => {
      const { main, window } = mainWindow();
      expect(main.isOpen).toBe(false);
      main.open();
      expect(main.isOpen).toBe(true);
      expect(window().bounds).toEqual(MAIN_WINDOW_SIZE);
      expect(window().loaded).toEqual(['perch://app/index.html#/chat']);
    });

    it('opens on the route it is asked for', () => {
      const { main, window } = mainWindow();
      main.open('settings');
      expect(window().loaded).toEqual(['perch://app/index.html#/settings']);
    });

    it('stays hidden until the first paint is ready, then shows and focuses', () => {
      const { main, window } = mainWindow();
      main.open();
      expect(window().visible).toBe(false);
      window().ready();
      expect(window().visible).toBe(true);
      expect(window().focused).toBe(true);
      expect(window().maximized).toBe(false);
    });

    it('opens where it was last time', () => {
      const saved = { x: 100, y: 80, width: 900, height: 700 };
      new WindowStateStore(dataDir).save('main', { bounds: saved, maximized: false });
      const { main, window } = mainWindow();
      main.open();
      expect(window().bounds).toEqual(saved);
    });

    it('moves to the primary display when the saved one is gone', () => {
      new WindowStateStore(dataDir).save('main', { bounds: { x: 3000, y: 100, width: 900, height: 700 }, maximized: false });
      const { main, window } = mainWindow([laptop]);
      main.open();
      expect(window().bounds).toEqual({ x: 270, y: 25 + Math.round((875 - 700) / 2), width: 900, height: 700 });
    });

    it('moves to the display the OS calls primary, not the first one listed', () => {
      const external: Rectangle = { x: -1920, y: 0, width: 1920, height: 1080 };
      new WindowStateStore(dataDir).save('main', { bounds: { x: 5000, y: 100, width: 900, height: 700 }, maximized: false });
      const { main, window } = mainWindow([external, laptop], laptop);
      main.open();
      expect(window().bounds).toEqual({ x: 270, y: 25 + Math.round((875 - 700) / 2), width: 900, height: 700 });
    });

    it('maximizes on ready-to-show if it was maximized', () => {
      new WindowStateStore(dataDir).save('main', { bounds: { x: 100, y: 80, width: 900, height: 700 }, maximized: true });
      const { main, window } = mainWindow();
      main.open();
      expect(window().maximized).toBe(false);
      window().ready();
      expect(window().maximized).toBe(true);
      expect(window().visible).toBe(true);
    });
  });

  describe('opening again while open', () => {
    it('brings the same window forward instead of making another', () => {
      const { main, windows, window } = mainWindow();
      main.open();
      window().ready();
      window().focused = false;
      main.open('settings');
      expect(windows).toHaveLength(1);
      expect(window().focused).toBe(true);
      expect(window().visible).toBe(true);
    });

    it('navigates when the route differs', () => {
      const { main, window } = mainWindow();
      main.open('chat');
      main.open('settings');
      expect(window().loaded).toEqual(['perch://app/index.html#/chat', 'perch://app/index.html#/settings']);
    });

    it('does not reload the route already showing', () => {
      const { main, window } = mainWindow();
      main.open('settings');
      main.open('settings');
      expect(window().loaded).toEqual(['perch://app/index.html#/settings']);
    });

    it('keeps an open conversation on screen for "Open Chat"', () => {
      const { main, window } = mainWindow();
      main.open('chat');
      window().navigateInPage('chat/01JABC');
      main.open('chat');
      expect(window().loaded).toEqual(['perch://app/index.html#/chat']);
      expect(window().currentUrl()).toBe('perch://app/index.html#/chat/01JABC');
    });

    it('goes to a named conversation when another is showing', () => {
      const { main, window } = mainWindow();
      main.open('chat');
      window().navigateInPage('chat/01JABC');
      main.open('chat/01JXYZ');
      expect(window().loaded.at(-1)).toBe('perch://app/index.html#/chat/01JXYZ');
    });

    it('leaves settings for the chat', () => {
      const { main, window } = mainWindow();
      main.open('settings');
      main.open('chat');
      expect(window().loaded.at(-1)).toBe('perch://app/index.html#/chat');
    });

    it('navigates when the window shows no page yet', () => {
      const { main, window } = mainWindow();
      main.open('chat');
      window().url = '';
      main.open('settings');
      expect(window().loaded.at(-1)).toBe('perch://app/index.html#/settings');
    });

    it('restores a minimized window', () => {
      const { main, window } = mainWindow();
      main.open();
      window().ready();
      window().minimized = true;
      main.open();
      expect(window().minimized).toBe(false);
      expect(window().focused).toBe(true);
    });
  });

  describe('closing', () => {
    it('saves its normal bounds and maximized state as it closes', () => {
      const { main, window, states } = mainWindow();
      main.open();
      window().ready();
      window().maximize();
      window().close();
      const saved = { bounds: { x: 0, y: 0, ...MAIN_WINDOW_SIZE }, maximized: true };
      expect(states.get('main')).toEqual(saved);
      expect(new WindowStateStore(dataDir).get('main')).toEqual(saved);
    });

    it('saves where it is when the app quits with the window open (Quit closes no windows)', () => {
      const { main, window } = mainWindow();
      main.open();
      window().ready();
      window().moveTo({ x: 300, y: 120, width: 1000, height: 720 });
      main.saveState();
      expect(new WindowStateStore(dataDir).get('main')).toEqual({
        bounds: { x: 300, y: 120, width: 1000, height: 720 },
        maximized: false,
      });
    });

    it('saves nothing on quit when the window is not open', () => {
      const { main, window } = mainWindow();
      main.saveState();
      main.open();
      window().close();
      window().moveTo({ x: 1, y: 1, width: 500, height: 500 });
      main.saveState();
      expect(new WindowStateStore(dataDir).get('main')?.bounds).toEqual({ x: 0, y: 0, ...MAIN_WINDOW_SIZE });
    });

    it('is no longer open once closed, and opens a new window next time, where the last one was', () => {
      const { main, window, windows } = mainWindow();
      main.open();
      window().moveTo({ x: 200, y: 150, width: 1000, height: 700 });
      window().close();
      expect(main.isOpen).toBe(false);

      main.open('settings');
      expect(windows).toHaveLength(2);
      expect(window().bounds).toEqual({ x: 200, y: 150, width: 1000, height: 700 });
      expect(window().loaded).toEqual(['perch://app/index.html#/settings']);
      expect(main.isOpen).toBe(true);
    });

    it('does not count a destroyed window as open', () => {
      const { main, window, windows } = mainWindow();
      main.open();
      window().destroyed = true;
      expect(main.isOpen).toBe(false);
      main.open();
      expect(windows).toHaveLength(2);
    });

    it('ignores a late "closed" from a window it already replaced', () => {
      const { main, windows } = mainWindow();
      main.open();
      windows[0]!.destroyed = true;
      main.open();
      windows[0]!.emit('closed');
      expect(main.isOpen).toBe(true);
    });
  });
});

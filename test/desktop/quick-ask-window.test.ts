import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Rectangle } from '../../main/desktop/placement.js';
import {
  QUICK_ASK_SIZE,
  QuickAskWindow,
  type QuickAskOptions,
  type QuickAskWindowLike,
} from '../../main/desktop/quick-ask-window.js';

/** A BrowserWindow as quick ask uses it: visible or not, where it is, and its focus/closed events. */
class FakeWindow extends EventEmitter implements QuickAskWindowLike {
  visible = false;
  destroyed = false;
  focused = false;
  bounds: Rectangle = { x: 0, y: 0, width: 800, height: 600 };
  readonly setBoundsCalls: Partial<Rectangle>[] = [];

  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
    this.focused = false;
  }
  focus(): void {
    this.focused = true;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getBounds(): Rectangle {
    return { ...this.bounds };
  }
  setBounds(bounds: Partial<Rectangle>): void {
    this.setBoundsCalls.push(bounds);
    this.bounds = { ...this.bounds, ...bounds };
  }

  /** The person clicked elsewhere. */
  blur(): void {
    this.focused = false;
    this.emit('blur');
  }
  /** The window got focus back. */
  refocus(): void {
    this.focused = true;
    this.emit('focus');
  }
  /** The window was closed (not hidden): Electron destroys it. */
  close(): void {
    this.visible = false;
    this.destroyed = true;
    this.emit('closed');
  }
}

const primary: Rectangle = { x: 0, y: 0, width: 1920, height: 1080 };
const secondary: Rectangle = { x: 1920, y: -300, width: 2560, height: 1440 };

function quickAsk(options: Partial<QuickAskOptions> = {}) {
  const windows: FakeWindow[] = [];
  let underCursor = primary;
  const onHidden = vi.fn();
  const create = vi.fn(() => {
    const window = new FakeWindow();
    windows.push(window);
    return window;
  });
  const quick = new QuickAskWindow({
    create,
    displays: { workAreaUnderCursor: () => underCursor },
    onHidden,
    ...options,
  });
  return {
    quick,
    create,
    onHidden,
    windows,
    window: (): FakeWindow => {
      const last = windows.at(-1);
      if (!last) throw new Error('no window was created');
      return last;
    },
    moveCursorTo: (area: Rectangle): void => {
      underCursor = area;
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('QuickAskWindow', () => {
  describe('preparing and showing', () => {
    it('makes the window ahead of time, hidden, and only once', () => {
      const { quick, create, window } = quickAsk();
      quick.prepare();
      quick.prepare();
      expect(create).toHaveBeenCalledOnce();
      expect(window().visible).toBe(false);
      expect(quick.visible).toBe(false);
    });

    it('shows the prepared window without making another', () => {
      const { quick, create } = quickAsk();
      quick.prepare();
      quick.show();
      expect(create).toHaveBeenCalledOnce();
      expect(quick.visible).toBe(true);
    });

    it('makes the window on first show if it was not prepared', () => {
      const { quick, create } = quickAsk();
      quick.show();
      expect(create).toHaveBeenCalledOnce();
      expect(quick.visible).toBe(true);
    });

    it('shows centred a third down the display under the pointer, and focused', () => {
      const { quick, window } = quickAsk();
      quick.show();
      expect(window().bounds).toEqual({ x: (1920 - 680) / 2, y: Math.round((1080 - 420) / 3), ...QUICK_ASK_SIZE });
      expect(window().focused).toBe(true);
    });

    it('follows the pointer to another display', () => {
      const { quick, window, moveCursorTo } = quickAsk();
      quick.show();
      quick.hide();
      moveCursorTo(secondary);
      quick.show();
      expect(window().bounds).toEqual({
        x: 1920 + (2560 - 680) / 2,
        y: -300 + Math.round((1440 - 420) / 3),
        width: 680,
        height: 420,
      });
    });

    it('uses the size it is given', () => {
      const { quick, window } = quickAsk({ size: { width: 500, height: 300 } });
      quick.show();
      expect(window().bounds).toMatchObject({ width: 500, height: 300 });
    });
  });

  describe('toggle', () => {
    it('shows when hidden and hides when shown', () => {
      const { quick, onHidden } = quickAsk();
      quick.toggle();
      expect(quick.visible).toBe(true);
      quick.toggle();
      expect(quick.visible).toBe(false);
      expect(onHidden).toHaveBeenCalledOnce();
      quick.toggle();
      expect(quick.visible).toBe(true);
    });
  });

  describe('hide', () => {
    it('hides and then calls onHidden (macOS gives focus back to the previous app)', () => {
      const { quick, onHidden, window } = quickAsk();
      quick.show();
      quick.hide();
      expect(window().visible).toBe(false);
      expect(onHidden).toHaveBeenCalledOnce();
    });

    it('does nothing, and does not call onHidden, when already hidden', () => {
      const { quick, onHidden } = quickAsk();
      quick.hide();
      quick.prepare();
      quick.hide();
      expect(onHidden).not.toHaveBeenCalled();
    });

    it('hides even when pinned (Esc)', () => {
      const { quick } = quickAsk();
      quick.show();
      quick.setPinned(true);
      quick.hide();
      expect(quick.visible).toBe(false);
    });
  });

  describe('losing focus', () => {
    it('hides after the delay', () => {
      const { quick, onHidden, window } = quickAsk({ blurHideDelayMs: 150 });
      quick.show();
      window().blur();
      vi.advanceTimersByTime(149);
      expect(quick.visible).toBe(true);
      vi.advanceTimersByTime(1);
      expect(quick.visible).toBe(false);
      expect(onHidden).toHaveBeenCalledOnce();
    });

    it('waits 150 ms by default', () => {
      const { quick, window } = quickAsk({ blurHideDelayMs: undefined });
      quick.show();
      window().blur();
      vi.advanceTimersByTime(149);
      expect(quick.visible).toBe(true);
      vi.advanceTimersByTime(1);
      expect(quick.visible).toBe(false);
    });

    it('stays when focus comes back within the delay', () => {
      const { quick, onHidden, window } = quickAsk({ blurHideDelayMs: 150 });
      quick.show();
      window().blur();
      vi.advanceTimersByTime(100);
      window().refocus();
      vi.advanceTimersByTime(1_000);
      expect(quick.visible).toBe(true);
      expect(onHidden).not.toHaveBeenCalled();
    });

    it('stays when shown again within the delay (a click on the tray icon toggles, not hide-then-reopen)', () => {
      const { quick, window } = quickAsk({ blurHideDelayMs: 150 });
      quick.show();
      window().blur();
      quick.show();
      vi.advanceTimersByTime(1_000);
      expect(quick.visible).toBe(true);
    });

    it('restarts the delay on a second blur', () => {
      const { quick, window, onHidden } = quickAsk({ blurHideDelayMs: 150 });
      quick.show();
      window().blur();
      vi.advanceTimersByTime(100);
      window().blur();
      vi.advanceTimersByTime(100);
      expect(quick.visible).toBe(true);
      vi.advanceTimersByTime(50);
      expect(quick.visible).toBe(false);
      expect(onHidden).toHaveBeenCalledOnce();
    });

    it('never hides a pinned window', () => {
      const { quick, window, onHidden } = quickAsk();
      quick.show();
      quick.setPinned(true);
      expect(quick.isPinned).toBe(true);
      window().blur();
      vi.advanceTimersByTime(10_000);
      expect(quick.visible).toBe(true);
      expect(onHidden).not.toHaveBeenCalled();
    });

    it('cancels a pending hide when pinned during the delay', () => {
      const { quick, window } = quickAsk();
      quick.show();
      window().blur();
      quick.setPinned(true);
      vi.advanceTimersByTime(10_000);
      expect(quick.visible).toBe(true);
    });

    it('hides on blur again once unpinned', () => {
      const { quick, window } = quickAsk();
      quick.show();
      quick.setPinned(true);
      quick.setPinned(false);
      expect(quick.isPinned).toBe(false);
      window().blur();
      vi.advanceTimersByTime(150);
      expect(quick.visible).toBe(false);
    });

    it('cancels a pending hide when hidden directly, so onHidden is told once', () => {
      const { quick, window, onHidden } = quickAsk();
      quick.show();
      window().blur();
      quick.hide();
      vi.advanceTimersByTime(10_000);
      expect(onHidden).toHaveBeenCalledOnce();
    });
  });

  describe('fitContent', () => {
    const shown = (options: Partial<QuickAskOptions> = {}) => {
      const setup = quickAsk(options);
      setup.quick.show();
      return setup;
    };

    it('grows downwards with the answer, keeping its top, left and width', () => {
      const { quick, window } = shown();
      const opened = window().getBounds();
      quick.fitContent(600.2);
      expect(window().bounds).toEqual({ x: opened.x, y: opened.y, width: opened.width, height: 601 });
    });

    it('never grows past its share of the display’s height (80% by default)', () => {
      const { quick, window } = shown();
      quick.fitContent(5_000);
      expect(window().bounds.height).toBe(Math.floor(1080 * 0.8));
    });

    it('uses the share it is given', () => {
      const { quick, window } = shown({ maxHeightShare: 0.5 });
      quick.fitContent(5_000);
      expect(window().bounds.height).toBe(540);
    });

    it('never shrinks below the height it opened with', () => {
      const { quick, window } = shown();
      quick.fitContent(100);
      expect(window().bounds.height).toBe(420);
      quick.fitContent(700);
      quick.fitContent(50);
      expect(window().bounds.height).toBe(420);
    });

    it('moves up only when its bottom would leave the display', () => {
      const { quick, window } = shown();
      const top = window().bounds.y; // 220: room below for 860 pixels
      quick.fitContent(800);
      expect(window().bounds.y).toBe(top);
      quick.fitContent(864);
      expect(window().bounds).toMatchObject({ y: 1080 - 864, height: 864 });
    });

    it('stays on a display with a non-zero origin', () => {
      const setup = quickAsk();
      setup.moveCursorTo(secondary);
      setup.quick.show();
      setup.quick.fitContent(5_000);
      const bounds = setup.window().bounds;
      expect(bounds.height).toBe(Math.floor(1440 * 0.8));
      expect(bounds.y).toBeGreaterThanOrEqual(-300);
      expect(bounds.y + bounds.height).toBeLessThanOrEqual(-300 + 1440);
    });

    it('measures against the display it was shown on, even if the pointer moved since', () => {
      const setup = quickAsk();
      setup.quick.show();
      setup.moveCursorTo(secondary);
      setup.quick.fitContent(5_000);
      expect(setup.window().bounds.height).toBe(Math.floor(1080 * 0.8));
    });

    it('stays within a work area shorter than its opening size', () => {
      const small: Rectangle = { x: 0, y: 100, width: 800, height: 360 };
      const setup = quickAsk();
      setup.moveCursorTo(small);
      setup.quick.show();
      expect(setup.window().bounds).toMatchObject({ y: 100, height: 360 });
      for (const content of [10, 400, 5_000]) {
        setup.quick.fitContent(content);
        const bounds = setup.window().bounds;
        expect(bounds.y, `content ${content}`).toBeGreaterThanOrEqual(100);
        expect(bounds.y + bounds.height, `content ${content}`).toBeLessThanOrEqual(460);
      }
    });

    it('does not touch the window when the height is unchanged', () => {
      const { quick, window } = shown();
      const calls = window().setBoundsCalls.length;
      quick.fitContent(420);
      quick.fitContent(10);
      expect(window().setBoundsCalls).toHaveLength(calls);
    });

    it('ignores a height that is not a number, and a hidden window', () => {
      const { quick, window } = shown();
      const calls = window().setBoundsCalls.length;
      quick.fitContent(Number.NaN);
      quick.fitContent(Number.POSITIVE_INFINITY);
      quick.hide();
      quick.fitContent(700);
      expect(window().setBoundsCalls).toHaveLength(calls);
    });

    it('opens at its opening size again after growing', () => {
      const { quick, window } = shown();
      quick.fitContent(800);
      quick.hide();
      quick.show();
      expect(window().bounds.height).toBe(420);
    });
  });

  describe('a closed window', () => {
    it('is not visible, and is made again on next show', () => {
      const { quick, create, windows } = quickAsk();
      quick.show();
      windows[0]!.close();
      expect(quick.visible).toBe(false);
      quick.show();
      expect(create).toHaveBeenCalledTimes(2);
      expect(windows[1]!.visible).toBe(true);
      expect(quick.visible).toBe(true);
    });

    it('cancels a pending hide', () => {
      const { quick, windows, onHidden } = quickAsk();
      quick.show();
      windows[0]!.blur();
      windows[0]!.close();
      vi.advanceTimersByTime(10_000);
      expect(onHidden).not.toHaveBeenCalled();
    });

    it('is replaced when destroyed without a closed event', () => {
      const { quick, create, windows } = quickAsk();
      quick.prepare();
      windows[0]!.destroyed = true;
      quick.show();
      expect(create).toHaveBeenCalledTimes(2);
      expect(quick.visible).toBe(true);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { quickAskBounds, restoredBounds, type DisplayAreas, type Rectangle } from '../../main/desktop/placement.js';

const laptop: Rectangle = { x: 0, y: 25, width: 1440, height: 875 };
/** A second monitor to the left of and above the primary one (negative origin). */
const leftMonitor: Rectangle = { x: -1920, y: -200, width: 1920, height: 1040 };
const rightMonitor: Rectangle = { x: 1440, y: 0, width: 2560, height: 1400 };

describe('quickAskBounds', () => {
  it('centres the window horizontally and puts it a third of the way down the work area', () => {
    const bounds = quickAskBounds({ x: 0, y: 0, width: 1920, height: 1080 }, { width: 680, height: 420 });
    expect(bounds).toEqual({ x: 620, y: 220, width: 680, height: 420 });
  });

  it('measures from the work area, below a menu bar', () => {
    const bounds = quickAskBounds(laptop, { width: 680, height: 420 });
    expect(bounds).toEqual({ x: 380, y: 25 + Math.round((875 - 420) / 3), width: 680, height: 420 });
  });

  it('places on a display with a non-zero origin (the display under the pointer)', () => {
    expect(quickAskBounds(rightMonitor, { width: 680, height: 420 })).toEqual({
      x: 1440 + (2560 - 680) / 2,
      y: Math.round((1400 - 420) / 3),
      width: 680,
      height: 420,
    });
    expect(quickAskBounds(leftMonitor, { width: 680, height: 420 })).toEqual({
      x: -1920 + (1920 - 680) / 2,
      y: -200 + Math.round((1040 - 420) / 3),
      width: 680,
      height: 420,
    });
  });

  it('shrinks to fit a work area smaller than the window, never leaving it', () => {
    const small: Rectangle = { x: 100, y: 50, width: 500, height: 300 };
    const bounds = quickAskBounds(small, { width: 680, height: 420 });
    expect(bounds).toEqual({ x: 100, y: 50, width: 500, height: 300 });
  });

  it('clamps each dimension on its own', () => {
    const narrow: Rectangle = { x: 0, y: 0, width: 600, height: 1000 };
    expect(quickAskBounds(narrow, { width: 680, height: 420 })).toEqual({
      x: 0,
      y: Math.round(580 / 3),
      width: 600,
      height: 420,
    });
  });

  it('gives whole pixels', () => {
    const bounds = quickAskBounds({ x: 0, y: 0, width: 1001, height: 1001 }, { width: 680, height: 420 });
    expect(Number.isInteger(bounds.x)).toBe(true);
    expect(Number.isInteger(bounds.y)).toBe(true);
  });
});

describe('restoredBounds', () => {
  const fallback = { width: 1100, height: 760 };
  /** The displays' work areas; the primary one is the laptop unless said otherwise. */
  const displays = (all: Rectangle[], primary: Rectangle = laptop): DisplayAreas => ({ all, primary });

  it('uses the fallback size when nothing was saved', () => {
    expect(restoredBounds(undefined, displays([laptop]), fallback)).toEqual(fallback);
  });

  it('keeps saved bounds that are still visible', () => {
    const saved = { x: 100, y: 80, width: 900, height: 700 };
    expect(restoredBounds(saved, displays([laptop]), fallback)).toEqual(saved);
  });

  it('keeps saved bounds on a secondary display that is still plugged in', () => {
    const saved = { x: -1700, y: -100, width: 1000, height: 800 };
    expect(restoredBounds(saved, displays([laptop, leftMonitor]), fallback)).toEqual(saved);
  });

  it('keeps a window that hangs partly off a display while a title bar’s worth still shows', () => {
    const saved = { x: 1300, y: 100, width: 1000, height: 700 };
    expect(restoredBounds(saved, displays([laptop]), fallback)).toEqual(saved);
  });

  it('moves a window whose display was unplugged to the middle of the primary display', () => {
    const saved = { x: 1600, y: 100, width: 1000, height: 700 };
    expect(restoredBounds(saved, displays([laptop]), fallback)).toEqual({
      x: (1440 - 1000) / 2,
      y: 25 + Math.round((875 - 700) / 2),
      width: 1000,
      height: 700,
    });
  });

  it('moves a window of which less than a title bar’s worth (120×40) still shows', () => {
    // Only its top-left corner, 10×10 pixels, is left on the bottom-right of the display.
    const saved = { x: 1430, y: 890, width: 1000, height: 700 };
    const restored = restoredBounds(saved, displays([laptop]), fallback);
    expect(restored).toEqual({ x: 220, y: 113, width: 1000, height: 700 });
  });

  it('shrinks a moved window to fit the primary display', () => {
    const saved = { x: 1500, y: 0, width: 2400, height: 1300 };
    expect(restoredBounds(saved, displays([laptop]), fallback)).toEqual({ x: 0, y: 25, width: 1440, height: 875 });
  });

  it('moves to the display the OS calls primary, wherever it comes in the list', () => {
    const saved = { x: 9000, y: 9000, width: 800, height: 600 };
    expect(restoredBounds(saved, displays([laptop, rightMonitor], rightMonitor), fallback)).toEqual({
      x: 1440 + (2560 - 800) / 2,
      y: (1400 - 600) / 2,
      width: 800,
      height: 600,
    });
  });
});

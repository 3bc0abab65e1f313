/** Window geometry: pure functions of the displays, so they are tested without a screen. */

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * Where quick ask appears: horizontally centred on the display's work area, a little above
 * the middle (where the eye goes, like Spotlight), never off the display.
 */
export function quickAskBounds(workArea: Rectangle, size: Size): Rectangle {
  const width = Math.min(size.width, workArea.width);
  const height = Math.min(size.height, workArea.height);
  const x = Math.round(workArea.x + (workArea.width - width) / 2);
  const y = Math.round(workArea.y + Math.max(0, (workArea.height - height) / 3));
  return { x, y, width, height };
}

const overlap = (a: Rectangle, b: Rectangle): number =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

/** The work areas of the displays, and the primary display's (the OS's choice, not the first listed). */
export interface DisplayAreas {
  all: Rectangle[];
  primary: Rectangle;
}

/**
 * Remembered bounds, if they can still be seen: a window whose display was unplugged (or that
 * would show less than a title bar's worth) is moved to the primary display instead.
 */
export function restoredBounds(saved: Rectangle | undefined, displays: DisplayAreas, fallback: Size): Rectangle | Size {
  const { all, primary } = displays;
  if (!saved) return fallback;
  const visible = all.some((area) => overlap(saved, area) >= Math.min(saved.width, 120) * 40);
  if (visible) return saved;
  const width = Math.min(saved.width, primary.width);
  const height = Math.min(saved.height, primary.height);
  return {
    x: Math.round(primary.x + (primary.width - width) / 2),
    y: Math.round(primary.y + (primary.height - height) / 2),
    width,
    height,
  };
}

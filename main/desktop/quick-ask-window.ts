import { quickAskBounds, type Rectangle, type Size } from './placement.js';

/** The parts of a BrowserWindow quick ask uses (a fake in tests). */
export interface QuickAskWindowLike {
  show(): void;
  hide(): void;
  focus(): void;
  isVisible(): boolean;
  isDestroyed(): boolean;
  getBounds(): Rectangle;
  setBounds(bounds: Partial<Rectangle>): void;
  on(event: 'blur' | 'focus' | 'closed', listener: () => void): unknown;
}

export interface DisplayFinder {
  /** The work area of the display under the mouse pointer. */
  workAreaUnderCursor(): Rectangle;
}

export interface QuickAskOptions {
  create: () => QuickAskWindowLike;
  displays: DisplayFinder;
  size?: Size;
  /** How far the window may grow with its answer, as a share of the display's height. */
  maxHeightShare?: number;
  /** Hiding on blur waits this long, so a click on the tray icon toggles instead of hide-then-reopen. */
  blurHideDelayMs?: number;
  /** After hiding (macOS: give focus back to the app that had it). */
  onHidden?: () => void;
}

export const QUICK_ASK_SIZE: Size = { width: 680, height: 420 };

/**
 * The quick-ask window: made hidden ahead of time so the shortcut shows it at once, centred
 * on the display under the pointer, hidden on Esc or when it loses focus unless pinned.
 */
export class QuickAskWindow {
  private window: QuickAskWindowLike | undefined;
  private pinned = false;
  private hideTimer: NodeJS.Timeout | undefined;
  private workArea: Rectangle | undefined;
  private readonly size: Size;

  constructor(private readonly options: QuickAskOptions) {
    this.size = options.size ?? QUICK_ASK_SIZE;
  }

  /** Makes the window now, hidden, so showing it later costs nothing. */
  prepare(): void {
    this.ensure();
  }

  get visible(): boolean {
    return this.window !== undefined && !this.window.isDestroyed() && this.window.isVisible();
  }

  get isPinned(): boolean {
    return this.pinned;
  }

  toggle(): void {
    if (this.visible) this.hide();
    else this.show();
  }

  show(): void {
    const window = this.ensure();
    this.cancelHide();
    this.workArea = this.options.displays.workAreaUnderCursor();
    window.setBounds(quickAskBounds(this.workArea, this.size));
    window.show();
    window.focus();
  }

  hide(): void {
    this.cancelHide();
    if (!this.visible) return;
    this.window?.hide();
    this.options.onHidden?.();
  }

  setPinned(pinned: boolean): void {
    this.pinned = pinned;
    if (pinned) this.cancelHide();
  }

  /** Grows (or shrinks back) with the answer: never below the opening size, never past the limit. */
  fitContent(contentHeight: number): void {
    if (!this.visible || !Number.isFinite(contentHeight)) return;
    const window = this.window as QuickAskWindowLike;
    const area = this.workArea ?? this.options.displays.workAreaUnderCursor();
    // The height it opened with: quickAskBounds clamps the size to a short work area.
    const opening = Math.min(this.size.height, area.height);
    const max = Math.max(opening, Math.floor(area.height * (this.options.maxHeightShare ?? 0.8)));
    const height = Math.min(max, Math.max(opening, Math.ceil(contentHeight)));
    const bounds = window.getBounds();
    if (bounds.height === height) return;
    // Keep it on the display: grow downwards, and move up only when the bottom would leave it.
    const y = Math.min(bounds.y, area.y + area.height - height);
    window.setBounds({ x: bounds.x, y, width: bounds.width, height });
  }

  private ensure(): QuickAskWindowLike {
    if (this.window && !this.window.isDestroyed()) return this.window;
    const window = this.options.create();
    window.on('blur', () => {
      if (this.pinned) return;
      this.cancelHide();
      this.hideTimer = setTimeout(() => this.hide(), this.options.blurHideDelayMs ?? 150);
    });
    window.on('focus', () => this.cancelHide());
    window.on('closed', () => {
      this.cancelHide();
      this.window = undefined;
    });
    this.window = window;
    return window;
  }

  private cancelHide(): void {
    clearTimeout(this.hideTimer);
    this.hideTimer = undefined;
  }
}

import type { Clock } from '../../main/core/clock.js';

/**
 * A clock tests move by hand. `advance` lets time pass and fires timers on the way (like a
 * computer that stays awake); `sleep` moves the wall clock without firing anything (like a
 * computer asleep), so the next timer to fire finds the clock has jumped.
 */
export class FakeClock implements Clock {
  private time: number;
  private nextHandle = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start: string | number) {
    this.time = typeof start === 'string' ? Date.parse(start) : start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + Math.max(0, ms), callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Lets `ms` pass, firing every timer that comes due, in order (a timer may set another). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const next = [...this.timers.entries()].filter(([, timer]) => timer.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
    }
    this.time = target;
  }

  /** The computer sleeps for `ms`: the wall clock jumps; timers fire only once it is awake again. */
  sleep(ms: number): void {
    this.time += ms;
  }

  /** Fires the earliest pending timer now (the first thing a waking computer does). */
  wake(): void {
    const next = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
    if (!next) return;
    this.timers.delete(next[0]);
    next[1].callback();
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}

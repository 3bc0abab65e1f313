import { PerchError } from './errors.js';

/** Gives back the slot (safe to call more than once). */
export type Release = () => void;

export interface UpstreamGateOptions {
  /** Calls to Claude allowed at once; read on every call, so a changed setting applies at once. */
  limit: () => number;
  /** Requests allowed to wait for a slot; beyond that a request is refused at once. */
  maxWaiting?: number;
}

/**
 * Bounds how many calls to Claude run at the same time. The rest wait in line (first come,
 * first served) instead of opening hundreds of upstream streams for a runaway script; a waiter
 * whose client hangs up leaves the line.
 */
export class UpstreamGate {
  private active = 0;
  private readonly line: Array<{ admit: () => void }> = [];

  constructor(private readonly options: UpstreamGateOptions) {}

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.line.length;
  }

  /**
   * A slot at once when one is free and nobody is waiting, without a promise or an abort
   * signal (the relay's hot path); undefined otherwise, and the caller waits with enqueue().
   */
  tryAcquire(): Release | undefined {
    return this.slotFree() ? this.take() : undefined;
  }

  /**
   * Waits in line without a promise or an abort signal (the relay's waiting path): `admit` gets
   * the slot when this caller's turn comes, at once when one is free. Returns the function that
   * leaves the line (harmless once admitted), or the refusal when the line is full.
   */
  enqueue(admit: (release: Release) => void): (() => void) | PerchError {
    if (this.slotFree()) {
      admit(this.take());
      return () => {};
    }
    if (this.line.length >= (this.options.maxWaiting ?? 1000)) return this.lineFull();
    const waiter = { admit: () => admit(this.take()) };
    this.line.push(waiter);
    return () => {
      const index = this.line.indexOf(waiter);
      if (index !== -1) this.line.splice(index, 1);
    };
  }

  /** enqueue() as a promise; aborting `signal` leaves the line with a `cancelled` error. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(new PerchError('cancelled', 499, 'The client went away before Claude was asked.'));
    return new Promise<Release>((resolve, reject) => {
      let leave = (): void => {};
      const onAbort = (): void => {
        leave();
        reject(new PerchError('cancelled', 499, 'The client went away while waiting for Claude.'));
      };
      const waiting = this.enqueue((release) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      });
      if (waiting instanceof PerchError) reject(waiting);
      else {
        leave = waiting;
        signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private slotFree(): boolean {
    return this.active < this.options.limit() && this.line.length === 0;
  }

  private lineFull(): PerchError {
    return new PerchError(
      'overloaded',
      503,
      `Perch is already waiting on ${this.line.length} requests to Claude. Try again shortly, or raise claude.maxConcurrentRequests.`,
      { retryAfterSeconds: 5 },
    );
  }

  private take(): Release {
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.admitNext();
    };
  }

  private admitNext(): void {
    while (this.line.length > 0 && this.active < this.options.limit()) this.line.shift()?.admit();
  }
}

/**
 * Work that outlives the webhook request that asked for it. Every job's promise is kept (so a
 * shutdown can wait for it or stop it) and never rejects: a job handles its own failures.
 * Jobs with the same key run one after another (two pushes to one pull request are reviewed
 * in order, so the second updates the first one's comment instead of racing it).
 */
export class BackgroundJobs {
  private readonly running = new Set<Promise<void>>();
  private readonly tails = new Map<string, Promise<void>>();
  private readonly controller = new AbortController();

  constructor(private readonly onUnexpected: (error: unknown) => void = () => undefined) {}

  get size(): number {
    return this.running.size;
  }

  /** Aborted when the jobs are stopped (a shutdown that could not wait). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  run(key: string | undefined, job: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const before = key === undefined ? undefined : this.tails.get(key);
    const start = async (): Promise<void> => {
      if (before) await before;
      await job(this.controller.signal);
    };
    const done = start().catch((error: unknown) => {
      try {
        this.onUnexpected(error);
      } catch {
        // Nothing left to tell.
      }
    });
    this.running.add(done);
    if (key !== undefined) this.tails.set(key, done);
    void done.finally(() => {
      this.running.delete(done);
      if (key !== undefined && this.tails.get(key) === done) this.tails.delete(key);
    });
    return done;
  }

  /** Resolves when every job has settled (jobs started meanwhile included). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Lets jobs finish for up to `graceMs`, then aborts the rest and waits for them to record it. */
  async drain(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.idle().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.controller.abort(new Error('Perch is shutting down.'));
      await this.idle();
    }
  }
}

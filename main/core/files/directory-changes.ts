import { statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import path from 'node:path';

/**
 * Change notices for the files in one folder, from the OS (inotify, FSEvents, …) rather than
 * polling: a running service learns that `perch config set` or `perch token --regenerate`
 * rewrote a file without statting it on every request, and costs nothing while idle.
 */
export class DirectoryChanges {
  private readonly versions = new Map<string, number>();
  private anonymous = 0;
  private watcher: FSWatcher | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(readonly directory: string) {
    try {
      this.watcher = watch(directory, { persistent: false }, (_event, filename) => {
        // Some platforms omit the name: then every file counts as changed.
        if (filename) this.versions.set(filename, (this.versions.get(filename) ?? 0) + 1);
        else this.anonymous += 1;
        this.notify(filename ?? undefined);
      });
      this.watcher.on('error', () => this.close());
    } catch {
      // No watching (inotify limit, odd file system): callers fall back to a stat per read.
      this.watcher = undefined;
    }
  }

  get watching(): boolean {
    return this.watcher !== undefined;
  }

  /**
   * A number that grows whenever `filename` may have changed (both counters only grow, so their
   * sum moves when either does); undefined when not watching.
   */
  version(filename: string): number | undefined {
    if (!this.watcher) return undefined;
    return (this.versions.get(filename) ?? 0) + this.anonymous;
  }

  /**
   * Calls `listener` shortly after `filename` changes. A write by rename shows up as several
   * notices; they are gathered into one call. Returns the function that stops listening.
   */
  onChange(filename: string, listener: () => void, settleMs = 50): () => void {
    let timer: NodeJS.Timeout | undefined;
    const gathered = (): void => {
      clearTimeout(timer);
      timer = setTimeout(listener, settleMs);
      timer.unref();
    };
    const set = this.listeners.get(filename) ?? new Set();
    set.add(gathered);
    this.listeners.set(filename, set);
    return () => {
      clearTimeout(timer);
      set.delete(gathered);
    };
  }

  private notify(filename: string | undefined): void {
    const targets = filename === undefined ? [...this.listeners.values()] : [this.listeners.get(filename)];
    for (const set of targets) for (const listener of set ?? []) listener();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }
}

const sameStats = (a: Stats | undefined, b: Stats | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;

/**
 * Tells whether a file may differ from when it was last looked at. With change notices it
 * answers from memory; without, or when notified, it compares the file's stat.
 */
export class FileVersion {
  private seen = false;
  private lastStats: Stats | undefined;
  private lastNotice: number | undefined;
  private readonly filename: string;

  constructor(
    readonly filePath: string,
    private readonly changes?: DirectoryChanges,
  ) {
    this.filename = path.basename(filePath);
  }

  /** True the first time, and whenever the file changed since the previous call. */
  changed(): boolean {
    const notice = this.changes?.version(this.filename);
    if (this.seen && notice !== undefined && notice === this.lastNotice) return false;
    let stats: Stats | undefined;
    try {
      stats = statSync(this.filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const changed = !this.seen || !sameStats(stats, this.lastStats);
    this.seen = true;
    this.lastStats = stats;
    this.lastNotice = notice;
    return changed;
  }

  /** Forget what was seen, so the next `changed()` is true (after writing the file ourselves). */
  invalidate(): void {
    this.seen = false;
  }
}

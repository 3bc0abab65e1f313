import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { DestinationStream } from 'pino';

/** The folder in the data directory that holds Perch's log files. */
export function logsDir(dataDir: string): string {
  return path.join(dataDir, 'logs');
}

/**
 * The log file a running service writes to: `<dataDir>/logs/perch.log`. Older records are in
 * `perch.1.log` (the previous file), `perch.2.log` and so on.
 */
export function logFilePath(dataDir: string): string {
  return path.join(logsDir(dataDir), 'perch.log');
}

/** `perch.log` for 0, then `perch.1.log`, `perch.2.log`, …: the older, the higher. */
export function rotatedLogFilePath(dataDir: string, index: number): string {
  return index === 0 ? logFilePath(dataDir) : path.join(logsDir(dataDir), `perch.${index}.log`);
}

export interface LogFileOptions {
  /** Rotate when the current file would grow past this many bytes (default 10 MB). */
  maxBytes?: number;
  /** How many files to keep, the current one included (default 5). */
  maxFiles?: number;
  /** How long a record may wait in memory before it is written (default 100 ms). */
  flushIntervalMs?: number;
  /** How often to check that the file was not deleted or moved away (default 1 s). */
  checkFileEveryMs?: number;
  /** After a failed write, records are dropped for this long before the file is tried again (default 5 s). */
  retryAfterMs?: number;
  /** Where the one warning goes when the file cannot be written (default: stderr). */
  warn?: (message: string) => void;
}

const MB = 1024 * 1024;
/** Write at once when this much is waiting, whatever the interval; also the largest write. */
const BATCH = 64 * 1024;
/** When the disk cannot keep up, drop records rather than grow without bound. */
const MAX_WAITING = 8 * MB;
const OWNER_ONLY_DIR = 0o700;
const OWNER_ONLY_FILE = 0o600;
const isWindows = process.platform === 'win32';

/** An asynchronous write the OS may still be doing. */
interface WriteInFlight {
  fd: number;
  buffer: Buffer;
  position: number;
  /** flushSync wrote the same bytes already: the outcome no longer matters. */
  superseded: boolean;
  /** The file was closed (rotation, failure) while this write used it: close it afterwards. */
  closeAfter: boolean;
  /** How many records it holds, and how many dropped ones its notice reports. */
  records: number;
  noticed: number;
}

type Batch = Omit<WriteInFlight, 'superseded' | 'closeAfter'>;

/**
 * Perch's log file: pino's JSON lines, appended in batches, rotated by size and count
 * (`perch.log`, `perch.1.log` … `perch.<maxFiles-1>.log`), readable by the owner only.
 *
 * Cheap on the request path: `write()` only queues the line. The queue is written with one
 * asynchronous `fs.write` at a time (at most `flushIntervalMs` later, or at once past 64 KB),
 * each at an explicit file position, so `flushSync()` at exit can rewrite a write still in
 * flight without duplicating or losing anything. It never throws: a deleted file or folder is
 * created again; a write that fails (disk full, no permission) prints one warning to stderr and
 * drops records, trying the file again every few seconds.
 */
export class RotatingLogFile implements DestinationStream {
  readonly file: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly flushIntervalMs: number;
  private readonly checkFileEveryMs: number;
  private readonly retryAfterMs: number;
  private readonly warn: (message: string) => void;
  private fd: number | undefined;
  /** Identity of the open file, to notice when the path no longer leads to it. */
  private identity: { dev: number; ino: number } | undefined;
  /** Bytes in the current file, the write in flight included. */
  private size = 0;
  private waiting: string[] = [];
  /** Characters (not bytes: cheaper, and only a bound) waiting in memory. */
  private waitingLength = 0;
  private inFlight: WriteInFlight | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  /** The last write failed: records are dropped until retryAt. */
  private failing = false;
  /** A warning went out and no write has worked since. */
  private warned = false;
  private retryAt = 0;
  private dropped = 0;
  private checkedAt = 0;
  private closed = false;
  private readonly onExit = (): void => this.flushSync();

  constructor(dataDir: string, options: LogFileOptions = {}) {
    this.dir = logsDir(dataDir);
    this.file = logFilePath(dataDir);
    this.maxBytes = Math.max(1, options.maxBytes ?? 10 * MB);
    this.maxFiles = Math.max(1, Math.floor(options.maxFiles ?? 5));
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.checkFileEveryMs = options.checkFileEveryMs ?? 1_000;
    this.retryAfterMs = options.retryAfterMs ?? 5_000;
    this.warn = options.warn ?? ((message) => process.stderr.write(`perch: ${message}\n`));
    this.open();
    // Whatever is still queued reaches the file even when the process exits without stopping.
    process.on('exit', this.onExit);
  }

  /** The file name at `index` (0: the current file). */
  pathAt(index: number): string {
    return index === 0 ? this.file : path.join(this.dir, `perch.${index}.log`);
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.failing && Date.now() < this.retryAt) {
      this.dropped += 1;
      return;
    }
    if (this.waitingLength >= MAX_WAITING) {
      this.fail(new Error(`more than ${MAX_WAITING / MB} MB of records are waiting for the disk`));
      this.dropped += 1;
      return;
    }
    this.waiting.push(line);
    this.waitingLength += line.length;
    if (this.inFlight) return;
    if (this.waitingLength >= BATCH) this.pump();
    else this.timer ??= setTimeout(() => this.pump(), this.flushIntervalMs).unref();
  }

  /**
   * Writes everything queued; resolves once it is in the file (or dropped, if the file cannot
   * be written). Also serves pino's `logger.flush(callback)`.
   */
  flush(callback?: (error?: Error) => void): Promise<void> {
    const done = new Promise<void>((resolve) => {
      this.idle.push(resolve);
      if (this.inFlight) return;
      this.pump();
    });
    if (callback) void done.then(() => callback());
    return done;
  }

  /** Writes everything queued before returning (for process exit). Never throws. */
  flushSync(): void {
    this.clearTimer();
    try {
      const op = this.inFlight;
      if (op && !op.superseded) {
        // Writing the same bytes at the same place again is harmless if the first write got there.
        op.superseded = true;
        this.writeAllSync(op);
      }
      for (let batch = this.nextBatch(); batch; batch = this.nextBatch()) this.writeAllSync(batch);
    } catch (error) {
      this.fail(error);
    }
    this.settle();
  }

  /** Flushes and closes the file; later records are ignored. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.clearTimer();
    process.off('exit', this.onExit);
    this.closeFd();
  }

  private writeAllSync(batch: Batch): void {
    const { fd, buffer, position } = batch;
    try {
      let written = 0;
      while (written < buffer.length) {
        written += writeSync(fd, buffer, written, buffer.length - written, position + written);
      }
    } catch (error) {
      this.dropped += batch.records;
      throw error;
    }
    this.succeeded(batch);
  }

  private open(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: OWNER_ONLY_DIR });
      if (!isWindows) chmodSync(this.dir, OWNER_ONLY_DIR);
      // Explicit positions rather than O_APPEND: see flushSync.
      const fd = openSync(this.file, constants.O_WRONLY | constants.O_CREAT, OWNER_ONLY_FILE);
      this.fd = fd;
      const stats = fstatSync(fd);
      // A file made by an older version or by hand; never chmod a device or a pipe.
      if (!isWindows && stats.isFile() && (stats.mode & 0o077) !== 0) fchmodSync(fd, OWNER_ONLY_FILE);
      this.identity = { dev: stats.dev, ino: stats.ino };
      this.size = stats.isFile() ? stats.size : 0;
      this.checkedAt = Date.now();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Closes the file now, or once the write using it is done. */
  private closeFd(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    if (this.inFlight?.fd === fd) {
      this.inFlight.closeAfter = true;
      return;
    }
    try {
      closeSync(fd);
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** Opens the file again if it was deleted, moved, replaced or truncated since it was opened. */
  private checkStillThere(): void {
    const now = Date.now();
    if (this.fd !== undefined && now - this.checkedAt < this.checkFileEveryMs) return;
    this.checkedAt = now;
    if (this.fd !== undefined && this.identity) {
      try {
        const stats = statSync(this.file);
        const same = stats.ino === this.identity.ino && stats.dev === this.identity.dev;
        if (same && (!stats.isFile() || stats.size >= this.size)) return;
      } catch {
        // Deleted, perhaps with its folder: make a new one.
      }
    }
    this.closeFd();
    this.open();
  }

  /** `perch.log` becomes `perch.1.log`, `perch.1.log` becomes `perch.2.log`, …; the oldest goes. */
  private rotate(): void {
    this.closeFd();
    const ignoreMissing = (action: () => void): void => {
      try {
        action();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    };
    ignoreMissing(() => unlinkSync(this.pathAt(this.maxFiles - 1)));
    for (let index = this.maxFiles - 2; index >= 0; index -= 1) {
      ignoreMissing(() => renameSync(this.pathAt(index), this.pathAt(index + 1)));
    }
    this.open();
  }

  /**
   * Takes the records that fit in the current file (rotating first when none do) and counts
   * their bytes as written; undefined when nothing is waiting or the file cannot be opened.
   */
  private nextBatch(): Batch | undefined {
    if (this.waiting.length === 0) return undefined;
    if (this.failing && Date.now() < this.retryAt) {
      this.dropWaiting();
      return undefined;
    }
    this.failing = false;
    this.checkStillThere();
    let room = this.maxBytes - this.size;
    const first = Buffer.byteLength(this.waiting[0] ?? '');
    if (this.size > 0 && first > room && this.fd !== undefined) {
      this.rotate();
      room = this.maxBytes - this.size;
    }
    const fd = this.fd;
    if (fd === undefined) {
      this.dropWaiting();
      return undefined;
    }
    let count = 1;
    let bytes = first;
    while (count < this.waiting.length && bytes < BATCH) {
      const next = Buffer.byteLength(this.waiting[count] ?? '');
      if (bytes + next > room) break;
      bytes += next;
      count += 1;
    }
    const lines = this.waiting.splice(0, count);
    let text = lines.join('');
    this.waitingLength = this.waiting.length === 0 ? 0 : Math.max(0, this.waitingLength - text.length);
    const noticed = this.dropped;
    if (noticed > 0) {
      // Writing again after a failure: say in the file what is missing from it.
      const notice = `${noticed} log records were dropped while the log file could not be written.`;
      text = `${JSON.stringify({ level: 40, time: Date.now(), msg: notice })}\n${text}`;
    }
    const buffer = Buffer.from(text, 'utf8');
    const position = this.size;
    this.size += buffer.length;
    return { fd, buffer, position, records: count, noticed };
  }

  private pump(): void {
    this.clearTimer();
    if (this.inFlight) return;
    let batch;
    try {
      batch = this.nextBatch();
    } catch (error) {
      this.fail(error);
    }
    if (batch) this.writeAsync({ ...batch, superseded: false, closeAfter: false });
    else this.settle();
  }

  private writeAsync(op: WriteInFlight): void {
    this.inFlight = op;
    write(op.fd, op.buffer, 0, op.buffer.length, op.position, (error, written) => {
      this.inFlight = undefined;
      if (op.closeAfter) {
        try {
          closeSync(op.fd);
        } catch {
          // Already closed.
        }
      }
      if (!op.superseded) {
        if (error) {
          this.dropped += op.records;
          this.fail(error);
        } else if (written < op.buffer.length) {
          if (op.closeAfter) {
            this.dropped += op.records;
            this.fail(new Error('the log file was closed during a write'));
          } else {
            this.writeAsync({ ...op, buffer: op.buffer.subarray(written), position: op.position + written });
            return;
          }
        } else {
          this.succeeded(op);
        }
      }
      if (this.waiting.length > 0 && !this.closed) this.pump();
      else this.settle();
    });
  }

  private succeeded(batch: Batch): void {
    this.warned = false;
    this.dropped -= batch.noticed;
  }

  /** Resolves flush() callers once nothing is queued or in flight. */
  private settle(): void {
    if (this.inFlight || this.waiting.length > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private dropWaiting(): void {
    this.dropped += this.waiting.length;
    this.waiting = [];
    this.waitingLength = 0;
  }

  /** One warning until a write works again; records are dropped until the retry. */
  private fail(error: unknown): void {
    if (!this.warned) {
      this.warned = true;
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      this.warn(`cannot write the log file ${this.file} (${reason}); log records are dropped until it can be written again.`);
    }
    this.failing = true;
    this.retryAt = Date.now() + this.retryAfterMs;
    this.closeFd();
    this.dropWaiting();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Opens (creating them if needed) the rotating log files in `<dataDir>/logs`. */
export function openLogFile(dataDir: string, options: LogFileOptions = {}): RotatingLogFile {
  return new RotatingLogFile(dataDir, options);
}

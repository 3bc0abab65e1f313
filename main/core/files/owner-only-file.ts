import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';

/**
 * Writes a file readable by its owner only, atomically (temporary file + rename), so a
 * reader never sees half a token and a crash never leaves an empty one.
 */
export function writeOwnerOnlyFile(filePath: string, content: string): void {
  const temporary = `${filePath}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, content, { mode: 0o600 });
    renameSync(temporary, filePath);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // The temporary file was never created.
    }
    throw error;
  }
}

const sameFile = (a: Stats, b: Stats): boolean => a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.size === b.size;

/**
 * A small file another process may replace at any moment (the CLI regenerates the token, sets
 * the API key). `read()` costs one stat while the file is unchanged and re-reads it when it
 * changed, so a running service honours the change on its very next request.
 */
export class ChangingFile {
  private lastStats: Stats | undefined;
  private lastContent: string | undefined;

  constructor(readonly filePath: string) {}

  /** The file's content, or undefined when it does not exist. */
  read(): string | undefined {
    let stats: Stats;
    try {
      stats = statSync(this.filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.lastStats = undefined;
        this.lastContent = undefined;
        return undefined;
      }
      throw error;
    }
    if (this.lastStats && sameFile(this.lastStats, stats)) return this.lastContent;
    this.lastContent = readFileSync(this.filePath, 'utf8');
    this.lastStats = stats;
    return this.lastContent;
  }

  write(content: string): void {
    writeOwnerOnlyFile(this.filePath, content);
  }

  remove(): void {
    try {
      unlinkSync(this.filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

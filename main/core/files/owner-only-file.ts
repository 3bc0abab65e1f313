import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { FileVersion, type DirectoryChanges } from './directory-changes.js';

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

/**
 * A small file another process may replace at any moment (the CLI regenerates the token, sets
 * the API key). `read()` answers from memory until the file changes, so a running service
 * honours the change on its next request without re-reading the file on every one.
 */
export class ChangingFile {
  private readonly version: FileVersion;
  private content: string | undefined;
  private trimmed: string | undefined;

  constructor(
    readonly filePath: string,
    changes?: DirectoryChanges,
  ) {
    this.version = new FileVersion(filePath, changes);
  }

  /** The file's content, or undefined when it does not exist. */
  read(): string | undefined {
    if (this.version.changed()) {
      try {
        this.content = readFileSync(this.filePath, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        this.content = undefined;
      }
      this.trimmed = this.content?.trim();
    }
    return this.content;
  }

  /** The content without surrounding whitespace (a token or key with its newline), kept with it. */
  readTrimmed(): string | undefined {
    this.read();
    return this.trimmed;
  }

  /** Re-reads the file now, whatever the change notices say. */
  reload(): string | undefined {
    this.version.invalidate();
    return this.read();
  }

  write(content: string): void {
    writeOwnerOnlyFile(this.filePath, content);
    this.version.invalidate();
  }

  remove(): void {
    try {
      unlinkSync(this.filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.version.invalidate();
  }
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeOwnerOnlyFile } from '../core/files/owner-only-file.js';

/**
 * What the app has already told the person in a notification, by key, in `notices.json` in the
 * data folder: a problem that stays (a shortcut the desktop never allows) is announced once,
 * then lives in Settings, instead of a notification at every start. A missing or damaged file
 * only means a notice may be shown again.
 */
export class ToldOnce {
  private readonly file: string;
  private keys: Set<string>;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'notices.json');
    this.keys = this.read();
  }

  /** True the first time for a key (and remembers it), false after. */
  firstTime(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    this.write();
    return true;
  }

  /** The problem went away: tell the person again if it comes back. */
  forget(key: string): void {
    if (this.keys.delete(key)) this.write();
  }

  private read(): Set<string> {
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return new Set(Array.isArray(parsed) ? parsed.filter((key): key is string => typeof key === 'string') : []);
    } catch {
      return new Set();
    }
  }

  private write(): void {
    try {
      writeOwnerOnlyFile(this.file, `${JSON.stringify([...this.keys], null, 2)}\n`);
    } catch {
      // At worst the notice is shown again next time.
    }
  }
}

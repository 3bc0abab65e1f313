/**
 * Start at login on Linux (and other XDG desktops): an autostart Desktop Entry written by hand.
 *
 * Electron's login-item API covers macOS and Windows only, and the auto-launch package gets Linux
 * wrong (it names the file after the executable, ignores XDG_CONFIG_HOME and leaves Exec unquoted,
 * so a program under a path with spaces never starts). No `electron` import: tested in plain Node.
 *
 * Specifications: https://specifications.freedesktop.org/autostart-spec/latest/ and
 * https://specifications.freedesktop.org/desktop-entry-spec/latest/ (Exec: "The Exec key").
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/** The argument that tells Perch it was started at login and should stay in the tray. */
export const HIDDEN_ARG = '--hidden';

/** Our file's name: fixed, so it is found again whatever the executable is called. */
export const AUTOSTART_FILE_NAME = 'perch.desktop';

/** A program and its arguments, unquoted. */
export interface LaunchTarget {
  command: string;
  args: string[];
}

export interface LaunchInfo {
  env: NodeJS.ProcessEnv;
  /** process.execPath */
  execPath: string;
  /** app.isPackaged */
  isPackaged: boolean;
  /** app.getAppPath(): the folder (or asar) holding package.json. */
  appPath: string;
}

/** What the OS should run at login to start this copy of Perch (without the hidden flag). */
export function launchTarget(info: LaunchInfo): LaunchTarget {
  // A development run is the Electron binary plus the checkout, so it can be tried from a clone.
  if (!info.isPackaged) return { command: info.execPath, args: [info.appPath] };
  // An AppImage runs from a temporary mount (execPath) that is gone after exit: launch the image.
  // Programs started from an AppImage inherit APPIMAGE too, so trust it only when we run inside it.
  const { APPIMAGE, APPDIR } = info.env;
  if (APPIMAGE && path.isAbsolute(APPIMAGE) && (!APPDIR || isInside(info.execPath, APPDIR))) {
    return { command: APPIMAGE, args: [] };
  }
  return { command: info.execPath, args: [] };
}

/** The target's argument list, with the hidden flag when asked. */
export function launchArgs(target: LaunchTarget, hidden: boolean): string[] {
  return hidden ? [...target.args, HIDDEN_ARG] : [...target.args];
}

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

// Characters the Desktop Entry spec reserves: an argument holding any of them must be quoted.
const RESERVED = /[\s"'\\<>~|&;$*?#()`]/;

/**
 * One argument as written on an Exec line. Two layers apply (in this order when writing):
 * the Exec quoting rule (double quotes; inside them `"`, `` ` ``, `$` and `\` take a backslash;
 * `%` is always `%%`), then the general string escapes (`\` becomes `\\`, newline `\n`…).
 * So a literal `$` inside quotes is `\\$` in the file and a backslash is `\\\\`, as the spec says.
 */
export function quoteExecArgument(arg: string): string {
  const percent = arg.replaceAll('%', '%%');
  const quoted = arg === '' || RESERVED.test(arg) ? `"${percent.replace(/["`$\\]/g, '\\$&')}"` : percent;
  return escapeString(quoted);
}

function escapeString(value: string): string {
  return value.replace(/[\\\n\t\r]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c] ?? c);
}

/**
 * The argument list an Exec value stands for (the inverse of quoteExecArgument, read the way
 * GLib reads it: string escapes, then field codes, then quoting). Used to read our entry back.
 */
export function parseExec(value: string): string[] {
  const unescaped = value.replace(/\\([sntr\\])/g, (_, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r' })[c] ?? '\\');
  // `%%` is a percent sign; other field codes (%U, %f…) expand to nothing when nothing is opened.
  const expanded = unescaped.replace(/%(.)/gs, (_, c: string) => (c === '%' ? '%' : ''));
  const args: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded.charAt(i);
    const next = expanded.charAt(i + 1);
    if (quoted) {
      if (c === '"') quoted = false;
      else if (c === '\\' && next !== '' && '"`$\\'.includes(next)) word += expanded.charAt(++i);
      else word += c;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === '"') quoted = true;
      else if (c === '\\' && next !== '') word += expanded.charAt(++i);
      else word += c;
    }
  }
  if (inWord) args.push(word);
  return args;
}

/** The autostart file's text: a complete Desktop Entry that starts the target. */
export function desktopEntry(target: LaunchTarget, options: { hidden: boolean }): string {
  const exec = [target.command, ...launchArgs(target, options.hidden)].map(quoteExecArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=Perch',
    'Comment=Claude, always at hand',
    `Exec=${exec}`,
    'Icon=perch',
    'Terminal=false',
    // A tray app maps no window at start: a startup notification would only spin until it times out.
    'StartupNotify=false',
    'NoDisplay=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** `$XDG_CONFIG_HOME/autostart/perch.desktop`, or `~/.config/autostart/perch.desktop`. */
export function autostartFilePath(env: NodeJS.ProcessEnv, homeDir: string): string {
  // The XDG base directory spec: an empty or relative XDG_CONFIG_HOME is ignored.
  const configHome = env.XDG_CONFIG_HOME;
  const base = configHome && path.isAbsolute(configHome) ? configHome : path.join(homeDir, '.config');
  return path.join(base, 'autostart', AUTOSTART_FILE_NAME);
}

/** What our autostart file says, read back. */
interface EntryState {
  /** The session will start it: not Hidden=true, not X-GNOME-Autostart-enabled=false, has an Exec. */
  enabled: boolean;
  /** The Exec line as arguments (program first). */
  argv: string[];
}

/** Reads the keys of the [Desktop Entry] group (unlocalized keys only; later lines win). */
function desktopEntryKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  let inMainGroup = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      inMainGroup = line === '[Desktop Entry]';
      continue;
    }
    const equals = line.indexOf('=');
    if (!inMainGroup || equals < 0) continue;
    keys.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
  }
  return keys;
}

/**
 * Perch's XDG autostart entry. Every question re-reads the file, because the user may change
 * it behind our back (GNOME's Startup Applications sets X-GNOME-Autostart-enabled=false,
 * KDE sets Hidden=true, or the file is simply deleted): the file is the truth, not our settings.
 */
export class LinuxAutostart {
  readonly file: string;
  readonly target: LaunchTarget;

  constructor(options: { file: string; target: LaunchTarget }) {
    this.file = options.file;
    this.target = options.target;
  }

  /** Whether the desktop session will start something from our file at login. */
  isEnabled(): boolean {
    return this.read()?.enabled ?? false;
  }

  /** Whether our entry starts Perch with the hidden flag. */
  isHidden(): boolean {
    return this.read()?.argv.slice(1).includes(HIDDEN_ARG) ?? false;
  }

  /** Whether our entry launches this copy of Perch (and not, say, an AppImage that moved). */
  launchesTarget(): boolean {
    const entry = this.read();
    if (!entry) return false;
    const wanted = [this.target.command, ...this.target.args];
    const actual = entry.argv.filter((arg, i) => i === 0 || arg !== HIDDEN_ARG);
    return actual.length === wanted.length && actual.every((arg, i) => arg === wanted[i]);
  }

  /**
   * Writes our entry for the current target (replacing whatever the file said, so a stale
   * entry is re-pointed and a disabled one re-enabled).
   */
  enable(hidden: boolean): void {
    this.write(this.target, hidden);
  }

  /**
   * Follows the program to a new path: an AppImage update writes Perch-1.1.AppImage beside
   * Perch-1.0.AppImage and deletes the old one, so an entry that starts this copy must now start
   * the new file (keeping its hidden flag). Anything else is left alone: an entry that is
   * switched off, or that starts another copy. Returns whether it rewrote the entry.
   */
  retarget(command: string): boolean {
    const entry = this.read();
    if (!entry?.enabled || !this.launchesTarget() || command === this.target.command) return false;
    this.write({ command, args: this.target.args }, entry.argv.slice(1).includes(HIDDEN_ARG));
    return true;
  }

  /** Atomic: the session never reads half a file. */
  private write(target: LaunchTarget, hidden: boolean): void {
    const content = desktopEntry(target, { hidden });
    const folder = path.dirname(this.file);
    const temporary = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    // Unchanged: leave the file (and its timestamp) alone. Unreadable: overwrite it.
    if (readOrUndefined(this.file) === content) return;
    try {
      mkdirSync(folder, { recursive: true });
      const fd = openSync(temporary, 'wx', 0o644);
      try {
        writeSync(fd, content);
        // Flushed before the rename, so a crash cannot leave an empty entry in its place.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.file);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // Never created.
      }
      throw fileError(
        `Could not turn on start at login: writing ${this.file} failed`,
        error,
        `Make sure ${folder} is a folder you can write to.`,
      );
    }
  }

  /** Removes our entry (nothing to do when it is already gone). */
  disable(): void {
    try {
      unlinkSync(this.file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw fileError(
        `Could not turn off start at login: removing ${this.file} failed`,
        error,
        'Delete that file yourself to stop Perch starting at login.',
      );
    }
  }

  /**
   * Re-points an enabled entry whose program no longer exists at the current target, keeping
   * its hidden flag; returns whether it did. This is the AppImage case: an update or a new
   * download replaces Perch-1.0.AppImage with Perch-1.1.AppImage and the old Exec dies silently.
   * An entry for a program that still exists is left alone (it may be another copy the user chose).
   */
  repair(): boolean {
    const entry = this.read();
    const program = entry?.argv[0];
    if (!entry?.enabled || program === undefined || !path.isAbsolute(program) || existsSync(program)) return false;
    if (this.launchesTarget()) return false;
    this.enable(entry.argv.slice(1).includes(HIDDEN_ARG));
    return true;
  }

  private read(): EntryState | undefined {
    const text = this.readText();
    if (text === undefined) return undefined;
    const keys = desktopEntryKeys(text);
    const argv = parseExec(keys.get('Exec') ?? '');
    const enabled = keys.get('Hidden') !== 'true' && keys.get('X-GNOME-Autostart-enabled') !== 'false' && argv.length > 0;
    return { enabled, argv };
  }

  private readText(): string | undefined {
    try {
      return readFileSync(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      throw fileError(`Could not read ${this.file}`, error, 'Check that file and its folder are readable.');
    }
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a file is in the way where a folder should be',
  EEXIST: 'a file is in the way where a folder should be',
  EISDIR: 'a folder is in the way where the file should be',
};

/** An Error a person can act on: what failed, why in plain words, and what to do. */
function fileError(what: string, cause: unknown, advice: string): Error {
  const code = errorCode(cause);
  const reason = (code && REASONS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
  return new Error(`${what}: ${reason}. ${advice}`, { cause });
}

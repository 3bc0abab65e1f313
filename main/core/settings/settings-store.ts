import { renameSync } from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import type { z } from 'zod';
import { PerchError } from '../errors.js';
import { fieldProblemsOf, inSentence, type FieldProblem } from '../field-problems.js';
import { FileVersion, type DirectoryChanges } from '../files/directory-changes.js';
import { dataFiles } from '../paths.js';
import { parseSettingText, schemaForKey, unknownSettingError } from './keys.js';
import { SECRET_SETTINGS, settingsSchema, type Settings, type StoredSettings } from './schema.js';

/** Which environment variable overrides which setting (ARCHITECTURE.md's contract). */
export const ENVIRONMENT_OVERRIDES = {
  'api.port': 'PERCH_PORT',
  'api.host': 'PERCH_HOST',
  // A comma-separated (or JSON) list, as `perch config set` takes it: names a container's
  // Host header may carry without touching its settings file.
  'api.allowedHosts': 'PERCH_ALLOWED_HOSTS',
  'claude.upstreamUrl': 'PERCH_UPSTREAM_URL',
} as const;

type Overridable = keyof typeof ENVIRONMENT_OVERRIDES;

/** Values given for this run only (command-line flags), applied over the environment. */
export interface RunOverrides {
  port?: number;
  host?: string;
}

export interface SettingsStoreOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: RunOverrides;
  /** Told about settings that could not be used (a corrupt file, an invalid value). */
  onWarning?: (message: string) => void;
  /** Change notices for the data folder, so `current()` need not stat the file each time. */
  changes?: DirectoryChanges;
}

type Plain = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

function getPath(object: Plain, key: string): unknown {
  let current: unknown = object;
  for (const part of key.split('.')) {
    if (!isPlainObject(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

function withPath(object: Plain, key: string, value: unknown): Plain {
  const [head, ...rest] = key.split('.') as [string, ...string[]];
  if (rest.length === 0) {
    const others = Object.entries(object).filter(([name]) => name !== head);
    return Object.fromEntries(value === undefined ? others : [...others, [head, value]]);
  }
  const child = object[head];
  return { ...object, [head]: withPath(isPlainObject(child) ? child : {}, rest.join('.'), value) };
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `'${issue.path.join('.')}': ${issue.message}`).join('; ');
}

/**
 * Settings stored with `conf` in the data folder's `config.json` (the file electron-store uses
 * in the desktop app), validated by the zod schema, with environment and command-line
 * overrides applied on top. The file may be changed by another process (`perch config set`
 * while the service runs); `current()` notices on the next call.
 */
export class SettingsStore {
  private readonly conf: Conf<Plain>;
  private readonly env: NodeJS.ProcessEnv;
  private readonly overrides: RunOverrides;
  private readonly onWarning: (message: string) => void;
  private readonly filePath: string;
  private readonly fileVersion: FileVersion;
  private cached: Settings | undefined;

  constructor(
    readonly dataDir: string,
    options: SettingsStoreOptions = {},
  ) {
    this.env = options.env ?? process.env;
    this.overrides = options.overrides ?? {};
    this.onWarning = options.onWarning ?? (() => {});
    this.filePath = path.join(dataDir, dataFiles.settings);
    this.fileVersion = new FileVersion(this.filePath, options.changes);
    this.conf = this.openConf();
  }

  /** The settings in force: stored values, then environment variables, then run overrides. */
  current(): Settings {
    if (this.fileVersion.changed() || !this.cached) this.cached = this.applyOverrides(this.storedWithDefaults());
    return this.cached;
  }

  /** What the settings file says, with defaults for what it leaves out (no overrides). */
  storedWithDefaults(): Settings {
    const raw = this.readRaw();
    const parsed = settingsSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    // Keep every valid value and fall back to the default for each invalid one.
    this.onWarning(
      `Some settings in ${this.filePath} are invalid and their defaults are used instead: ${formatIssues(parsed.error)}`,
    );
    let repaired: Plain = raw;
    for (const issue of parsed.error.issues) {
      const leaf = issue.path.filter((part) => typeof part === 'string').join('.');
      repaired = withPath(repaired, leaf, undefined);
    }
    const second = settingsSchema.safeParse(repaired);
    return second.success ? second.data : settingsSchema.parse({});
  }

  /** A stored value (or its default) by dotted key: `claude.model`, `api`, or everything. */
  get(key?: string): unknown {
    const all = this.storedWithDefaults();
    if (key === undefined || key === '') return all;
    if (!schemaForKey(key)) throw unknownSettingError(key);
    return getPath(all, key);
  }

  /** Sets one key from a typed value; validates the whole file before writing anything. */
  set(key: string, value: unknown): void {
    this.setMany([[key, value]]);
  }

  /** Sets several keys at once: all of them, or (when one is invalid) none. */
  setMany(entries: ReadonlyArray<readonly [key: string, value: unknown]>): void {
    let next = this.readRaw();
    for (const [key, value] of entries) {
      if (!schemaForKey(key)) throw unknownSettingError(key);
      next = withPath(next, key, value);
    }
    const parsed = settingsSchema.safeParse(next);
    if (!parsed.success) {
      const keyOf = (issue: z.core.$ZodIssue): string | undefined => {
        const path = issue.path.join('.');
        return entries.find(([key]) => path === key || path.startsWith(`${key}.`))?.[0];
      };
      const relevant = parsed.error.issues.filter((issue) => keyOf(issue) !== undefined);
      if (relevant.length === 0) {
        throw new PerchError(
          'invalid_setting',
          400,
          `The settings file already holds invalid values (${formatIssues(parsed.error)}); nothing was changed. Fix them first, e.g. with npx perch config reset <key> on this machine.`,
        );
      }
      const problems = fieldProblemsOf(relevant, (issue) => keyOf(issue) as string);
      const describe = ({ field, message }: FieldProblem): string => {
        const value = entries.find(([name]) => name === field)?.[1];
        return `Invalid value ${JSON.stringify(value)} for '${field}': ${inSentence(message)}.`;
      };
      throw new PerchError('invalid_setting', 400, problems.map(describe).join(' '), { fields: problems });
    }
    this.conf.store = next;
    this.fileVersion.invalidate();
  }

  /** Sets one key from the text a person typed, parsed by the schema ("20" → 20). */
  setFromText(key: string, text: string): void {
    this.set(key, parseSettingText(key, text));
  }

  /** Returns one key to its default. */
  reset(key: string): void {
    if (!schemaForKey(key)) throw unknownSettingError(key);
    this.conf.store = withPath(this.readRaw(), key, undefined);
    this.fileVersion.invalidate();
  }

  /** The environment variable currently overriding a key, if any. */
  overriddenBy(key: string): string | undefined {
    const variable = (ENVIRONMENT_OVERRIDES as Record<string, string>)[key];
    return variable && this.env[variable] ? variable : undefined;
  }

  private applyOverrides(stored: Settings): Settings {
    const fromEnv: Partial<Record<Overridable, unknown>> = {};
    const port = this.env.PERCH_PORT;
    if (port) fromEnv['api.port'] = Number(port);
    if (this.env.PERCH_HOST) fromEnv['api.host'] = this.env.PERCH_HOST;
    if (this.env.PERCH_ALLOWED_HOSTS) fromEnv['api.allowedHosts'] = this.listFromEnvironment('api.allowedHosts');
    if (this.env.PERCH_UPSTREAM_URL) fromEnv['claude.upstreamUrl'] = this.env.PERCH_UPSTREAM_URL;
    let merged: Plain = stored;
    for (const [key, value] of Object.entries(fromEnv)) merged = withPath(merged, key, value);
    if (this.overrides.port !== undefined) merged = withPath(merged, 'api.port', this.overrides.port);
    if (this.overrides.host !== undefined) merged = withPath(merged, 'api.host', this.overrides.host);
    const parsed = settingsSchema.safeParse(merged);
    if (!parsed.success) {
      const variables = Object.entries(ENVIRONMENT_OVERRIDES)
        .filter(([key]) => parsed.error.issues.some((issue) => `${issue.path.join('.')}.`.startsWith(`${key}.`)))
        .map(([, variable]) => variable);
      throw new PerchError(
        'invalid_setting',
        400,
        `Invalid override${variables.length ? ` (check ${variables.join(', ')})` : ''}: ${formatIssues(parsed.error)}`,
      );
    }
    return parsed.data;
  }

  /** A list setting's environment variable, read as `perch config set` reads it ("a,b" or JSON). */
  private listFromEnvironment(key: Overridable): unknown {
    const variable = ENVIRONMENT_OVERRIDES[key];
    try {
      return parseSettingText(key, this.env[variable] ?? '');
    } catch (error) {
      throw new PerchError('invalid_setting', 400, `Invalid override (check ${variable}): ${(error as Error).message}`);
    }
  }

  private readRaw(): Plain {
    try {
      return this.conf.store;
    } catch (error) {
      if (error instanceof SyntaxError) {
        this.moveAsideCorruptFile();
        return {};
      }
      throw error;
    }
  }

  private openConf(): Conf<Plain> {
    const open = (): Conf<Plain> =>
      new Conf<Plain>({
        cwd: this.dataDir,
        configName: path.parse(dataFiles.settings).name,
        configFileMode: 0o600,
        clearInvalidConfig: false,
      });
    try {
      return open();
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.moveAsideCorruptFile();
      return open();
    }
  }

  /** A file that is not JSON is kept for the person to inspect, never silently deleted. */
  private moveAsideCorruptFile(): void {
    const aside = `${this.filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.filePath, aside);
    this.onWarning(`The settings file ${this.filePath} was not valid JSON; it was moved to ${aside} and defaults are used.`);
  }
}

/** Which secret settings hold a value. */
export function secretsSet(settings: Settings): Record<string, boolean> {
  return Object.fromEntries(SECRET_SETTINGS.map((key) => [key, getPath(settings as unknown as Plain, key) !== '']));
}

/** The settings with every secret replaced (by what `describe` says about it): safe to show. */
export function maskSecrets(settings: Settings, describe: (isSet: boolean) => string): Settings {
  let masked = settings as unknown as Plain;
  for (const [key, isSet] of Object.entries(secretsSet(settings))) masked = withPath(masked, key, describe(isSet));
  return masked as unknown as Settings;
}

export const isSecretSetting = (key: string): boolean => (SECRET_SETTINGS as readonly string[]).includes(key);

export type { Settings, StoredSettings };

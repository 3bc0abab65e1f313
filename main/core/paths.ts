import { mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/** The product name decides the folder, so Electron's `userData` and the CLI agree. */
export const PRODUCT_NAME = 'Perch';

/**
 * The per-user app-data folder Electron's `app.getPath('userData')` gives for "Perch":
 * Linux `$XDG_CONFIG_HOME/Perch` (or `~/.config/Perch`), macOS
 * `~/Library/Application Support/Perch`, Windows `%APPDATA%\Perch`.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  const xdgConfig =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(xdgConfig, PRODUCT_NAME);
}

/** An explicit `--data-dir` wins, then `PERCH_DATA_DIR`, then the OS default. */
export function resolveDataDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? (env.PERCH_DATA_DIR || undefined) ?? defaultDataDir(env);
  return path.resolve(chosen);
}

/** Creates the data folder readable by its owner only (it holds the token, the key and history). */
export function ensureDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') chmodSync(dataDir, 0o700);
  return dataDir;
}

export const dataFiles = {
  settings: 'config.json',
  token: 'token',
  apiKey: 'api-key',
  database: 'perch.db',
  /** Where a running service says where it listens (pid, URL), so the CLI can find it. */
  runtime: 'service.json',
  /** The session `perch ask` continues. */
  cliSession: 'cli-session.json',
} as const;

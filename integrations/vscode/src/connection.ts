import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * Finding the Perch service the way the perch CLI does. The extension ships on its own, so it
 * carries this small copy of the rules (ARCHITECTURE.md's data-folder contract) instead of
 * importing Perch's code.
 */

export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Perch');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Perch');
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(xdg, 'Perch');
}

export interface ConnectionSettings {
  serviceUrl?: string;
  dataDir?: string;
}

export interface Connection {
  baseUrl: string;
  /** Undefined when the token file cannot be read (then the extension asks once). */
  token: string | undefined;
}

type ReadFile = (file: string) => string;

function readJson(read: ReadFile, file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(read(file)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Explicit setting, then PERCH_PORT, then the running service's record, then settings, then 8080. */
export function findConnection(
  settings: ConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
  read: ReadFile = (file) => readFileSync(file, 'utf8'),
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): Connection {
  const dataDir = settings.dataDir || env.PERCH_DATA_DIR || defaultDataDir(env, platform, home);
  let token: string | undefined;
  try {
    token = read(path.join(dataDir, 'token')).trim() || undefined;
  } catch {
    token = undefined;
  }
  if (settings.serviceUrl) return { baseUrl: settings.serviceUrl.replace(/\/$/, ''), token };
  if (env.PERCH_PORT) return { baseUrl: `http://127.0.0.1:${env.PERCH_PORT}`, token };
  const running = readJson(read, path.join(dataDir, 'service.json'));
  if (typeof running?.port === 'number') return { baseUrl: `http://127.0.0.1:${running.port}`, token };
  const config = readJson(read, path.join(dataDir, 'config.json'));
  const port = (config?.api as { port?: unknown } | undefined)?.port;
  return { baseUrl: `http://127.0.0.1:${typeof port === 'number' ? port : 8080}`, token };
}

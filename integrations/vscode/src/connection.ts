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
  /** Undefined when no running Perch is recorded (then no port is tried: it is not running). */
  baseUrl: string | undefined;
  /** Undefined when the token file cannot be read (then the extension asks once). */
  token: string | undefined;
}

type ReadFile = (file: string) => string;
type IsAlive = (pid: number) => boolean;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readJson(read: ReadFile, file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(read(file)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Explicit setting, then PERCH_PORT, then the running service's record (when its process is
 * alive). Nothing else: a port Perch has not recorded may belong to any program.
 */
export function findConnection(
  settings: ConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
  read: ReadFile = (file) => readFileSync(file, 'utf8'),
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
  isAlive: IsAlive = processIsAlive,
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
  if (typeof running?.port === 'number' && typeof running.pid === 'number' && isAlive(running.pid)) {
    return { baseUrl: `http://127.0.0.1:${running.port}`, token };
  }
  return { baseUrl: undefined, token };
}

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** How a service or a background run starts this copy of Perch. */
export interface Installation {
  /** The node executable, absolute. */
  node: string;
  /** `bin/perch.js` of this installation, absolute (it checks the build, then loads out/main/cli.js). */
  entry: string;
}

/**
 * This copy of Perch: the CLI is bundled into out/main (cli.js or a chunk below it) and runs from
 * main/cli in tests, so the root is the nearest folder above this file that holds bin/perch.js.
 */
export function currentInstallation(from: string = fileURLToPath(import.meta.url)): Installation {
  let dir = path.dirname(from);
  for (;;) {
    const entry = path.join(dir, 'bin', 'perch.js');
    if (existsSync(entry)) return { node: process.execPath, entry: realpathSync(entry) };
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find bin/perch.js above ${from}: is this a complete Perch installation?`);
    dir = parent;
  }
}

/** The state letter of a Linux process (R, S, Z…), or undefined where /proc is not available. */
function linuxProcessState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command name) S …": the name may hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process of this user runs under that pid. A zombie (exited, never reaped: PID 1 of
 * some containers reaps nothing) still answers signal 0, so on Linux its state is checked too.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: another user's process, so not one this user started.
    return false;
  }
  const state = linuxProcessState(pid);
  return state !== 'Z' && state !== 'X';
}

/** The command line of a process, where the OS tells it cheaply (Linux /proc, macOS ps). */
export function processCommandLine(pid: number, platform: NodeJS.Platform = process.platform): string[] | undefined {
  if (platform === 'linux') {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.at(-1) === '') args.pop();
      return args.length > 0 ? args : undefined;
    } catch {
      return undefined;
    }
  }
  if (platform === 'darwin') {
    try {
      // Only whitespace-separated, but enough to recognise `node …/perch.js serve`.
      const line = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', timeout: 5_000 }).trim();
      return line ? line.split(/\s+/) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether a command line is `perch serve` (for that data folder, when it names one). */
export function isPerchServe(args: string[], dataDir: string): boolean {
  if (!args.includes('serve')) return false;
  if (!args.some((arg) => /(^|[\\/])(perch|perch\.js|cli\.js)$/.test(arg))) return false;
  const flag = args.indexOf('--data-dir');
  return flag === -1 || args[flag + 1] === dataDir;
}

export interface HealthAnswer {
  status: number;
  body: string;
}

/**
 * GET /api/v1/health, or undefined when nothing answers. A liveness probe on the service's own
 * address that sends nothing secret, so a self-signed HTTPS certificate is accepted.
 */
export function probeHealth(serviceUrl: string, timeoutMs = 3_000): Promise<HealthAnswer | undefined> {
  const target = new URL('/api/v1/health', serviceUrl);
  // A wildcard bind is reachable on loopback.
  if (target.hostname === '0.0.0.0' || target.hostname === '[::]') target.hostname = '127.0.0.1';
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const request = client.get(target, { timeout: timeoutMs, rejectUnauthorized: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Polls `check` until it returns something other than undefined, or the time is up. */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

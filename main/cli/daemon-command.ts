import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeOwnerOnlyFile } from '../core/files/owner-only-file.js';
import { ensureDataDir, resolveDataDir } from '../core/paths.js';
import { readRuntimeInfo, removeRuntimeInfo, type RuntimeInfo } from '../core/runtime-file.js';
import { tailFile } from './log-tail.js';
import type { Output } from './output.js';
import {
  currentInstallation,
  isPerchServe,
  isProcessAlive,
  pollUntil,
  probeHealth,
  processCommandLine,
  type HealthAnswer,
  type Installation,
} from './processes.js';
import type { CliEnvironment } from './program.js';
import { dataDirOption } from './service-command.js';

export const daemonFiles = {
  /** The background run's process id, in the data folder. */
  pid: 'perch.pid',
  /** Its stdout and stderr, in the data folder's logs/. */
  log: 'daemon.log',
} as const;

export interface DaemonContext {
  env: NodeJS.ProcessEnv;
  out: Output;
  installation: Installation;
  /** How long `start` waits for /api/v1/health to answer. */
  startTimeoutMs: number;
  /** How long `stop` waits after SIGTERM (answers in flight finish) before SIGKILL. */
  stopTimeoutMs: number;
}

export function defaultDaemonContext(env: NodeJS.ProcessEnv, out: Output): DaemonContext {
  // Generous: a first start on a busy machine opens (and may migrate) the database.
  return { env, out, installation: currentInstallation(), startTimeoutMs: 60_000, stopTimeoutMs: 15_000 };
}

const pidPath = (dataDir: string): string => path.join(dataDir, daemonFiles.pid);
const logPath = (dataDir: string): string => path.join(dataDir, 'logs', daemonFiles.log);

/** A daemon log past this size is moved to daemon.log.1 at the next start. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

type PidFile = { kind: 'none' } | { kind: 'running'; pid: number } | { kind: 'stale'; pid?: number; why: string };

/**
 * What the pid file says, checked: the process must be alive and still be this data folder's
 * `perch serve` (a pid is reused by the OS once its process is gone).
 */
function readPidFile(dataDir: string): PidFile {
  let text: string;
  try {
    text = readFileSync(pidPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw error;
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { kind: 'stale', why: 'it holds no process id' };
  if (!isProcessAlive(pid)) return { kind: 'stale', pid, why: `process ${pid} is not running` };
  const commandLine = processCommandLine(pid);
  if (commandLine) {
    return isPerchServe(commandLine, dataDir)
      ? { kind: 'running', pid }
      : { kind: 'stale', pid, why: `process ${pid} is now another program` };
  }
  // No command line to look at (Windows): the service's own record of its pid decides.
  return readRuntimeInfo(dataDir)?.pid === pid
    ? { kind: 'running', pid }
    : { kind: 'stale', pid, why: `process ${pid} is not this data folder's Perch` };
}

function removePidFile(dataDir: string): void {
  try {
    unlinkSync(pidPath(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** A Perch serving this data folder (a service, a terminal, a daemon), by service.json and a live pid. */
function runningPerch(dataDir: string): RuntimeInfo | undefined {
  const info = readRuntimeInfo(dataDir);
  return info && isProcessAlive(info.pid) ? info : undefined;
}

function printLogTail(out: Output, file: string, since: number): void {
  try {
    const { text } = tailFile(file, 20, since);
    if (text) for (const line of text.trimEnd().split('\n')) out.stderr(`  ${line}`);
  } catch {
    // No log to show.
  }
}

export interface StartFlags {
  port?: number | undefined;
  host?: string | undefined;
}

/** `perch daemon start`: `perch serve` in the background, ready when this returns 0. */
export async function daemonStart(context: DaemonContext, dataDirFlag: string | undefined, flags: StartFlags): Promise<number> {
  const { out } = context;
  const dataDir = ensureDataDir(resolveDataDir(dataDirFlag, context.env));
  const recorded = readPidFile(dataDir);
  if (recorded.kind === 'running') {
    const info = runningPerch(dataDir);
    out.stdout(`Perch is already running in the background (pid ${recorded.pid}${info ? `, at ${info.url}` : ''}).`);
    return 0;
  }
  if (recorded.kind === 'stale') {
    removePidFile(dataDir);
    out.stdout(`Removed a stale pid file (${recorded.why}).`);
  }
  const other = runningPerch(dataDir);
  if (other) {
    // A second service on the same data folder would share its database and token: refuse.
    out.stdout(
      `Perch is already running at ${other.url} (pid ${other.pid}), started by a service or by perch serve; not starting another.`,
    );
    return 0;
  }

  const logFile = logPath(dataDir);
  mkdirSync(path.dirname(logFile), { recursive: true, mode: 0o700 });
  try {
    if (statSync(logFile).size > LOG_ROTATE_BYTES) renameSync(logFile, `${logFile}.1`);
  } catch {
    // No log yet.
  }
  const log = openSync(logFile, 'a', 0o600);
  const startOffset = fstatSync(log).size;
  writeSync(log, `--- perch daemon start, ${new Date().toISOString()} ---\n`);
  const args = [context.installation.entry, 'serve', '--data-dir', dataDir];
  if (flags.port !== undefined) args.push('--port', String(flags.port));
  if (flags.host !== undefined) args.push('--host', flags.host);
  // Detached (its own process group, no terminal) so closing this shell does not stop it.
  const child = spawn(context.installation.node, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: context.env,
    // Not the caller's folder: a background process should not keep it busy (or unmountable).
    cwd: dataDir,
    windowsHide: true,
  });
  closeSync(log);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  child.once('error', (error) => (spawnError = error));
  child.unref();
  const { pid } = child;
  if (pid === undefined) {
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error(`Could not start ${context.installation.node}: ${spawnError?.message ?? 'unknown error'}`);
  }
  writeOwnerOnlyFile(pidPath(dataDir), `${pid}\n`);

  type Outcome = { kind: 'up'; info: RuntimeInfo; health: HealthAnswer } | { kind: 'exited' };
  const outcome = await pollUntil<Outcome>(
    async () => {
      if (exited || spawnError) return { kind: 'exited' };
      // service.json is written once the port is bound; health proves it serves.
      const info = readRuntimeInfo(dataDir);
      if (info?.pid !== pid) return undefined;
      const health = await probeHealth(info.url);
      return health ? { kind: 'up', info, health } : undefined;
    },
    context.startTimeoutMs,
    200,
  );

  if (outcome?.kind === 'up') {
    out.stdout(`Perch is running in the background at ${outcome.info.url} (pid ${pid}).`);
    if (outcome.health.status !== 200) {
      out.stderr(`perch: it answers its health check with ${outcome.health.status}: ${outcome.health.body.slice(0, 200)}`);
    }
    out.stdout(`  Log:   ${logFile}`);
    out.stdout(`  Stop:  npx perch daemon stop${dataDirFlag !== undefined ? ` --data-dir ${JSON.stringify(dataDir)}` : ''}`);
    return 0;
  }
  if (outcome?.kind === 'exited') {
    removePidFile(dataDir);
    const how = spawnError
      ? spawnError.message
      : exited?.signal
        ? `killed by ${exited.signal}`
        : `exit code ${exited?.code ?? '?'}`;
    out.stderr(`perch: Perch stopped while starting (${how}). The end of ${logFile}:`);
    printLogTail(out, logFile, startOffset);
    return 1;
  }
  out.stderr(
    `perch: Perch (pid ${pid}) did not answer within ${Math.round(context.startTimeoutMs / 1000)} s; it is still running. The end of ${logFile}:`,
  );
  printLogTail(out, logFile, startOffset);
  out.stderr('Stop it with: npx perch daemon stop');
  return 1;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // Already gone.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** `perch daemon stop`: SIGTERM (answers in flight finish), SIGKILL only if it does not end in time. */
export async function daemonStop(context: DaemonContext, dataDirFlag: string | undefined): Promise<number> {
  const { out } = context;
  const dataDir = resolveDataDir(dataDirFlag, context.env);
  const recorded = readPidFile(dataDir);
  if (recorded.kind === 'stale') {
    removePidFile(dataDir);
    out.stdout(`Perch's daemon is not running (removed a stale pid file: ${recorded.why}).`);
    return 0;
  }
  if (recorded.kind === 'none') {
    const other = runningPerch(dataDir);
    if (other) {
      out.stderr(
        `perch: Perch at ${other.url} (pid ${other.pid}) was not started by perch daemon: stop it where it was started (with npx perch service uninstall, or Ctrl-C in its terminal).`,
      );
      return 1;
    }
    out.stdout("Perch's daemon is not running.");
    return 0;
  }
  const { pid } = recorded;
  out.stdout(`Stopping Perch (pid ${pid}); answers in flight may finish first…`);
  signal(pid, 'SIGTERM');
  const alive = (): true | undefined => (isProcessAlive(pid) ? undefined : true);
  let stopped = (await pollUntil(alive, context.stopTimeoutMs)) === true;
  if (!stopped) {
    out.stderr(
      `perch: Perch (pid ${pid}) did not stop within ${Math.round(context.stopTimeoutMs / 1000)} s; killing it (answers in flight are cut off).`,
    );
    signal(pid, 'SIGKILL');
    stopped = (await pollUntil(alive, 5_000)) === true;
  }
  if (!stopped) {
    out.stderr(`perch: process ${pid} is still there after SIGKILL.`);
    return 1;
  }
  removePidFile(dataDir);
  // A graceful stop removed it already; after SIGKILL it would point at nothing.
  removeRuntimeInfo(dataDir, pid);
  out.stdout('Perch stopped.');
  return 0;
}

/** `perch daemon status`: exit 0 when the background run is up. */
export async function daemonStatus(context: DaemonContext, dataDirFlag: string | undefined): Promise<number> {
  const { out } = context;
  const dataDir = resolveDataDir(dataDirFlag, context.env);
  const recorded = readPidFile(dataDir);
  if (recorded.kind !== 'running') {
    out.stdout(`Perch's daemon is not running${recorded.kind === 'stale' ? ` (stale pid file: ${recorded.why})` : ''}.`);
    const other = runningPerch(dataDir);
    if (other) out.stdout(`Perch is running at ${other.url} (pid ${other.pid}), started another way.`);
    return 1;
  }
  const info = readRuntimeInfo(dataDir);
  const url = info?.pid === recorded.pid ? info.url : undefined;
  const health = url ? await probeHealth(url) : undefined;
  out.stdout(`Perch's daemon is running (pid ${recorded.pid})${url ? ` at ${url}` : ''}${health ? '' : ', not answering yet'}.`);
  out.stdout(`  Log:   ${logPath(dataDir)}`);
  return 0;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

/** `perch daemon start|stop|status`. */
export function addDaemonCommand(program: Command, environment: CliEnvironment): void {
  const context = (): DaemonContext => defaultDaemonContext(environment.env, environment.out);
  const daemon = program
    .command('daemon')
    .description('run perch serve in the background without a service manager (output in logs/daemon.log)');
  daemon
    .command('start')
    .description('start it and wait until it answers (already running: says so)')
    .option('-p, --port <port>', 'port to listen on (default: setting api.port, 8080)', parsePort)
    .option('--host <address>', 'address to bind (default: setting api.host, 127.0.0.1)')
    .option(...dataDirOption)
    .action(async (options: { port?: number; host?: string; dataDir?: string }) => {
      environment.setExitCode(await daemonStart(context(), options.dataDir, options));
    });
  daemon
    .command('stop')
    .description('stop it gracefully (answers in flight finish; killed after 15 s)')
    .option(...dataDirOption)
    .action(async (options: { dataDir?: string }) => {
      environment.setExitCode(await daemonStop(context(), options.dataDir));
    });
  daemon
    .command('status')
    .description('is it running, with which pid, at which URL (exit 0 only when running)')
    .option(...dataDirOption)
    .action(async (options: { dataDir?: string }) => {
      environment.setExitCode(await daemonStatus(context(), options.dataDir));
    });
}

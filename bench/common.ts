/** What every benchmark group shares: the machine, statistics, and starting the processes under test. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const API_KEY = 'sk-ant-bench-key-0123456789';
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
export const median = (values: readonly number[]): number => percentile(values, 50);
export const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    loadAverageAtEnd: os.loadavg().map((load) => round(load, 2)),
  };
}

/** Writes one group's figures to bench/results/<name>.json, with the machine and the date. */
export function saveResult(name: string, figures: Record<string, unknown>): void {
  const directory = path.join(root, 'bench/results');
  mkdirSync(directory, { recursive: true });
  const result = { date: new Date().toISOString(), machine: machine(), ...figures };
  writeFileSync(path.join(directory, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${name}: ${JSON.stringify(figures, null, 2)}`);
}

/** Resident memory and CPU time of a process, from /proc. */
export function procStatus(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  // Linux counts CPU time in clock ticks of 1/100 s (CLK_TCK).
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A helper process (tsx) that prints its URL on its first line of output. */
async function startHelper(script: string, args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('\n')) {
    if (child.exitCode !== null) throw new Error(`${script} did not start`);
    await sleep(10);
  }
  return { url: output.trim(), child };
}

export interface Helper {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

/** The fake Anthropic upstream, in a process of its own. */
export async function startUpstream(): Promise<Helper> {
  const { url, child } = await startHelper('bench/upstream-process.ts', [API_KEY]);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}

/** The bare Node relay (the floor for any Node proxy), in a process of its own like Perch. */
export async function startBareRelayProcess(upstreamUrl: string): Promise<Helper> {
  const { url, child } = await startHelper('bench/bare-relay-process.ts', [upstreamUrl]);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}

export interface Perch {
  url: string;
  pid: number;
  token: string;
  dataDir: string;
  /** From spawning `perch serve` to the first healthy answer. */
  startMs: number;
  stop: () => Promise<void>;
}

/** What a group that starts its own Perch is told by bench/run.ts. */
export interface GroupOptions {
  /** The long versions (`--full`). */
  full: boolean;
  /** Settings for the Perch it starts. */
  settings: Record<string, string>;
  /** Another build's bin/perch.js (`--build`). */
  bin?: string | undefined;
}

export interface PerchOptions {
  upstreamUrl: string;
  /** Settings to apply with `perch config set` before the start. */
  settings?: Record<string, string>;
  dataDir?: string;
  /** Extra node flags for the service (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Another build's bin/perch.js (bench/compare.ts); this checkout's by default. */
  bin?: string;
}

/** Applies settings the way a user would, with the CLI, before the service starts. */
export function configure(dataDir: string, settings: Record<string, string>): void {
  for (const [key, value] of Object.entries(settings)) {
    execFileSync(process.execPath, [path.join(root, 'bin/perch.js'), 'config', 'set', key, value, '--data-dir', dataDir], {
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
      stdio: 'ignore',
    });
  }
}

export const newDataDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'perch-bench-'));

/**
 * `perch serve` (the built CLI, as users run it) in a fresh data folder. Its output goes to a
 * file, as under a service manager, so the bench process does not spend CPU reading it.
 */
export async function startPerch(options: PerchOptions): Promise<Perch> {
  const dataDir = options.dataDir ?? newDataDir();
  if (options.settings) configure(dataDir, options.settings);
  const port = await freePort();
  // Outside the data folder: Perch watches that folder, and each line would wake it.
  const outputFile = `${dataDir}-output.log`;
  const output = openSync(outputFile, 'a');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.bin ?? path.join(root, 'bin/perch.js'), 'serve', '--port', String(port)],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PERCH_DATA_DIR: dataDir,
        PERCH_UPSTREAM_URL: options.upstreamUrl,
        ANTHROPIC_API_KEY: API_KEY,
        NO_COLOR: '1',
      },
      stdio: ['ignore', output, output],
    },
  );
  closeSync(output);
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const health = await fetch(`${url}/api/v1/health`).catch(() => undefined);
    if (health?.ok) break;
    if (child.exitCode !== null) throw new Error(`perch serve exited: ${readFileSync(outputFile, 'utf8')}`);
    await sleep(2);
  }
  const startMs = performance.now() - started;
  return {
    url,
    pid: child.pid as number,
    token: readFileSync(path.join(dataDir, 'token'), 'utf8').trim(),
    dataDir,
    startMs,
    stop: async () => {
      await stopProcess(child);
      // A data folder made here goes with the service (one given by the caller stays).
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      rmSync(outputFile, { force: true });
    },
  };
}

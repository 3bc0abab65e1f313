import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../main/cli/processes.js';
import { cliEnv, requireBuild, runPerch, type CliResult } from './run-perch.js';

beforeAll(() => requireBuild());

// Each test starts and stops a real service: give a busy two-core machine room.
const SLOW = 120_000;

/** A data folder with a space in its name, and an upstream that is never called (health needs none). */
function daemonDir(): { dataDir: string; env: NodeJS.ProcessEnv } {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'perch daemon-'));
  return { dataDir, env: cliEnv({ PERCH_UPSTREAM_URL: 'http://127.0.0.1:9' }) };
}

const pidFile = (dataDir: string): string => path.join(dataDir, 'perch.pid');
const readPid = (dataDir: string): number => Number(readFileSync(pidFile(dataDir), 'utf8').trim());

/** Whatever a test leaves running is stopped. */
const started: string[] = [];
afterEach(() => {
  for (const dataDir of started.splice(0)) {
    if (!existsSync(pidFile(dataDir))) continue;
    const pid = readPid(dataDir);
    if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

function daemon(args: string[], dataDir: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  if (args[0] === 'start') started.push(dataDir);
  return runPerch(['daemon', ...args, '--data-dir', dataDir], { env });
}

/** A pid that certainly belongs to no process any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('perch daemon', () => {
  it(
    'start runs serve in the background until it answers; status; start again; stop ends it',
    async () => {
      const { dataDir, env } = daemonDir();
      const start = await daemon(['start', '--port', '0'], dataDir, env);
      expect(start.stderr).toBe('');
      expect(start.code).toBe(0);
      const url = /running in the background at (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)\)/.exec(start.stdout);
      expect(url).not.toBeNull();
      const pid = Number(url![2]);
      expect(readPid(dataDir)).toBe(pid);
      // Owner-only, like every file in the data folder.
      expect(statSync(pidFile(dataDir)).mode & 0o777).toBe(0o600);
      expect(start.stdout).toContain(path.join(dataDir, 'logs', 'daemon.log'));

      // The start command has exited; the service keeps answering.
      const health = await fetch(`${url![1]}/api/v1/health`);
      expect(health.status).toBe(200);

      const status = await daemon(['status'], dataDir, env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`Perch's daemon is running (pid ${pid}) at ${url![1]}.`);

      const again = await daemon(['start', '--port', '0'], dataDir, env);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(`Perch is already running in the background (pid ${pid}, at ${url![1]}).\n`);
      expect(readPid(dataDir)).toBe(pid);

      const stop = await daemon(['stop'], dataDir, env);
      expect(stop.stderr).toBe('');
      expect(stop.code).toBe(0);
      expect(stop.stdout).toContain('Perch stopped.');
      expect(existsSync(pidFile(dataDir))).toBe(false);
      expect(isProcessAlive(pid)).toBe(false);
      // A graceful stop: the service removed its own service.json.
      expect(existsSync(path.join(dataDir, 'service.json'))).toBe(false);
      await expect(fetch(`${url![1]}/api/v1/health`)).rejects.toThrow();

      const after = await daemon(['status'], dataDir, env);
      expect(after.code).toBe(1);
      expect(after.stdout).toBe("Perch's daemon is not running.\n");
      const stopAgain = await daemon(['stop'], dataDir, env);
      expect(stopAgain.code).toBe(0);
      expect(stopAgain.stdout).toBe("Perch's daemon is not running.\n");
    },
    SLOW,
  );

  it(
    'replaces a stale pid file whose process is gone',
    async () => {
      const { dataDir, env } = daemonDir();
      const gone = await deadPid();
      writeFileSync(pidFile(dataDir), `${gone}\n`);
      const status = await daemon(['status'], dataDir, env);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(`stale pid file: process ${gone} is not running`);

      const start = await daemon(['start', '--port', '0'], dataDir, env);
      expect(start.code).toBe(0);
      expect(start.stdout).toContain(`Removed a stale pid file (process ${gone} is not running).`);
      expect(readPid(dataDir)).not.toBe(gone);
      expect((await daemon(['stop'], dataDir, env)).code).toBe(0);
    },
    SLOW,
  );

  it.skipIf(process.platform !== 'linux')(
    'replaces a stale pid file whose pid now belongs to another program',
    async () => {
      const { dataDir, env } = daemonDir();
      // This test process is alive, but it is not `perch serve`.
      writeFileSync(pidFile(dataDir), `${process.pid}\n`);
      const start = await daemon(['start', '--port', '0'], dataDir, env);
      expect(start.code).toBe(0);
      expect(start.stdout).toContain(`Removed a stale pid file (process ${process.pid} is now another program).`);
      const pid = readPid(dataDir);
      expect(pid).not.toBe(process.pid);
      expect((await daemon(['stop'], dataDir, env)).code).toBe(0);
      expect(isProcessAlive(pid)).toBe(false);
    },
    SLOW,
  );

  it(
    'start reports an early exit with the end of its log, exits 1 and leaves no pid file',
    async () => {
      const { dataDir, env } = daemonDir();
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const start = await daemon(['start', '--port', String(port)], dataDir, env);
        expect(start.code).toBe(1);
        expect(start.stderr).toContain('perch: Perch stopped while starting (exit code 1).');
        expect(start.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
        expect(existsSync(pidFile(dataDir))).toBe(false);
      } finally {
        blocker.close();
      }
    },
    SLOW,
  );

  it(
    'does not start a second Perch next to one started another way',
    async () => {
      const { dataDir, env } = daemonDir();
      // A service.json naming a live process: this test process stands in for `perch serve`.
      const url = 'http://127.0.0.1:8765';
      writeFileSync(
        path.join(dataDir, 'service.json'),
        JSON.stringify({ pid: process.pid, url, host: '127.0.0.1', port: 8765, version: '0', started_at: '' }),
      );
      const start = await daemon(['start', '--port', '0'], dataDir, env);
      expect(start.code).toBe(0);
      expect(start.stdout).toContain(`Perch is already running at ${url} (pid ${process.pid})`);
      expect(existsSync(pidFile(dataDir))).toBe(false);
      const stop = await daemon(['stop'], dataDir, env);
      expect(stop.code).toBe(1);
      expect(stop.stderr).toContain(
        'was not started by perch daemon: stop it where it was started (with npx perch service uninstall, or Ctrl-C in its terminal).',
      );
      expect(`${start.stdout}${stop.stderr}`).not.toContain('`');
    },
    SLOW,
  );
});

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';

/*
 * Finding and ending an agent's whole process tree. Claude Code runs each Bash command in a
 * shell of its own session, so killing the agent's process group misses it; a killed agent
 * leaves it running. The tree is read from the OS (ppid links) before anything is killed.
 */

const run = promisify(execFile);

interface ProcessEntry {
  pid: number;
  ppid: number;
}

/** Linux: /proc/<pid>/stat — the fields after the command name (which may hold spaces). */
function readStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

async function processTable(): Promise<ProcessEntry[]> {
  if (process.platform === 'linux') {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .flatMap((name) => {
        const fields = readStat(Number(name));
        return fields ? [{ pid: Number(name), ppid: Number(fields[1]) }] : [];
      });
  }
  if (process.platform === 'win32') return [];
  const { stdout } = await run('ps', ['-A', '-o', 'pid=,ppid='], { windowsHide: true });
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, ppid]) => Number.isInteger(pid) && Number.isInteger(ppid))
    .map(([pid, ppid]) => ({ pid: pid as number, ppid: ppid as number }));
}

/** Every process below `pid`, children before grandchildren. */
export async function descendantsOf(pid: number): Promise<number[]> {
  const table = await processTable();
  const children = new Map<number, number[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry.pid]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      if (found.includes(child)) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Whether a process still runs (a zombie, ended but not yet reaped by its parent, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return process.platform !== 'linux' || readStat(pid)?.[0] !== 'Z';
}

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
};

/**
 * What tells this process apart from a later one that reuses its pid: its start time (Linux:
 * clock ticks since boot; macOS: `ps -o lstart`; Windows: PowerShell's StartTime) and name.
 * Undefined when the OS will not say.
 */
export async function processIdentity(pid: number): Promise<string | undefined> {
  if (process.platform === 'linux') {
    const fields = readStat(pid);
    if (!fields) return undefined;
    let name = '';
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // Gone meanwhile.
    }
    return `${fields[19]}:${name}`;
  }
  try {
    const { stdout } =
      process.platform === 'win32'
        ? await run(
            'powershell.exe',
            [
              '-NoProfile',
              '-NonInteractive',
              '-Command',
              `$p = Get-Process -Id ${pid}; "$($p.StartTime.ToFileTimeUtc()):$($p.ProcessName)"`,
            ],
            { windowsHide: true },
          )
        : await run('ps', ['-o', 'lstart=,comm=', '-p', String(pid)], { windowsHide: true });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every one of `pids` is gone, up to `ms`; true when they are. */
async function waitForExit(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!pids.some(isAlive)) return true;
    await sleep(50);
  }
  return !pids.some(isAlive);
}

/**
 * Ends a process and everything below it: SIGTERM (Claude Code then ends its shells), and after
 * `graceMs` SIGKILL to whatever of the tree — read before the first signal — is still there.
 * Windows ends the tree with taskkill.
 */
export async function endProcessTree(pid: number, graceMs = 3000): Promise<void> {
  if (!isAlive(pid)) return;
  if (process.platform === 'win32') {
    await run('taskkill', ['/PID', String(pid), '/T', '/F'], { windowsHide: true }).catch(() => undefined);
    return;
  }
  const tree = await descendantsOf(pid);
  signal(pid, 'SIGTERM');
  if (await waitForExit([pid], graceMs)) {
    // The agent ended its own shells; anything left of the tree is killed.
    for (const child of tree) if (isAlive(child)) signal(child, 'SIGKILL');
  } else {
    for (const each of [pid, ...tree]) signal(each, 'SIGKILL');
  }
  // A killed process lingers until the OS has scheduled its end: return once all of it is gone.
  await waitForExit([pid, ...tree], 1000);
}

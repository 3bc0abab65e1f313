import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { writeOwnerOnlyFile } from './files/owner-only-file.js';
import { dataFiles } from './paths.js';

/** What a running service writes about itself in the data folder. */
export interface RuntimeInfo {
  pid: number;
  url: string;
  host: string;
  port: number;
  version: string;
  started_at: string;
}

const runtimePath = (dataDir: string): string => path.join(dataDir, dataFiles.runtime);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  writeOwnerOnlyFile(runtimePath(dataDir), `${JSON.stringify(info, null, 2)}\n`);
}

/** The running service's details, or undefined when none is recorded or its process is gone. */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(runtimePath(dataDir), 'utf8')) as RuntimeInfo;
    return typeof info.url === 'string' && typeof info.pid === 'number' && isAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if it still describes this process (another instance may have replaced it). */
export function removeRuntimeInfo(dataDir: string, pid: number = process.pid): void {
  try {
    const info = JSON.parse(readFileSync(runtimePath(dataDir), 'utf8')) as RuntimeInfo;
    if (info.pid === pid) unlinkSync(runtimePath(dataDir));
  } catch {
    // Already gone.
  }
}

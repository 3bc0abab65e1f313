import { execFile } from 'node:child_process';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FileBefore, TaskStore } from './task-store.js';
import { isWithin } from './workspaces.js';

const run = promisify(execFile);

/** Files larger than this are noted as changed, without their content or a diff. */
export const MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024;
/** Most files a git status may name for capture after a command (a huge rewrite is noted, not copied). */
const MAX_STATUS_FILES = 500;

/** A change as the API lists it: the file, what happened to it, and a unified diff. */
export interface FileChange {
  path: string;
  kind: 'added' | 'modified' | 'deleted';
  diff: string;
  /** Why there is no line diff (binary, too large), when there is none. */
  note?: string;
}

async function readCurrent(file: string): Promise<{ exists: boolean; content: Buffer | null; tooLarge: boolean }> {
  try {
    const stats = await lstat(file);
    if (!stats.isFile()) return { exists: true, content: null, tooLarge: false };
    if (stats.size > MAX_SNAPSHOT_BYTES) return { exists: true, content: null, tooLarge: true };
    return { exists: true, content: await readFile(file), tooLarge: false };
  } catch {
    return { exists: false, content: null, tooLarge: false };
  }
}

const isBinary = (content: Buffer): boolean => content.subarray(0, 8000).includes(0);

/** What git prints, as bytes (a file's content from HEAD is not necessarily text). */
async function gitBytes(cwd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, windowsHide: true, encoding: 'buffer' });
  return stdout;
}

const git = async (cwd: string, args: string[]): Promise<string> => (await gitBytes(cwd, args)).toString('utf8');

/** Paths `git status` reports as changed (relative to the repository's top), renames as their new path. */
function statusPaths(porcelain: string): string[] {
  const entries = porcelain.split('\0').filter(Boolean);
  const paths: string[] = [];
  for (let index = 0; index < entries.length; index += 1) {
    const entry = entries[index] as string;
    const status = entry.slice(0, 2);
    paths.push(entry.slice(3));
    // A rename or copy is followed by its original path, which is not a change of its own here.
    if (status.includes('R') || status.includes('C')) index += 1;
  }
  return paths;
}

/**
 * Keeps, for one task, each workspace file as it was before the task first changed it
 * (TASKS-DESIGN.md §5): file tools report the file they are about to write; after a command,
 * in a git repository, `git status` names what changed, and a file clean when the task began
 * was as HEAD has it. Perch only reads the person's repository; it never writes to it.
 */
export class FileChanges {
  /** The repository's top folder, when the workspace is in one (undefined: not yet looked). */
  private repository: string | null | undefined;
  private readonly dirtyAtStart = new Set<string>();
  /** The look at the repository when the task began; every capture waits for it. */
  private beginning: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: TaskStore,
    private readonly taskId: string,
    private readonly workspace: string,
  ) {}

  private relative(file: string): string | undefined {
    const absolute = path.resolve(this.workspace, file);
    return isWithin(this.workspace, absolute) ? path.relative(this.workspace, absolute).split(path.sep).join('/') : undefined;
  }

  /** Before a file tool writes `file`: keep what is there now, the first time only. */
  async beforeChange(file: string): Promise<void> {
    await this.beginning;
    let target: string;
    try {
      // The real file behind a link inside the workspace; a link out of it is not the task's change.
      target = await realpath(file);
    } catch {
      target = path.resolve(this.workspace, file);
    }
    await this.keepAsItIs(target);
  }

  /** Keeps a workspace file as it is on disk now, unless the task already has it. */
  private async keepAsItIs(file: string): Promise<void> {
    const relative = this.relative(file);
    if (relative === undefined || this.store.hasFile(this.taskId, relative)) return;
    const current = await readCurrent(file);
    this.capture({ path: relative, existed: current.exists, content: current.content, too_large: current.tooLarge });
  }

  private capture(file: FileBefore): void {
    this.store.captureFile(this.taskId, file);
  }

  /**
   * At the start of the task's first turn: in a git repository, keep the files already changed.
   * It runs beside the agent's own start (which takes far longer); captures wait for it.
   */
  begin(): void {
    this.beginning = this.keepChangedAtStart().catch(() => undefined);
  }

  private async keepChangedAtStart(): Promise<void> {
    const top = await this.repositoryTop();
    if (!top) return;
    for (const file of await this.changedInRepository(top)) {
      this.dirtyAtStart.add(file);
      await this.keepAsItIs(path.join(top, file));
    }
  }

  /** After a command: what git says changed, as it was in HEAD (it was clean when the task began). */
  async afterCommand(): Promise<void> {
    await this.beginning;
    const top = await this.repositoryTop();
    if (!top) return;
    for (const file of await this.changedInRepository(top)) {
      if (this.dirtyAtStart.has(file)) continue;
      const relative = this.relative(path.join(top, file));
      if (relative === undefined || this.store.hasFile(this.taskId, relative)) continue;
      let before: FileBefore = { path: relative, existed: false, content: null, too_large: false };
      try {
        const size = Number((await git(top, ['cat-file', '-s', `HEAD:${file}`])).trim());
        before =
          size > MAX_SNAPSHOT_BYTES
            ? { path: relative, existed: true, content: null, too_large: true }
            : { path: relative, existed: true, content: await gitBytes(top, ['show', `HEAD:${file}`]), too_large: false };
      } catch {
        // Not in HEAD: the command created it.
      }
      this.capture(before);
    }
  }

  private async repositoryTop(): Promise<string | null> {
    if (this.repository !== undefined) return this.repository;
    try {
      this.repository = await realpath((await git(this.workspace, ['rev-parse', '--show-toplevel'])).trim());
    } catch {
      // Not a git repository, or no git on this machine: file tools' changes are still kept.
      this.repository = null;
    }
    return this.repository;
  }

  private async changedInRepository(top: string): Promise<string[]> {
    try {
      const porcelain = await git(top, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', this.workspace]);
      return statusPaths(porcelain).slice(0, MAX_STATUS_FILES);
    } catch {
      return [];
    }
  }
}

/** What the task changed, file by file, against each file as it was before: what is on disk now. */
export async function changesOf(
  files: FileBefore[],
  workspace: string,
  diff: (name: string, before: string, after: string) => string,
): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  for (const before of files) {
    const current = await readCurrent(path.join(workspace, before.path));
    if (!before.existed && !current.exists) continue;
    const kind: FileChange['kind'] = !before.existed ? 'added' : !current.exists ? 'deleted' : 'modified';
    if (kind === 'modified' && before.content && current.content && before.content.equals(current.content)) continue;
    if (before.too_large || current.tooLarge) {
      changes.push({
        path: before.path,
        kind,
        diff: '',
        note: `larger than ${MAX_SNAPSHOT_BYTES / (1024 * 1024)} MB: no line diff`,
      });
      continue;
    }
    const old = before.content ?? Buffer.alloc(0);
    const now = current.content ?? Buffer.alloc(0);
    if (isBinary(old) || isBinary(now)) {
      changes.push({ path: before.path, kind, diff: '', note: 'binary file: no line diff' });
      continue;
    }
    changes.push({ path: before.path, kind, diff: diff(before.path, old.toString('utf8'), now.toString('utf8')) });
  }
  return changes;
}

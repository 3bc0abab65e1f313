import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { PerchError, notFound } from '../errors.js';
import type { Db } from '../storage/database.js';
import { newId } from '../storage/ids.js';

/** A folder tasks may work in. `path` is its real path (symlinks resolved). */
export interface Workspace {
  id: string;
  name: string;
  path: string;
  created_at: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const notAWorkspace = (given: string): PerchError =>
  new PerchError(
    'not_a_workspace',
    400,
    `'${given}' is not a registered workspace. Add the folder once with npx perch workspace add <folder> on this machine (or in the desktop app), then start the task there.`,
  );

/** Whether `inner` is `outer` or lies inside it (both real paths). */
export function isWithin(outer: string, inner: string): boolean {
  const relative = path.relative(outer, inner);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** A name made from a folder's name: letters, digits, dots, dashes and underscores. */
function nameFromFolder(folder: string): string {
  const cleaned = path
    .basename(folder)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return (cleaned || 'workspace').slice(0, 64);
}

/**
 * The registered workspaces. Adding and removing them is a security setting (ARCHITECTURE.md):
 * the API lists them read-only; the CLI and the desktop app change them.
 */
export class WorkspaceStore {
  private readonly statements;

  constructor(
    db: Db,
    /** Perch's own data folder: no workspace may contain it or lie inside it. */
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.statements = {
      all: db.prepare<[], Workspace>('SELECT id, name, path, created_at FROM workspaces ORDER BY name'),
      byId: db.prepare<[string], Workspace>('SELECT id, name, path, created_at FROM workspaces WHERE id = ?'),
      byName: db.prepare<[string], Workspace>('SELECT id, name, path, created_at FROM workspaces WHERE name = ?'),
      byPath: db.prepare<[string], Workspace>('SELECT id, name, path, created_at FROM workspaces WHERE path = ?'),
      insert: db.prepare('INSERT INTO workspaces (id, name, path, created_at) VALUES (@id, @name, @path, @created_at)'),
      remove: db.prepare<[string]>('DELETE FROM workspaces WHERE id = ?'),
    };
  }

  list(): Workspace[] {
    return this.statements.all.all();
  }

  /** Registers a folder: it must exist, be a directory, and not hold (or lie inside) Perch's data. */
  add(folder: string, name?: string): Workspace {
    let real: string;
    try {
      real = realpathSync(folder);
    } catch {
      throw new PerchError('invalid_workspace', 400, `There is no folder at ${folder}.`);
    }
    if (!statSync(real).isDirectory()) throw new PerchError('invalid_workspace', 400, `${folder} is a file, not a folder.`);
    if (path.parse(real).root === real) {
      throw new PerchError('invalid_workspace', 400, `${real} is the root of the file system: add a project folder instead.`);
    }
    const data = realpathSync(this.dataDir);
    if (isWithin(real, data) || isWithin(data, real)) {
      throw new PerchError(
        'invalid_workspace',
        400,
        `${real} holds Perch's own data folder (${data}): a task there could change Perch's settings and read its token. Add a project folder instead.`,
      );
    }
    const existing = this.statements.byPath.get(real);
    if (existing) throw new PerchError('workspace_exists', 409, `${real} is already the workspace '${existing.name}'.`);
    const chosen = name ?? nameFromFolder(real);
    if (!NAME.test(chosen)) {
      throw new PerchError(
        'invalid_workspace',
        400,
        `'${chosen}' cannot name a workspace: use letters, digits, '.', '-' and '_' (at most 64), starting with a letter or digit.`,
      );
    }
    if (this.statements.byName.get(chosen)) {
      throw new PerchError(
        'workspace_exists',
        409,
        `There is already a workspace named '${chosen}': choose another with --name.`,
      );
    }
    const workspace: Workspace = { id: newId('ws', this.now()), name: chosen, path: real, created_at: this.now() };
    this.statements.insert.run(workspace);
    return workspace;
  }

  remove(reference: string): Workspace {
    const workspace = this.statements.byId.get(reference) ?? this.statements.byName.get(reference);
    if (!workspace) throw notFound(`No workspace named '${reference}': npx perch workspace list shows the ones there are.`);
    this.statements.remove.run(workspace.id);
    return workspace;
  }

  get(id: string): Workspace | undefined {
    return this.statements.byId.get(id);
  }

  /**
   * The workspace a client means: by id, by name, or by a path — the folder itself or one
   * inside it (symlinks resolved, so `..` and links cannot lead elsewhere).
   */
  resolve(reference: string): Workspace {
    const named = this.statements.byId.get(reference) ?? this.statements.byName.get(reference);
    if (named) return named;
    if (!path.isAbsolute(reference)) throw notAWorkspace(reference);
    let real: string;
    try {
      real = realpathSync(reference);
    } catch {
      throw notAWorkspace(reference);
    }
    const containing = this.list()
      .filter((workspace) => isWithin(workspace.path, real))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (!containing) throw notAWorkspace(reference);
    return containing;
  }
}

export const workspaceJson = (workspace: Workspace): Record<string, unknown> => ({
  id: workspace.id,
  name: workspace.name,
  path: workspace.path,
  created_at: new Date(workspace.created_at).toISOString(),
});

import path from 'node:path';
import type { Command } from 'commander';
import { dataFiles, ensureDataDir, resolveDataDir } from '../core/paths.js';
import type { WorkspaceStore } from '../core/tasks/workspaces.js';
import type { CliEnvironment } from './program.js';

/**
 * `perch workspace add|list|remove`: the folders tasks may work in. The CLI changes them
 * directly in Perch's database (it has the person's file access, like `perch config set`);
 * the running service sees the change at once.
 */
async function withWorkspaces<T>(
  dataDirFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  use: (store: WorkspaceStore) => T,
): Promise<T> {
  const dataDir = ensureDataDir(resolveDataDir(dataDirFlag, env));
  // SQLite loads only for these commands: the others start quicker without it.
  const [{ openDatabase }, { WorkspaceStore }] = await Promise.all([
    import('../core/storage/database.js'),
    import('../core/tasks/workspaces.js'),
  ]);
  const db = openDatabase(path.join(dataDir, dataFiles.database));
  try {
    return use(new WorkspaceStore(db, dataDir));
  } finally {
    db.close();
  }
}

export function addWorkspaceCommand(
  program: Command,
  environment: CliEnvironment,
  dataDirOption: readonly [string, string],
): void {
  const { env, out } = environment;
  const workspace = program.command('workspace').description('the folders tasks may work in (add, list, remove)');
  workspace
    .command('add')
    .description('let tasks work in a folder (the current one by default)')
    .argument('[folder]', 'the folder', '.')
    .option('--name <name>', 'a short name for it (default: the folder name)')
    .option(...dataDirOption)
    .action(async (folder: string, options: { name?: string; dataDir?: string }) => {
      const added = await withWorkspaces(options.dataDir, env, (store) => store.add(path.resolve(folder), options.name));
      out.stdout(`Added workspace '${added.name}': ${added.path}`);
      out.stdout(`Start a task there with: npx perch task "…" (from that folder), or --workspace ${added.name}`);
    });
  workspace
    .command('list')
    .description('the registered workspaces')
    .option('--json', 'print them as JSON')
    .option(...dataDirOption)
    .action(async (options: { json?: boolean; dataDir?: string }) => {
      const { workspaceJson } = await import('../core/tasks/workspaces.js');
      const list = await withWorkspaces(options.dataDir, env, (store) => store.list());
      if (options.json) {
        out.stdout(JSON.stringify({ workspaces: list.map(workspaceJson) }, null, 2));
        return;
      }
      if (list.length === 0) {
        out.stdout('No workspaces yet. Add a project folder with: npx perch workspace add <folder>');
        return;
      }
      const width = Math.max(...list.map((entry) => entry.name.length));
      for (const entry of list) out.stdout(`${entry.name.padEnd(width)}  ${entry.path}`);
    });
  workspace
    .command('remove')
    .description('stop letting tasks work in a workspace (its past tasks stay readable)')
    .argument('<name>', 'the workspace name (or id)')
    .option(...dataDirOption)
    .action(async (name: string, options: { dataDir?: string }) => {
      const removed = await withWorkspaces(options.dataDir, env, (store) => store.remove(name));
      out.stdout(`Removed workspace '${removed.name}' (${removed.path}). Its files were not touched.`);
    });
}

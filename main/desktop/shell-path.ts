import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const MARK = '__PERCH_PATH__';

export type RunShell = (shell: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string>;

const runShell: RunShell = async (shell, args, env) =>
  (await promisify(execFile)(shell, args, { env, timeout: 5000, encoding: 'utf8', windowsHide: true })).stdout;

/**
 * The PATH the person's login shell sets up. An app opened from the Finder or the Dock gets
 * only /usr/bin:/bin:/usr/sbin:/sbin, so a task's agent would find no node, npm or git from
 * Homebrew; its commands should see what the person's terminal sees. Undefined when the shell
 * cannot tell (then the app's own PATH stays).
 */
export async function loginShellPath(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  run: RunShell = runShell,
): Promise<string | undefined> {
  if (platform !== 'darwin') return undefined;
  const shell = env.SHELL || '/bin/zsh';
  try {
    const output = await run(shell, ['-ilc', `printf '${MARK}%s${MARK}' "$PATH"`], env);
    const found = output.split(MARK)[1];
    return found?.includes('/') ? found : undefined;
  } catch {
    return undefined;
  }
}

import { describe, expect, it } from 'vitest';
import { loginShellPath } from '../../main/desktop/shell-path.js';

describe('the PATH a task’s agent gets in the desktop app', () => {
  it("on macOS is the login shell's (the Finder gives apps almost none)", async () => {
    const asked: string[][] = [];
    const found = await loginShellPath({ SHELL: '/bin/zsh' }, 'darwin', (shell, args) => {
      asked.push([shell, ...args]);
      return Promise.resolve('Welcome back!\n__PERCH_PATH__/opt/homebrew/bin:/usr/bin:/bin__PERCH_PATH__');
    });
    expect(found).toBe('/opt/homebrew/bin:/usr/bin:/bin');
    expect(asked[0]?.slice(0, 2)).toEqual(['/bin/zsh', '-ilc']);
  });

  it('stays as it is when the shell fails, says nothing useful, or on other systems', async () => {
    expect(await loginShellPath({}, 'darwin', () => Promise.reject(new Error('timed out')))).toBeUndefined();
    expect(await loginShellPath({}, 'darwin', () => Promise.resolve('no markers here'))).toBeUndefined();
    expect(await loginShellPath({}, 'linux', () => Promise.resolve('__PERCH_PATH__/x__PERCH_PATH__'))).toBeUndefined();
  });
});

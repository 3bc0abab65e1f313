import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../main/core/tasks/process-tree.js';
import { cliEnv, requireBuild, runPerch, startServe, stopServe, type ServeProcess } from '../cli/run-perch.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { temporaryDataDir, TEST_API_KEY } from '../helpers/perch.js';
import { finalAnswer, projectFolder, toolCall, type TaskJson } from '../helpers/tasks.js';

/*
 * The tasks engine as a person meets it: `perch workspace add`, `perch task` in a terminal, and a
 * `perch serve` that is killed or stopped while a task waits for an answer.
 */

let upstream: FakeAnthropic;
beforeAll(async () => {
  requireBuild();
  upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
});
afterAll(async () => {
  await upstream.stop();
});

function serveEnv(dataDir: string): NodeJS.ProcessEnv {
  return cliEnv({ PERCH_DATA_DIR: dataDir, PERCH_UPSTREAM_URL: upstream.url, ANTHROPIC_API_KEY: TEST_API_KEY });
}

async function api(serve: ServeProcess, dataDir: string, route: string, init: RequestInit & { json?: unknown } = {}) {
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const { json, ...rest } = init;
  return fetch(`${serve.url}${route}`, {
    ...rest,
    headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(json === undefined ? {} : { method: 'POST', body: JSON.stringify(json) }),
  });
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

/** What the database says of a task's agent process (read beside the service, as the CLI does). */
function recordedPid(dataDir: string, taskId: string): number | null {
  const db = new Database(path.join(dataDir, 'perch.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT pid FROM tasks WHERE id = ?').get(taskId) as { pid: number | null }).pid;
  } finally {
    db.close();
  }
}

describe('perch workspace', () => {
  it('adds the current folder, lists it, refuses Perch’s own data folder, and removes it', async () => {
    const dataDir = temporaryDataDir();
    const env = cliEnv({ PERCH_DATA_DIR: dataDir });
    const folder = projectFolder();
    const added = await runPerch(['workspace', 'add', folder, '--name', 'site'], { env });
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`Added workspace 'site': ${folder}`);
    const again = await runPerch(['workspace', 'add', folder], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is already the workspace 'site'");
    const own = await runPerch(['workspace', 'add', path.dirname(dataDir)], { env });
    expect(own.code).toBe(1);
    expect(own.stderr).toContain("holds Perch's own data folder");
    const missing = await runPerch(['workspace', 'add', path.join(folder, 'nope')], { env });
    expect(missing.stderr).toContain('There is no folder at');
    const list = await runPerch(['workspace', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout)).toMatchObject({ workspaces: [{ name: 'site', path: folder }] });
    const removed = await runPerch(['workspace', 'remove', 'site'], { env });
    expect(removed.stdout).toContain("Removed workspace 'site'");
    expect((await runPerch(['workspace', 'list'], { env })).stdout).toContain('No workspaces yet');
  });
});

describe('perch task', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let folder: string;
  beforeAll(async () => {
    dataDir = temporaryDataDir();
    serve = await startServe(['--port', '0'], serveEnv(dataDir));
    folder = projectFolder();
    expect((await runPerch(['workspace', 'add', folder], { env: serveEnv(dataDir) })).code).toBe(0);
  });
  afterAll(async () => {
    await stopServe(serve);
  });

  it('shows the work as it happens, asks at the terminal, and ends with the answer, the files changed and the cost', async () => {
    upstream.clearQueue();
    upstream.enqueue(
      toolCall('toolu_c1', 'Write', { file_path: path.join(folder, 'todo.md'), content: '- ship it\n' }, 'Writing the list.'),
      toolCall('toolu_c2', 'Bash', { command: 'rm -rf build', description: 'clean' }),
      finalAnswer('The list is written; I left the build folder alone.'),
    );
    const result = await runPerch(['task', '--workspace', folder, 'Write', 'a', 'todo', 'list'], {
      env: serveEnv(dataDir),
      stdin: 'y\nn\nkeep the build\n',
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Task task_\S+ in perch-project-\S+ \(.+\), default mode$/);
    expect(result.stdout).toContain(
      'Writing the list.\n✎ Write todo.md\n  + - ship it\n? Allow writing todo.md? [y/N] y\n  ✓ allowed',
    );
    expect(result.stdout).toContain(
      '$ rm -rf build\n? Allow running `rm -rf build`? [y/N] n\n  Why not? (told to Claude; Enter to skip) keep the build\n  ✗ denied — keep the build',
    );
    expect(result.stdout).toContain('The list is written; I left the build folder alone.');
    expect(result.stdout).toContain('Files changed:\n  A todo.md (+1 −0)');
    expect(result.stdout).toMatch(/✓ done · \$\d+\.\d+ · [\d,]+ tokens · \d+ turns · \d+\.\d s/);
    expect(readFileSync(path.join(folder, 'todo.md'), 'utf8')).toBe('- ship it\n');
  });

  it('exits 1 with the reason when the task fails, and prints JSON with --json', async () => {
    upstream.clearQueue();
    const failure = { kind: 'http-error', status: 500, type: 'api_error', message: 'the upstream exploded' } as const;
    upstream.enqueue(failure, failure, failure, failure);
    const failed = await runPerch(['task', '--workspace', folder, 'too much'], { env: serveEnv(dataDir) });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✗ failed');
    expect(failed.stderr).toContain('the upstream exploded');

    upstream.clearQueue();
    upstream.enqueue(finalAnswer('Nothing to change.'));
    const json = await runPerch(['task', '--json', '--workspace', folder, 'look around'], { env: serveEnv(dataDir) });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'done', result: 'Nothing to change.', changes: [] });
  });

  it('refuses a folder that is not a workspace, naming the command that adds it', async () => {
    const stranger = projectFolder('perch-stranger-');
    const result = await runPerch(['task', '--workspace', stranger, 'do it'], { env: serveEnv(dataDir) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('npx perch workspace add');
  });

  it('continues a finished task and lists tasks', async () => {
    upstream.clearQueue();
    upstream.enqueue(finalAnswer('First.'));
    const first = await runPerch(['task', '--json', '--workspace', folder, 'one'], { env: serveEnv(dataDir) });
    const { id } = JSON.parse(first.stdout) as { id: string };
    upstream.enqueue(finalAnswer('Second, same session.'));
    const next = await runPerch(['task', '--continue', id, 'two'], { env: serveEnv(dataDir) });
    expect(next.code).toBe(0);
    expect(next.stdout).toContain('Second, same session.');
    const list = await runPerch(['task', '--list'], { env: serveEnv(dataDir) });
    expect(list.stdout).toContain(id);
  });
});

describe('a Perch that dies or stops while a task waits', () => {
  it('after SIGKILL: the next start ends the agent left behind and marks the task failed, continuable', async () => {
    const dataDir = temporaryDataDir();
    const folder = projectFolder();
    await runPerch(['workspace', 'add', folder, '--name', 'crash'], { env: serveEnv(dataDir) });
    const serve = await startServe(['--port', '0'], serveEnv(dataDir));
    upstream.clearQueue();
    upstream.enqueue(toolCall('toolu_k1', 'Write', { file_path: path.join(folder, 'x'), content: 'x' }));
    const task = (await (
      await api(serve, dataDir, '/api/v1/tasks', { json: { prompt: 'wait', workspace: 'crash' } })
    ).json()) as TaskJson;
    await waitFor(
      async () => (await (await api(serve, dataDir, `/api/v1/tasks/${task.id}`)).json()) as TaskJson,
      (current) => current.status === 'needs_approval',
    );
    const pid = recordedPid(dataDir, task.id) as number;
    expect(isAlive(pid)).toBe(true);

    serve.child.kill('SIGKILL');
    await serve.exited;
    // The agent was started in a process group of its own: it outlives a killed Perch…
    expect(isAlive(pid)).toBe(true);

    const restarted = await startServe(['--port', '0'], serveEnv(dataDir));
    try {
      // …until the next start ends it.
      const after = (await (await api(restarted, dataDir, `/api/v1/tasks/${task.id}`)).json()) as TaskJson;
      expect(after.status).toBe('failed');
      expect(after.error).toMatchObject({ type: 'interrupted', message: expect.stringContaining('Send a follow-up') });
      expect(after.permission_requests[0]?.status).toBe('cancelled');
      await waitFor(
        () => Promise.resolve(isAlive(pid)),
        (alive) => !alive,
        5000,
      );
      expect(existsSync(path.join(dataDir, 'tasks', 'tmp')) ? readdirSync(path.join(dataDir, 'tasks', 'tmp')) : []).toEqual([]);
      upstream.enqueue(finalAnswer('Picked up where it left off.'));
      const followed = await api(restarted, dataDir, `/api/v1/tasks/${task.id}/messages`, { json: { prompt: 'go on' } });
      expect(followed.status).toBe(202);
      const done = await waitFor(
        async () => (await (await api(restarted, dataDir, `/api/v1/tasks/${task.id}`)).json()) as TaskJson,
        (current) => current.status === 'done' || current.status === 'failed',
      );
      expect(done).toMatchObject({ status: 'done', result: 'Picked up where it left off.' });
    } finally {
      await stopServe(restarted);
    }
  });

  it('on SIGTERM: stops the agent, records the task stopped, and exits', async () => {
    const dataDir = temporaryDataDir();
    const folder = projectFolder();
    await runPerch(['workspace', 'add', folder, '--name', 'term'], { env: serveEnv(dataDir) });
    const serve = await startServe(['--port', '0'], serveEnv(dataDir));
    upstream.clearQueue();
    upstream.enqueue(toolCall('toolu_t1', 'Write', { file_path: path.join(folder, 'x'), content: 'x' }));
    const task = (await (
      await api(serve, dataDir, '/api/v1/tasks', { json: { prompt: 'wait', workspace: 'term' } })
    ).json()) as TaskJson;
    await waitFor(
      async () => (await (await api(serve, dataDir, `/api/v1/tasks/${task.id}`)).json()) as TaskJson,
      (current) => current.status === 'needs_approval',
    );
    const pid = recordedPid(dataDir, task.id) as number;
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(isAlive(pid)).toBe(false);
    const db = new Database(path.join(dataDir, 'perch.db'), { readonly: true });
    const row = db.prepare('SELECT status, error_type FROM tasks WHERE id = ?').get(task.id);
    db.close();
    expect(row).toEqual({ status: 'stopped', error_type: 'shutdown' });
  });
});

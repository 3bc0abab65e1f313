import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAlive } from '../../main/core/tasks/process-tree.js';
import { parseSse, startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';
import {
  decide,
  finalAnswer,
  getTask,
  gitProject,
  nextRequest,
  projectFolder,
  settled,
  startTask,
  toolCall,
  waitForTask,
  type TaskJson,
} from '../helpers/tasks.js';

/*
 * The tasks engine end to end: the real `claude` binary of @anthropic-ai/claude-agent-sdk runs
 * in a workspace and reaches Claude through Perch's relay, where a fake Anthropic API scripts
 * its tool calls (Write, Read then Edit, Bash) and its final answers.
 */

const DESKTOP_SECRET = 'desktop-secret-of-the-tasks-tests';

let perch: TestPerch;
let folder: string;

beforeAll(async () => {
  perch = await startTestPerch({ desktopSecret: DESKTOP_SECRET });
});
afterAll(async () => {
  await perch.stop();
});
beforeEach(() => {
  perch.upstream.clearQueue();
  folder = projectFolder();
  perch.service.core.workspaces.add(folder, `ws-${path.basename(folder)}`);
});

/** The agent's pid while it runs (Perch records it for crash recovery). */
const agentPid = (taskId: string): number | null =>
  (perch.service.core.db.prepare('SELECT pid FROM tasks WHERE id = ?').get(taskId) as { pid: number | null }).pid;

describe('starting a task and approving what it asks', () => {
  it('asks before writing, writes once allowed, and lists the new file with its diff', async () => {
    perch.upstream.enqueue(
      toolCall(
        'toolu_w1',
        'Write',
        { file_path: path.join(folder, 'notes.md'), content: '# Notes\n\nfirst line\n' },
        'I will write the notes.',
      ),
      finalAnswer('Wrote notes.md.'),
    );
    const task = await startTask(perch, { prompt: 'Write notes.md', workspace: folder });
    expect(task).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), workspace: { path: folder } });

    const request = await nextRequest(perch, task.id);
    expect(request).toMatchObject({ tool: 'Write', input: { file_path: path.join(folder, 'notes.md') } });
    expect((await getTask(perch, task.id)).status).toBe('needs_approval');
    expect(existsSync(path.join(folder, 'notes.md'))).toBe(false);

    expect((await decide(perch, task.id, request.id, { decision: 'allow' })).status).toBe(200);
    const done = await waitForTask(perch, task.id, settled);
    expect(done).toMatchObject({ status: 'done', result: 'Wrote notes.md.', error: null });
    expect(done.agent_session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(readFileSync(path.join(folder, 'notes.md'), 'utf8')).toBe('# Notes\n\nfirst line\n');

    const changes = (await (await perch.request(`/api/v1/tasks/${task.id}/changes`)).json()) as {
      changes: Array<{ path: string; kind: string; diff: string }>;
    };
    expect(changes.changes).toEqual([
      {
        path: 'notes.md',
        kind: 'added',
        diff: expect.stringContaining('--- a/notes.md\n+++ b/notes.md\n@@ -0,0 +1,3 @@\n+# Notes\n+\n+first line'),
      },
    ]);
  });

  it('keeps the whole transcript in order: prompt, text, the call, the request and its answer, the result', async () => {
    perch.upstream.enqueue(
      toolCall('toolu_w2', 'Write', { file_path: path.join(folder, 'a.txt'), content: 'a\n' }, 'Writing a.txt.'),
      finalAnswer('All done.'),
    );
    const task = await startTask(perch, { prompt: 'Make a.txt', workspace: folder });
    await decide(perch, task.id, (await nextRequest(perch, task.id)).id, { decision: 'allow' });
    const done = await waitForTask(perch, task.id, settled);
    const types = (done.transcript ?? []).map((event) => event.type);
    expect(types).toEqual([
      'prompt',
      'status',
      'status',
      'text',
      'tool_use',
      'permission_request',
      'status',
      'permission_decision',
      'status',
      'tool_result',
      'text',
      'turn_end',
      'status',
    ]);
    expect((done.transcript ?? []).map((event) => event.seq)).toEqual(types.map((_, index) => index + 1));
    expect(done.transcript?.[5]?.data).toMatchObject({ tool: 'Write', tool_use_id: 'toolu_w2' });
  });

  it('tells the agent why a command was denied, and the task goes on to its answer', async () => {
    perch.upstream.enqueue(
      toolCall('toolu_b1', 'Bash', { command: 'touch denied-marker', description: 'make a marker' }),
      finalAnswer('I will not run it, then.'),
    );
    const task = await startTask(perch, { prompt: 'Make a marker file', workspace: folder });
    const request = await nextRequest(perch, task.id);
    expect(request).toMatchObject({ tool: 'Bash', input: { command: 'touch denied-marker' } });
    const denied = await decide(perch, task.id, request.id, { decision: 'deny', message: 'Not on this machine.' });
    expect(await denied.json()).toMatchObject({ status: 'denied', message: 'Not on this machine.' });
    const done = await waitForTask(perch, task.id, settled);
    expect(done).toMatchObject({ status: 'done', result: 'I will not run it, then.' });
    expect(existsSync(path.join(folder, 'denied-marker'))).toBe(false);
    // The agent was told the reason, as the tool's result.
    const lastRequest = perch.upstream.messageRequests.at(-1)?.rawBody ?? '';
    expect(lastRequest).toContain('Not on this machine.');
  });

  it('reads, then edits after approval; the diff shows the changed lines against the file as it was', async () => {
    const file = path.join(folder, 'app.js');
    writeFileSync(file, 'const answer = 41;\nconsole.log(answer);\n');
    perch.upstream.enqueue(
      toolCall('toolu_r1', 'Read', { file_path: file }),
      toolCall('toolu_e1', 'Edit', { file_path: file, old_string: 'const answer = 41;', new_string: 'const answer = 42;' }),
      finalAnswer('Fixed the off-by-one.'),
    );
    const task = await startTask(perch, { prompt: 'Fix the answer', workspace: folder });
    const request = await nextRequest(perch, task.id);
    expect(request.tool).toBe('Edit');
    await decide(perch, task.id, request.id, { decision: 'allow' });
    await waitForTask(perch, task.id, settled);
    expect(readFileSync(file, 'utf8')).toBe('const answer = 42;\nconsole.log(answer);\n');
    const { changes } = (await (await perch.request(`/api/v1/tasks/${task.id}/changes`)).json()) as {
      changes: Array<{ path: string; kind: string; diff: string }>;
    };
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ path: 'app.js', kind: 'modified' });
    expect(changes[0]?.diff).toContain('-const answer = 41;\n+const answer = 42;\n console.log(answer);');
  });

  it('shows what a command changed in a git repository, and leaves the repository alone', async () => {
    const repo = gitProject({ 'README.md': 'hello\n', 'src/keep.txt': 'kept\n' });
    perch.service.core.workspaces.add(repo, `repo-${path.basename(repo)}`);
    const gitDirBefore = readFileSync(path.join(repo, '.git', 'index'));
    perch.upstream.enqueue(
      toolCall('toolu_b2', 'Bash', {
        command: "printf 'hello\\nworld\\n' > README.md && printf 'new\\n' > added.txt",
        description: 'edit',
      }),
      finalAnswer('Changed README and added a file.'),
    );
    const task = await startTask(perch, { prompt: 'Update the readme', workspace: repo, permission_mode: 'default' });
    await decide(perch, task.id, (await nextRequest(perch, task.id)).id, { decision: 'allow' });
    await waitForTask(perch, task.id, settled);
    const { changes } = (await (await perch.request(`/api/v1/tasks/${task.id}/changes`)).json()) as {
      changes: Array<{ path: string; kind: string; diff: string }>;
    };
    expect(changes.map((change) => [change.path, change.kind])).toEqual([
      ['README.md', 'modified'],
      ['added.txt', 'added'],
    ]);
    expect(changes[0]?.diff).toContain(' hello\n+world\n');
    expect(readFileSync(path.join(repo, '.git', 'index'))).toEqual(gitDirBefore);
  });

  it('answers a question the agent asks (AskUserQuestion) with the chosen option', async () => {
    const questions = [
      {
        question: 'Which test runner should I use?',
        header: 'Runner',
        multiSelect: false,
        options: [
          { label: 'vitest', description: 'fast' },
          { label: 'jest', description: 'classic' },
        ],
      },
    ];
    perch.upstream.enqueue(toolCall('toolu_q1', 'AskUserQuestion', { questions }), finalAnswer('Using vitest.'));
    const task = await startTask(perch, { prompt: 'Set up tests', workspace: folder });
    const request = await nextRequest(perch, task.id);
    expect(request.tool).toBe('AskUserQuestion');
    const withoutAnswers = await decide(perch, task.id, request.id, { decision: 'allow' });
    expect(withoutAnswers.status).toBe(400);
    await decide(perch, task.id, request.id, { decision: 'allow', answers: { 'Which test runner should I use?': 'vitest' } });
    expect(await waitForTask(perch, task.id, settled)).toMatchObject({ status: 'done', result: 'Using vitest.' });
    expect(perch.upstream.messageRequests.at(-1)?.rawBody).toContain('vitest');
  });
});

describe('the workspace’s own Claude Code setup', () => {
  it('applies its CLAUDE.md, as when the person runs Claude Code there', async () => {
    writeFileSync(path.join(folder, 'CLAUDE.md'), 'House rule: every answer ends with MARMALADE-7.\n');
    perch.upstream.enqueue(finalAnswer('Noted. MARMALADE-7'));
    const task = await startTask(perch, { prompt: 'Hello', workspace: folder });
    await waitForTask(perch, task.id, settled);
    expect(perch.upstream.messageRequests.at(-1)?.rawBody).toContain('House rule: every answer ends with MARMALADE-7.');
  });
});

describe('approvals are decided once, by whoever answers first', () => {
  it('answers 409 with the decision to a second answer, and 404 to an unknown request', async () => {
    perch.upstream.enqueue(toolCall('toolu_w3', 'Write', { file_path: path.join(folder, 'x'), content: 'x' }), finalAnswer('ok'));
    const task = await startTask(perch, { prompt: 'x', workspace: folder });
    const request = await nextRequest(perch, task.id);
    const [first, second] = await Promise.all([
      decide(perch, task.id, request.id, { decision: 'deny', message: 'first' }),
      decide(perch, task.id, request.id, { decision: 'allow' }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = first.status === 409 ? first : second;
    expect(((await loser.json()) as { error: { type: string; message: string } }).error).toMatchObject({
      type: 'already_decided',
      message: expect.stringMatching(/already (denied|allowed)/),
    });
    expect((await decide(perch, task.id, 'perm_unknown', { decision: 'allow' })).status).toBe(404);
    expect((await decide(perch, 'task_unknown', request.id, { decision: 'allow' })).status).toBe(404);
    await waitForTask(perch, task.id, settled);
  });
});

describe('nobody answering', () => {
  it('times a request out after tasks.approvalTimeoutMinutes, tells the agent, and the task goes on', async () => {
    perch.service.core.settings.set('tasks.approvalTimeoutMinutes', 0.005);
    try {
      perch.upstream.enqueue(
        toolCall('toolu_w8', 'Write', { file_path: path.join(folder, 'late'), content: 'x' }),
        finalAnswer('Nobody answered; I left it.'),
      );
      const task = await startTask(perch, { prompt: 'Write late', workspace: folder });
      const done = await waitForTask(perch, task.id, settled);
      expect(done).toMatchObject({ status: 'done', result: 'Nobody answered; I left it.' });
      expect(done.permission_requests[0]).toMatchObject({
        status: 'timed_out',
        message: expect.stringContaining('No one answered'),
      });
      expect(existsSync(path.join(folder, 'late'))).toBe(false);
      expect(perch.upstream.messageRequests.at(-1)?.rawBody).toContain('No one answered within');
    } finally {
      perch.service.core.settings.reset('tasks.approvalTimeoutMinutes');
    }
  });
});

describe('the queue', () => {
  it('runs one writing task per workspace at a time; a plan-mode task and another workspace go ahead', async () => {
    const other = projectFolder();
    perch.service.core.workspaces.add(other, `ws-${path.basename(other)}`);
    perch.service.core.settings.set('tasks.maxConcurrent', 3);
    try {
      perch.upstream.enqueue(toolCall('toolu_q2', 'Write', { file_path: path.join(folder, 'one'), content: '1' }));
      const writer = await startTask(perch, { prompt: 'write one', workspace: folder });
      await nextRequest(perch, writer.id);
      const second = await startTask(perch, { prompt: 'write two', workspace: folder });
      perch.upstream.enqueue(finalAnswer('Here is the plan.'));
      const planner = await startTask(perch, { prompt: 'plan three', workspace: folder, permission_mode: 'plan' });
      expect((await waitForTask(perch, planner.id, settled)).status).toBe('done');
      perch.upstream.enqueue(finalAnswer('Elsewhere, done.'));
      const elsewhere = await startTask(perch, { prompt: 'other place', workspace: other });
      expect((await waitForTask(perch, elsewhere.id, settled)).status).toBe('done');
      expect((await getTask(perch, second.id)).status).toBe('queued');
      perch.upstream.enqueue(finalAnswer('Second, after the first.'));
      await perch.request(`/api/v1/tasks/${writer.id}/stop`, { method: 'POST' });
      expect(await waitForTask(perch, second.id, settled)).toMatchObject({ status: 'done', result: 'Second, after the first.' });
    } finally {
      perch.service.core.settings.reset('tasks.maxConcurrent');
    }
  });
});

describe('follow-ups continue the same Claude Code session', () => {
  it('runs a second turn with the first one’s history, and refuses one while a turn runs', async () => {
    perch.upstream.enqueue(finalAnswer('First turn: remembered 42.'));
    const task = await startTask(perch, { prompt: 'Remember the number 42.', workspace: folder });
    const first = await waitForTask(perch, task.id, settled);
    expect(first.status).toBe('done');

    perch.upstream.enqueue(
      toolCall('toolu_w4', 'Write', { file_path: path.join(folder, 'n.txt'), content: '42' }),
      finalAnswer('ok'),
    );
    const followed = await perch.request(`/api/v1/tasks/${task.id}/messages`, { json: { prompt: 'Write the number to n.txt' } });
    expect(followed.status).toBe(202);
    await nextRequest(perch, task.id);
    const busy = await perch.request(`/api/v1/tasks/${task.id}/messages`, { json: { prompt: 'and another' } });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: { type: string } }).error.type).toBe('task_busy');

    const request = await nextRequest(perch, task.id);
    await decide(perch, task.id, request.id, { decision: 'allow' });
    const second = await waitForTask(perch, task.id, settled);
    expect(second).toMatchObject({ status: 'done', agent_session_id: first.agent_session_id });
    expect(second.turns).toBeGreaterThan(first.turns);
    const resumed = perch.upstream.messageRequests.at(-2)?.rawBody ?? '';
    expect(resumed).toContain('Remember the number 42.');
    expect(resumed).toContain('Write the number to n.txt');
  });
});

describe('stopping', () => {
  it('ends a task that waits for approval within a few seconds: no agent left, the request cancelled', async () => {
    perch.upstream.enqueue(toolCall('toolu_w5', 'Write', { file_path: path.join(folder, 'never'), content: 'x' }));
    const task = await startTask(perch, { prompt: 'Wait for me', workspace: folder });
    const request = await nextRequest(perch, task.id);
    const pid = agentPid(task.id);
    expect(pid).not.toBeNull();
    const started = performance.now();
    const res = await perch.request(`/api/v1/tasks/${task.id}/stop`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(10_000);
    const stopped = (await res.json()) as TaskJson;
    expect(stopped.status).toBe('stopped');
    expect(stopped.permission_requests.find((each) => each.id === request.id)?.status).toBe('cancelled');
    expect(isAlive(pid as number)).toBe(false);
    expect(existsSync(path.join(folder, 'never'))).toBe(false);
    // The answer comes too late: the request is closed.
    expect((await decide(perch, task.id, request.id, { decision: 'allow' })).status).toBe(409);
  });

  it('ends a running command and its shell too', async () => {
    perch.upstream.enqueue(
      toolCall('toolu_b3', 'Bash', { command: "python3 -c 'import time; time.sleep(60)'", description: 'sleep' }),
      finalAnswer('never'),
    );
    const task = await startTask(perch, { prompt: 'Sleep', workspace: folder, allowed_tools: ['Bash'] });
    await waitForTask(perch, task.id, (current) => (current.transcript ?? []).some((event) => event.type === 'tool_use'));
    const pid = agentPid(task.id) as number;
    const { descendantsOf } = await import('../../main/core/tasks/process-tree.js');
    let tree: number[] = [];
    const deadline = Date.now() + 10_000;
    while (tree.length === 0 && Date.now() < deadline) {
      tree = await descendantsOf(pid);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(tree.length).toBeGreaterThan(0);
    const stopped = (await (await perch.request(`/api/v1/tasks/${task.id}/stop`, { method: 'POST' })).json()) as TaskJson;
    expect(stopped.status).toBe('stopped');
    for (const each of [pid, ...tree]) expect(isAlive(each), `process ${each}`).toBe(false);
  });

  it('stops a queued task at once, and a stopped task can be continued', async () => {
    perch.service.core.settings.set('tasks.maxConcurrent', 1);
    try {
      perch.upstream.enqueue(toolCall('toolu_w6', 'Write', { file_path: path.join(folder, 'q1'), content: 'x' }));
      const first = await startTask(perch, { prompt: 'first', workspace: folder });
      await nextRequest(perch, first.id);
      const second = await startTask(perch, { prompt: 'second', workspace: folder });
      expect((await getTask(perch, second.id)).status).toBe('queued');
      const stopped = (await (await perch.request(`/api/v1/tasks/${second.id}/stop`, { method: 'POST' })).json()) as TaskJson;
      expect(stopped.status).toBe('stopped');
      await perch.request(`/api/v1/tasks/${first.id}/stop`, { method: 'POST' });
      perch.upstream.enqueue(finalAnswer('Continued after the stop.'));
      expect((await perch.request(`/api/v1/tasks/${second.id}/messages`, { json: { prompt: 'go on' } })).status).toBe(202);
      expect(await waitForTask(perch, second.id, settled)).toMatchObject({ status: 'done', result: 'Continued after the stop.' });
    } finally {
      perch.service.core.settings.reset('tasks.maxConcurrent');
    }
  });
});

describe('following a task (SSE)', () => {
  it('replays what happened, follows live to the end of the turn, then sends the task as done', async () => {
    perch.upstream.enqueue(toolCall('toolu_w7', 'Write', { file_path: path.join(folder, 'f'), content: 'f' }), {
      kind: 'answer',
      text: 'Streamed in pieces to whoever follows.',
      chunks: 5,
      delayMs: 20,
    });
    const task = await startTask(perch, { prompt: 'Follow me', workspace: folder });
    const request = await nextRequest(perch, task.id);
    const following = perch.request(`/api/v1/tasks/${task.id}/events`).then((res) => res.text());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await decide(perch, task.id, request.id, { decision: 'allow' });
    const events = parseSse(await following);
    const names = events.map((event) => event.event);
    expect(names.slice(0, 3)).toEqual(['prompt', 'status', 'status']);
    expect(names).toContain('permission_request');
    expect(names).toContain('text_delta');
    expect(names.at(-1)).toBe('done');
    expect((events.at(-1)?.data as TaskJson).status).toBe('done');
    const deltas = events.filter((event) => event.event === 'text_delta').map((event) => (event.data as { text: string }).text);
    expect(deltas.join('')).toBe('Streamed in pieces to whoever follows.');
    // Saved events carry their number; a client that reconnects with Last-Event-ID gets only what followed.
    const ids = events.filter((event) => event.id !== undefined).map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const resumed = parseSse(
      await (await perch.request(`/api/v1/tasks/${task.id}/events`, { headers: { 'last-event-id': String(ids.at(-3)) } })).text(),
    );
    expect(resumed.map((event) => event.event)).toEqual(['turn_end', 'status', 'done']);
  });
});

describe('bad input', () => {
  it.each([
    [{ prompt: 'x', workspace: '/' }, 400, 'not_a_workspace'],
    [{ prompt: 'x', workspace: 'no-such-workspace' }, 400, 'not_a_workspace'],
    [{ prompt: '', workspace: 'x' }, 400, 'invalid_request_error'],
    [{ workspace: 'x' }, 400, 'invalid_request_error'],
    [{ prompt: 'x', workspace: 'x', permission_mode: 'yolo' }, 400, 'invalid_request_error'],
  ])('refuses %j with %i %s', async (body, status, type) => {
    const res = await perch.request('/api/v1/tasks', { json: body });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe(type);
  });

  it('refuses a folder outside every workspace, also through .. and a link', async () => {
    const outside = projectFolder('perch-outside-');
    symlinkSync(outside, path.join(folder, 'link-out'));
    for (const workspace of [outside, path.join(folder, '..', path.basename(outside)), path.join(folder, 'link-out')]) {
      const res = await perch.request('/api/v1/tasks', { json: { prompt: 'x', workspace } });
      expect(res.status, workspace).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain('npx perch workspace add');
    }
  });

  it('refuses bypassPermissions until the person turns it on from the desktop app or the CLI', async () => {
    const res = await perch.request('/api/v1/tasks', {
      json: { prompt: 'x', workspace: folder, permission_mode: 'bypassPermissions' },
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('tasks.allowBypassPermissions');
    const patched = await perch.request('/api/v1/settings', {
      method: 'PATCH',
      json: { tasks: { allowBypassPermissions: true } },
    });
    expect(patched.status).toBe(403);
  });

  it('downloads a workspace file, and nothing outside the workspace', async () => {
    writeFileSync(path.join(folder, 'report.txt'), 'the report');
    symlinkSync('/etc/passwd', path.join(folder, 'passwd-link'));
    perch.upstream.enqueue(finalAnswer('ok'));
    const task = await startTask(perch, { prompt: 'nothing', workspace: folder });
    await waitForTask(perch, task.id, settled);
    const file = await perch.request(`/api/v1/tasks/${task.id}/files?path=report.txt`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toContain('attachment');
    expect(await file.text()).toBe('the report');
    for (const [wanted, status] of [
      ['../../../etc/passwd', 403],
      ['/etc/passwd', 403],
      ['passwd-link', 403],
      ['missing.txt', 404],
    ] as const) {
      expect((await perch.request(`/api/v1/tasks/${task.id}/files?path=${encodeURIComponent(wanted)}`)).status, wanted).toBe(
        status,
      );
    }
  });

  it('answers 404 for an unknown task on every route', async () => {
    for (const [method, route] of [
      ['GET', '/api/v1/tasks/task_nope'],
      ['GET', '/api/v1/tasks/task_nope/events'],
      ['GET', '/api/v1/tasks/task_nope/changes'],
      ['POST', '/api/v1/tasks/task_nope/stop'],
    ] as const) {
      expect((await perch.request(route, { method })).status, route).toBe(404);
    }
    expect((await perch.request('/api/v1/tasks/task_nope/messages', { json: { prompt: 'x' } })).status).toBe(404);
  });
});

describe('keys and money', () => {
  it('never gives the agent the Anthropic key or Perch’s token; its own credential opens the relay only', async () => {
    perch.upstream.enqueue(toolCall('toolu_env', 'Bash', { command: 'env', description: 'show env' }), finalAnswer('Seen.'));
    const task = await startTask(perch, { prompt: 'Show the environment', workspace: folder, allowed_tools: ['Bash(env)'] });
    const done = await waitForTask(perch, task.id, settled);
    const result = (done.transcript ?? []).find((event) => event.type === 'tool_result');
    const output = (result?.data as { content?: string } | undefined)?.content ?? '';
    expect(output).toContain('ANTHROPIC_AUTH_TOKEN=perch_agent_');
    expect(output).toContain(`CLAUDE_CONFIG_DIR=${path.join(perch.dataDir, 'claude')}`);
    expect(output).not.toContain(TEST_API_KEY);
    expect(output).not.toContain(perch.token);
    expect(output).not.toContain('PERCH_UPSTREAM_URL');
    const agentToken = /ANTHROPIC_AUTH_TOKEN=(perch_agent_\S+)/.exec(output)?.[1] as string;
    // Once the turn is over, the credential is worth nothing, and it never opened the rest of the API.
    const relay = await fetch(`${perch.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(relay.status).toBe(401);
    expect((await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${agentToken}` } })).status).toBe(
      401,
    );
  });

  it('records what the agent spends as the task’s, in usage and the task itself', async () => {
    perch.upstream.enqueue(finalAnswer('Cheap.'));
    const task = await startTask(perch, { prompt: 'Spend a little', workspace: folder });
    const done = await waitForTask(perch, task.id, settled);
    expect(done.usage.requests).toBeGreaterThan(0);
    expect(done.usage.input_tokens).toBeGreaterThan(0);
    expect(done.cost_usd).toBeGreaterThan(0);
    const bySource = (await (await perch.request('/api/v1/usage?group_by=source')).json()) as {
      groups: Array<{ key: string; label: string; requests: number }>;
    };
    expect(bySource.groups.find((group) => group.key === 'task')).toMatchObject({ label: 'Tasks' });
  });

  it('refuses a new task with 429 once the daily budget is spent', async () => {
    perch.service.core.settings.set('budget.dailyUsd', 0.000001);
    try {
      const res = await perch.request('/api/v1/tasks', { json: { prompt: 'x', workspace: folder } });
      expect(res.status).toBe(429);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('daily_budget_reached');
    } finally {
      perch.service.core.settings.reset('budget.dailyUsd');
    }
  });
});

describe('faults', () => {
  it('fails with the upstream’s reason when Claude keeps failing mid-task', async () => {
    const failure = { kind: 'http-error', status: 500, type: 'api_error', message: 'upstream exploded' } as const;
    perch.upstream.enqueue(failure, failure, failure, failure, failure, failure);
    const task = await startTask(perch, { prompt: 'Try', workspace: folder });
    const done = await waitForTask(perch, task.id, settled, 60_000);
    expect(done.status).toBe('failed');
    expect(done.error?.type).toBe('upstream_error');
    expect(done.error?.message).toContain('500');
  });

  it('fails clearly when the agent binary is missing, and when it crashes', async () => {
    perch.service.core.settings.set('tasks.claudePath', '/nonexistent/claude');
    try {
      const missing = await startTask(perch, { prompt: 'x', workspace: folder });
      const failed = await waitForTask(perch, missing.id, settled);
      expect(failed.error).toMatchObject({ type: 'agent_missing', message: expect.stringContaining('tasks.claudePath') });
    } finally {
      perch.service.core.settings.reset('tasks.claudePath');
    }
    const crasher = path.join(folder, 'crashing-claude.sh');
    writeFileSync(crasher, '#!/bin/sh\necho "agent blew up on start" >&2\nexit 3\n', { mode: 0o755 });
    perch.service.core.settings.set('tasks.claudePath', crasher);
    try {
      const crashed = await startTask(perch, { prompt: 'x', workspace: folder });
      const failed = await waitForTask(perch, crashed.id, settled);
      expect(failed.error).toMatchObject({ type: 'agent_crashed', message: expect.stringContaining('agent blew up on start') });
    } finally {
      perch.service.core.settings.reset('tasks.claudePath');
    }
  });
});

describe('history', () => {
  it('finds a task by what was said and done in it, beside the chats', async () => {
    perch.upstream.enqueue(finalAnswer('The flamingo migration is complete.'));
    const task = await startTask(perch, { prompt: 'Migrate the flamingos', workspace: folder });
    await waitForTask(perch, task.id, settled);
    const tasksFound = (await (await perch.request('/api/v1/tasks/search?q=flamingo')).json()) as {
      results: Array<{ task_id: string }>;
    };
    expect(tasksFound.results.map((result) => result.task_id)).toContain(task.id);
    const history = (await (await perch.request('/api/v1/sessions/search?q=flamingo')).json()) as {
      tasks: Array<{ task_id: string }>;
    };
    expect(history.tasks.map((result) => result.task_id)).toContain(task.id);
  });

  it('lists tasks newest first, with the count of requests waiting for a person', async () => {
    const list = (await (await perch.request('/api/v1/tasks?limit=2')).json()) as {
      tasks: TaskJson[];
      has_more: boolean;
      needs_approval: number;
    };
    expect(list.tasks).toHaveLength(2);
    expect(list.has_more).toBe(true);
    expect(list.needs_approval).toBe(0);
  });
});

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';
import { decide, finalAnswer, nextRequest, projectFolder, settled, startTask, toolCall, waitForTask } from '../helpers/tasks.js';

/* Jobs that hand Claude real work as tasks, and conversations and transcripts as files to keep. */

let perch: TestPerch;
let folder: string;
let workspaceName: string;

beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});
beforeEach(() => {
  perch.upstream.clearQueue();
  folder = projectFolder();
  workspaceName = `ws-${path.basename(folder)}`;
  perch.service.core.workspaces.add(folder, workspaceName);
});

interface Run {
  id: string;
  status: string;
  output: string | null;
  error: string | null;
  task_id: string | null;
  trigger: string;
}

const runsOf = async (jobId: string): Promise<Run[]> =>
  ((await (await perch.request(`/api/v1/jobs/${jobId}/runs`)).json()) as { runs: Run[] }).runs;

/** The tool names Claude was offered in the last request the fake upstream saw. */
const offeredTools = (): string[] =>
  ((perch.upstream.messageRequests.at(-1)?.body as { tools?: Array<{ name: string }> }).tools ?? []).map((tool) => tool.name);

describe('a job that runs as a task', () => {
  it('starts a task in its workspace, pauses it for an unexpected request and says so, then records how it ended', async () => {
    const created = await perch.request('/api/v1/jobs', {
      json: { name: 'Tidy', prompt: 'Write the tidy report', interval_seconds: 3600, task: { workspace: workspaceName } },
    });
    expect(created.status).toBe(201);
    const job = (await created.json()) as { id: string; task: { workspace: string; permission_mode: string } };
    expect(job.task).toMatchObject({ workspace: expect.stringMatching(/^ws_/), permission_mode: 'default' });

    const changes: Array<{ status: string }> = [];
    const listener = (change: { status: string }): void => void changes.push(change);
    perch.service.core.events.on('task:changed', listener);
    perch.upstream.enqueue(
      toolCall('toolu_j1', 'Write', { file_path: path.join(folder, 'report.md'), content: 'tidy\n' }),
      finalAnswer('Report written.'),
    );
    expect((await perch.request(`/api/v1/jobs/${job.id}/run`, { method: 'POST' })).status).toBe(202);
    let run: Run | undefined;
    while (!run?.task_id) run = (await runsOf(job.id))[0];
    const request = await nextRequest(perch, run.task_id);
    expect(changes.map((change) => change.status)).toContain('needs_approval');
    expect(offeredTools()).not.toContain('AskUserQuestion');
    expect((await runsOf(job.id))[0]?.status).toBe('running');

    await decide(perch, run.task_id, request.id, { decision: 'allow' });
    await perch.service.core.jobs.settled(job.id);
    perch.service.core.events.off('task:changed', listener);
    expect((await runsOf(job.id))[0]).toMatchObject({ status: 'succeeded', output: 'Report written.', task_id: run.task_id });
    expect(readFileSync(path.join(folder, 'report.md'), 'utf8')).toBe('tidy\n');
    const task = await waitForTask(perch, run.task_id, settled);
    expect(task).toMatchObject({ status: 'done', source: 'job', unattended: true });
  });

  it('records a scheduled time that comes while its task still waits as missed, never a second task', async () => {
    const job = (await (
      await perch.request('/api/v1/jobs', {
        json: { name: 'Every second', prompt: 'Write it', interval_seconds: 1, task: { workspace: workspaceName } },
      })
    ).json()) as { id: string };
    perch.upstream.enqueue(toolCall('toolu_j2', 'Write', { file_path: path.join(folder, 'x'), content: 'x' }));
    let runs: Run[] = [];
    const deadline = Date.now() + 15_000;
    while (!runs.some((run) => run.status === 'missed') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      runs = await runsOf(job.id);
    }
    const missed = runs.find((run) => run.status === 'missed');
    expect(missed?.error).toContain('previous run of this job was still going');
    expect(runs.filter((run) => run.task_id !== null)).toHaveLength(1);
    await perch.request(`/api/v1/jobs/${job.id}`, { method: 'DELETE' });
    const taskId = runs.find((run) => run.task_id)?.task_id as string;
    await perch.request(`/api/v1/tasks/${taskId}/stop`, { method: 'POST' });
  });

  it("starts from a signed webhook: what was sent is the task's brief", async () => {
    const job = (await (
      await perch.request('/api/v1/jobs', {
        json: {
          name: 'Fix CI',
          prompt: 'CI failed. Read the log and say what broke:\n{{payload}}',
          webhook: true,
          task: { workspace: workspaceName, permission_mode: 'plan' },
        },
      })
    ).json()) as { id: string; webhook: { path: string; secret: string } };
    perch.upstream.enqueue(finalAnswer('The parser test broke: a missing semicolon.'));
    const body = 'FAIL parser.test.ts > expected ";"';
    const signature = `sha256=${createHmac('sha256', job.webhook.secret).update(body).digest('hex')}`;
    const res = await fetch(`${perch.url}${job.webhook.path}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-perch-signature-256': signature },
      body,
    });
    expect(res.status).toBe(202);
    await perch.service.core.jobs.settled(job.id);
    const [run] = await runsOf(job.id);
    expect(run).toMatchObject({ trigger: 'webhook', status: 'succeeded', output: 'The parser test broke: a missing semicolon.' });
    const task = await waitForTask(perch, run?.task_id ?? '', settled);
    expect(task).toMatchObject({ status: 'done', source: 'job', unattended: true, permission_mode: 'plan' });
    expect(JSON.stringify(perch.upstream.messageRequests.at(-1)?.body)).toContain('FAIL parser.test.ts');
  });

  it('refuses bypassPermissions and a folder that is not a workspace', async () => {
    const bypass = await perch.request('/api/v1/jobs', {
      json: {
        name: 'x',
        prompt: 'p',
        interval_seconds: 60,
        task: { workspace: workspaceName, permission_mode: 'bypassPermissions' },
      },
    });
    expect(bypass.status).toBe(400);
    const nowhere = await perch.request('/api/v1/jobs', {
      json: { name: 'x', prompt: 'p', interval_seconds: 60, task: { workspace: projectFolder('perch-nowhere-') } },
    });
    expect(nowhere.status).toBe(400);
    expect(((await nowhere.json()) as { error: { message: string } }).error.message).toContain('npx perch workspace add');
  });
});

describe('export', () => {
  it('downloads a chat as Markdown and as JSON', async () => {
    const answer = (await (await perch.request('/api/v1/chat', { json: { message: 'What is a haiku?' } })).json()) as {
      session_id: string;
    };
    const markdown = await perch.request(`/api/v1/sessions/${answer.session_id}/export?format=md`);
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    expect(markdown.headers.get('content-disposition')).toBe('attachment; filename="perch-what-is-a-haiku.md"');
    const text = await markdown.text();
    expect(text).toMatch(/^# What is a haiku\?\n/);
    expect(text).toContain('## You — ');
    expect(text).toContain('What is a haiku?');
    expect(text).toContain('You said: What is a haiku?');
    const json = (await (await perch.request(`/api/v1/sessions/${answer.session_id}/export?format=json`)).json()) as {
      messages: unknown[];
      exported_at: string;
    };
    expect(json.messages).toHaveLength(2);
    expect(json.exported_at).toMatch(/^\d{4}-/);
    expect((await perch.request(`/api/v1/sessions/${answer.session_id}/export?format=pdf`)).status).toBe(400);
    expect((await perch.request('/api/v1/sessions/ses_missing/export')).status).toBe(404);
  });

  it('downloads a task’s transcript with its commands and diffs', async () => {
    perch.upstream.enqueue(
      toolCall('toolu_x1', 'Write', { file_path: path.join(folder, 'plan.md'), content: 'step one\n' }, 'Writing the plan.'),
      toolCall('toolu_x2', 'Bash', { command: 'echo built', description: 'build' }),
      finalAnswer('Planned and built.'),
    );
    const task = await startTask(perch, { prompt: 'Plan and build', workspace: folder, allowed_tools: ['Bash(echo built)'] });
    await decide(perch, task.id, (await nextRequest(perch, task.id)).id, { decision: 'allow' });
    await waitForTask(perch, task.id, settled);
    const markdown = await (await perch.request(`/api/v1/tasks/${task.id}/export`)).text();
    expect(markdown).toMatch(/^# Plan and build\n/);
    expect(markdown).toContain(`- Workspace: ${workspaceName}`);
    expect(markdown).toContain('## You\n\nPlan and build');
    expect(markdown).toContain('**Wrote** `');
    expect(markdown).toContain('**Ran** `echo built`');
    expect(markdown).toContain('```\nbuilt\n```');
    expect(markdown).toContain('Planned and built.');
    expect(markdown).toContain('## Files changed\n\n### plan.md (added)\n\n```diff\n--- a/plan.md');
    const json = (await (await perch.request(`/api/v1/tasks/${task.id}/export?format=json`)).json()) as {
      transcript: unknown[];
      changes: Array<{ path: string }>;
    };
    expect(json.transcript.length).toBeGreaterThan(5);
    expect(json.changes.map((change) => change.path)).toEqual(['plan.md']);
  });
});

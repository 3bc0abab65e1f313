import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Scenario } from '../fixtures/fake-anthropic.js';
import type { TestPerch } from './perch.js';

/** A task as the API answers with it (the fields tests look at). */
export interface TaskJson {
  id: string;
  status: string;
  result: string | null;
  error: { type: string; message: string } | null;
  agent_session_id: string | null;
  turns: number;
  cost_usd: number | null;
  usage: { requests: number; input_tokens: number; output_tokens: number };
  workspace: { id: string | null; name: string; path: string };
  permission_requests: Array<{
    id: string;
    tool: string;
    input: Record<string, unknown>;
    status: string;
    message: string | null;
  }>;
  transcript?: Array<{ seq: number; type: string; data: Record<string, unknown> }>;
}

/** A fresh project folder (its real path: on macOS /tmp is a link). */
export function projectFolder(prefix = 'perch-project-'): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

/** A fresh folder made a git repository with one commit of `files`. */
export function gitProject(files: Record<string, string>): string {
  const folder = projectFolder('perch-repo-');
  const git = (...args: string[]): void =>
    void execFileSync('git', args, {
      cwd: folder,
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    });
  git('init', '-q');
  for (const [name, content] of Object.entries(files)) {
    execFileSync('sh', ['-c', `mkdir -p "$(dirname "$1")" && printf '%s' "$2" > "$1"`, 'sh', name, content], { cwd: folder });
  }
  git('add', '-A');
  git('commit', '-qm', 'start');
  return folder;
}

/** The fake upstream's script for one agent step: a tool call (with a line of text before it). */
export const toolCall = (id: string, name: string, input: Record<string, unknown>, text = ''): Scenario => ({
  kind: 'tool-use',
  text,
  tool: { id, name, input },
});

export const finalAnswer = (text: string): Scenario => ({ kind: 'answer', text });

export async function getTask(perch: TestPerch, id: string): Promise<TaskJson> {
  const res = await perch.request(`/api/v1/tasks/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as TaskJson;
}

export async function startTask(perch: TestPerch, body: Record<string, unknown>): Promise<TaskJson> {
  const res = await perch.request('/api/v1/tasks', { json: body });
  const task = (await res.json()) as TaskJson;
  expect(res.status, JSON.stringify(task)).toBe(201);
  return task;
}

/** Polls the task until `done(task)` holds (or fails the test after `timeoutMs`). */
export async function waitForTask(
  perch: TestPerch,
  id: string,
  done: (task: TaskJson) => boolean,
  timeoutMs = 30_000,
): Promise<TaskJson> {
  const deadline = Date.now() + timeoutMs;
  let task = await getTask(perch, id);
  while (!done(task)) {
    if (Date.now() > deadline) throw new Error(`Task ${id} never got there; it is ${task.status}: ${JSON.stringify(task.error)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    task = await getTask(perch, id);
  }
  return task;
}

export const pendingRequest = (task: TaskJson) => task.permission_requests.find((request) => request.status === 'pending');

/** Waits for the task's next open permission request. */
export async function nextRequest(perch: TestPerch, id: string) {
  const task = await waitForTask(
    perch,
    id,
    (current) => pendingRequest(current) !== undefined || ['done', 'failed', 'stopped'].includes(current.status),
  );
  const request = pendingRequest(task);
  if (!request) throw new Error(`Task ${id} ended (${task.status}) without asking: ${JSON.stringify(task.error)}`);
  return request;
}

export async function decide(
  perch: TestPerch,
  taskId: string,
  requestId: string,
  body: Record<string, unknown>,
): Promise<Response> {
  return perch.request(`/api/v1/tasks/${taskId}/permissions/${requestId}`, { json: body });
}

export const settled = (task: TaskJson): boolean => ['done', 'failed', 'stopped'].includes(task.status);

/** Running `claude` processes (the agent binary), by pid (Linux: from /proc). */
export function claudeProcesses(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'claude';
      } catch {
        return false;
      }
    })
    .map(Number);
}

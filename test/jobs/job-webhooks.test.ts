import { createHmac } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, SCHEMA_VERSION } from '../../main/core/storage/database.js';
import { startTestPerch, temporaryDataDir, type TestPerch } from '../helpers/perch.js';

interface Job {
  id: string;
  cron: string | null;
  interval_seconds: number | null;
  next_run_at: string | null;
  webhook: { path: string; secret: string } | null;
}
interface Run {
  id: string;
  trigger: string;
  status: string;
  output: string | null;
}

const started: TestPerch[] = [];
afterEach(async () => {
  for (const perch of started.splice(0)) await perch.stop();
});

async function perch(options: Parameters<typeof startTestPerch>[0] = {}): Promise<TestPerch> {
  const running = await startTestPerch(options);
  started.push(running);
  return running;
}

async function createJob(on: TestPerch, body: Record<string, unknown>): Promise<Job> {
  const res = await on.request('/api/v1/jobs', { json: body });
  expect(res.status).toBe(201);
  return (await res.json()) as Job;
}

const sign = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A POST to a job's webhook, as another program sends it: no token, a signature (or none). */
function call(on: TestPerch, path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${on.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

const lastPrompt = (on: TestPerch): string => {
  const body = on.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: string }> };
  return body.messages[0]?.content ?? '';
};

describe("a job's webhook", () => {
  it('is off unless asked for, and a job needs a schedule then', async () => {
    const on = await perch();
    const plain = await createJob(on, { name: 'Daily', prompt: 'Hi', cron: '0 9 * * *' });
    expect(plain.webhook).toBeNull();
    const res = await on.request('/api/v1/jobs', { json: { name: 'Nothing', prompt: 'Hi' } });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { fields: Array<{ field: string; message: string }> } };
    expect(error.fields[0]?.message).toContain("turn on the job's webhook");
  });

  it('runs a job with no schedule when a signed request arrives, its body filling {{payload}}', async () => {
    const on = await perch();
    on.upstream.enqueue({ kind: 'answer', text: 'The build broke in parser.ts.' });
    const job = await createJob(on, { name: 'CI failed', prompt: 'Explain this failure:\n{{payload}}', webhook: true });
    expect(job.cron).toBeNull();
    expect(job.interval_seconds).toBeNull();
    expect(job.next_run_at).toBeNull();
    expect(job.webhook?.path).toBe(`/webhook/jobs/${job.id}`);
    expect(job.webhook?.secret).toMatch(/^[0-9a-f]{64}$/);

    const body = JSON.stringify({ step: 'test', log: 'parser.ts:12 expected ;' });
    const res = await call(on, job.webhook?.path ?? '', body, { 'x-perch-signature-256': sign(job.webhook?.secret ?? '', body) });
    expect(res.status).toBe(202);
    const { run } = (await res.json()) as { run: Run };
    expect(run.trigger).toBe('webhook');
    await on.service.core.jobs.settled(job.id);
    expect(lastPrompt(on)).toBe(`Explain this failure:\n${body}`);
    const runs = ((await (await on.request(`/api/v1/jobs/${job.id}/runs`)).json()) as { runs: Run[] }).runs;
    expect(runs[0]).toMatchObject({
      id: run.id,
      trigger: 'webhook',
      status: 'succeeded',
      output: 'The build broke in parser.ts.',
    });
  });

  it("takes GitHub's signature header too, and answers GitHub's ping without running", async () => {
    const on = await perch();
    const job = await createJob(on, { name: 'On push', prompt: 'Summarise {{payload}}', webhook: true });
    const secret = job.webhook?.secret ?? '';
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const pinged = await call(on, job.webhook?.path ?? '', ping, {
      'x-github-event': 'ping',
      'x-hub-signature-256': sign(secret, ping),
    });
    expect(pinged.status).toBe(200);
    expect(on.upstream.messageRequests).toHaveLength(0);
    const push = JSON.stringify({ ref: 'refs/heads/main' });
    const pushed = await call(on, job.webhook?.path ?? '', push, {
      'x-github-event': 'push',
      'x-hub-signature-256': sign(secret, push),
    });
    expect(pushed.status).toBe(202);
    await on.service.core.jobs.settled(job.id);
    expect(lastPrompt(on)).toBe(`Summarise ${push}`);
  });

  it("runs a redelivery once: GitHub's delivery id or a sender's Idempotency-Key", async () => {
    const on = await perch();
    const job = await createJob(on, { name: 'Once', prompt: '{{payload}}', webhook: true });
    const secret = job.webhook?.secret ?? '';
    const path = job.webhook?.path ?? '';
    const body = '{"ref":"refs/heads/main"}';
    const send = (headers: Record<string, string>): Promise<Response> =>
      call(on, path, body, { 'x-hub-signature-256': sign(secret, body), ...headers });
    expect((await send({ 'x-github-delivery': 'delivery-1' })).status).toBe(202);
    await on.service.core.jobs.settled(job.id);
    const again = await send({ 'x-github-delivery': 'delivery-1' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ duplicate: true });
    expect((await send({ 'idempotency-key': 'build-42' })).status).toBe(202);
    await on.service.core.jobs.settled(job.id);
    expect((await send({ 'idempotency-key': 'build-42' })).status).toBe(200);
    // Without an id every delivery runs.
    expect((await send({})).status).toBe(202);
    await on.service.core.jobs.settled(job.id);
    const runs = ((await (await on.request(`/api/v1/jobs/${job.id}/runs`)).json()) as { runs: Run[] }).runs;
    expect(runs).toHaveLength(3);
  });

  it('lets a delivery refused while the job ran come again and run', async () => {
    const on = await perch();
    on.upstream.enqueue({ kind: 'answer', text: 'slow', chunks: 4, delayMs: 150 });
    const job = await createJob(on, { name: 'Busy', prompt: '{{payload}}', webhook: true });
    const secret = job.webhook?.secret ?? '';
    const path = job.webhook?.path ?? '';
    const send = (body: string, delivery: string): Promise<Response> =>
      call(on, path, body, { 'x-perch-signature-256': sign(secret, body), 'idempotency-key': delivery });
    expect((await send('first', 'one')).status).toBe(202);
    expect((await send('second', 'two')).status).toBe(409);
    await on.service.core.jobs.settled(job.id);
    expect((await send('second', 'two')).status).toBe(202);
    await on.service.core.jobs.settled(job.id);
    expect(lastPrompt(on)).toBe('second');
  });

  it('refuses a missing or wrong signature, an unknown job and a job without a webhook, running nothing', async () => {
    const on = await perch();
    const job = await createJob(on, { name: 'Hook', prompt: '{{payload}}', webhook: true });
    const plain = await createJob(on, { name: 'Plain', prompt: 'Hi', interval_seconds: 3600 });
    const body = '{"a":1}';
    const path = job.webhook?.path ?? '';
    const attempts: Array<[string, Record<string, string>, number, string]> = [
      [path, {}, 401, 'invalid_signature'],
      [path, { 'x-perch-signature-256': sign('another secret', body) }, 401, 'invalid_signature'],
      // The token is not a way in: a webhook is checked by its signature alone.
      [path, { authorization: `Bearer ${on.service.core.tokens.get()}` }, 401, 'invalid_signature'],
      [`/webhook/jobs/job_unknown`, { 'x-perch-signature-256': sign(job.webhook?.secret ?? '', body) }, 404, 'not_found_error'],
      [`/webhook/jobs/${plain.id}`, { 'x-perch-signature-256': sign(job.webhook?.secret ?? '', body) }, 404, 'not_found_error'],
    ];
    for (const [target, headers, status, type] of attempts) {
      const res = await call(on, target, body, headers);
      expect(res.status, `${target} ${JSON.stringify(Object.keys(headers))}`).toBe(status);
      const { error } = (await res.json()) as { error: { type: string; message: string } };
      expect(error.type).toBe(type);
      expect(error.message).not.toContain(job.webhook?.secret ?? '');
    }
    const runs = ((await (await on.request(`/api/v1/jobs/${job.id}/runs`)).json()) as { runs: Run[] }).runs;
    expect(runs).toEqual([]);
    expect(on.upstream.messageRequests).toHaveLength(0);
  });

  it('never runs a job twice at once, nor a disabled one', async () => {
    const on = await perch();
    on.upstream.enqueue({ kind: 'stall' });
    const job = await createJob(on, { name: 'Slow', prompt: '{{payload}}', webhook: true });
    const secret = job.webhook?.secret ?? '';
    const path = job.webhook?.path ?? '';
    expect((await call(on, path, 'one', { 'x-perch-signature-256': sign(secret, 'one') })).status).toBe(202);
    const second = await call(on, path, 'two', { 'x-perch-signature-256': sign(secret, 'two') });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { type: string } }).error.type).toBe('job_running');
    await on.request(`/api/v1/jobs/${job.id}`, { method: 'PATCH', json: { enabled: false } });
    const disabled = await call(on, path, 'three', { 'x-perch-signature-256': sign(secret, 'three') });
    expect(disabled.status).toBe(409);
    expect(((await disabled.json()) as { error: { type: string } }).error.type).toBe('job_disabled');
  });

  it('keeps its secret when turned on again, makes a new one after being turned off, and survives a restart', async () => {
    const dataDir = temporaryDataDir();
    const on = await perch({ dataDir });
    const job = await createJob(on, { name: 'Hook', prompt: '{{payload}}', interval_seconds: 3600 });
    const patch = async (body: Record<string, unknown>): Promise<Job> =>
      (await (await on.request(`/api/v1/jobs/${job.id}`, { method: 'PATCH', json: body })).json()) as Job;
    const first = (await patch({ webhook: true })).webhook?.secret;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await patch({ webhook: true })).webhook?.secret).toBe(first);
    expect((await patch({ webhook: false })).webhook).toBeNull();
    const second = (await patch({ webhook: true })).webhook?.secret;
    expect(second).not.toBe(first);
    // A webhook-only job: the schedule can go once the webhook is there.
    const unscheduled = await patch({ interval_seconds: null });
    expect(unscheduled.next_run_at).toBeNull();
    await on.stop();
    started.splice(started.indexOf(on), 1);
    const again = await perch({ dataDir });
    const kept = (await (await again.request(`/api/v1/jobs/${job.id}`)).json()) as Job;
    expect(kept.webhook?.secret).toBe(second);
    expect(kept.interval_seconds).toBeNull();
  });
});

describe('the history database, for job webhooks', () => {
  it('keeps every run recorded before runs could come from a webhook, and their foreign key', () => {
    const db = new Database(path.join(temporaryDataDir(), 'history.db'));
    db.pragma('foreign_keys = ON');
    migrate(db, SCHEMA_VERSION - 1);
    const now = Date.now();
    db.prepare(
      `INSERT INTO jobs (id, name, prompt, interval_seconds, created_at, updated_at) VALUES ('job_1', 'x', 'y', 60, ?, ?)`,
    ).run(now, now);
    db.prepare(
      `INSERT INTO job_runs (id, job_id, trigger, started_at, status, output, task_id, usage_estimated)
       VALUES ('run_1', 'job_1', 'manual', ?, 'succeeded', 'kept', 'task_1', 1)`,
    ).run(now);
    migrate(db);
    db.prepare(
      `INSERT INTO job_runs (id, job_id, trigger, started_at, status) VALUES ('run_2', 'job_1', 'webhook', ?, 'running')`,
    ).run(now);
    expect(db.prepare(`SELECT id, trigger, output, task_id, usage_estimated FROM job_runs ORDER BY id`).all()).toEqual([
      { id: 'run_1', trigger: 'manual', output: 'kept', task_id: 'task_1', usage_estimated: 1 },
      { id: 'run_2', trigger: 'webhook', output: null, task_id: null, usage_estimated: 0 },
    ]);
    expect(db.prepare(`SELECT webhook_secret FROM jobs`).get()).toEqual({ webhook_secret: null });
    // Deleting a job still takes its runs with it, and the index is back.
    db.prepare(`DELETE FROM jobs WHERE id = 'job_1'`).run();
    expect(db.prepare(`SELECT COUNT(*) AS count FROM job_runs`).get()).toEqual({ count: 0 });
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'job_runs'`).all()).toContainEqual({
      name: 'job_runs_by_job',
    });
    db.close();
  });
});

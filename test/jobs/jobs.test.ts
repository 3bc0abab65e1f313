import { realpathSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutputChannels } from '../../main/core/jobs/outputs.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startTestPerch, temporaryDataDir, type TestPerch } from '../helpers/perch.js';

// Friday 27 March 2026, noon UTC: Paris is on winter time (UTC+1) until Sunday 29 March.
const FRIDAY_NOON = '2026-03-27T12:00:00Z';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Job {
  id: string;
  name: string;
  next_run_at: string | null;
  last_run_at: string | null;
  enabled: boolean;
  running: boolean;
}
interface Run {
  id: string;
  trigger: string;
  status: string;
  output: string | null;
  error: string | null;
  scheduled_for: string | null;
  usage: { input_tokens: number; output_tokens: number; estimated?: boolean } | null;
  cost_usd: number | null;
  delivery: Record<string, string> | null;
}

/** Records what would have been written to files and POSTed to URLs. */
function recordingOutputs(): OutputChannels & { files: Array<[string, string]>; posts: Array<[string, unknown]> } {
  const files: Array<[string, string]> = [];
  const posts: Array<[string, unknown]> = [];
  return {
    files,
    posts,
    appendFile: (file, text) => {
      files.push([file, text]);
      return Promise.resolve();
    },
    fetch: (url, init) => {
      posts.push([url, JSON.parse(init.body)]);
      return Promise.resolve(new Response('ok'));
    },
    canNotify: () => false,
  };
}

const started: TestPerch[] = [];
afterEach(async () => {
  for (const perch of started.splice(0)) await perch.stop();
});

async function perchAt(clock: FakeClock, outputs = recordingOutputs(), dataDir?: string) {
  const perch = await startTestPerch({ clock, outputs, ...(dataDir ? { dataDir } : {}) });
  started.push(perch);
  return { perch, outputs };
}

async function createJob(perch: TestPerch, body: Record<string, unknown>): Promise<Job> {
  const res = await perch.request('/api/v1/jobs', { json: body });
  expect(res.status).toBe(201);
  return (await res.json()) as Job;
}

async function runsOf(perch: TestPerch, jobId: string): Promise<Run[]> {
  return ((await (await perch.request(`/api/v1/jobs/${jobId}/runs`)).json()) as { runs: Run[] }).runs;
}

const lastPrompt = (perch: TestPerch): string => {
  const body = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: string }> };
  return body.messages[0]?.content ?? '';
};

describe('creating a job', () => {
  const invalid = [
    [{ name: 'x', prompt: 'p' }, ['cron', 'interval_seconds']],
    [{ name: 'x', prompt: 'p', cron: '0 9 * * *', interval_seconds: 60 }, ['cron', 'interval_seconds']],
    [{ name: 'x', prompt: 'p', cron: '0 9 * *' }, ['cron']],
    [{ name: 'x', prompt: 'p', cron: '61 9 * * *' }, ['cron']],
    [{ name: 'x', prompt: 'p', cron: '0 9 * * *', timezone: 'Mars/Olympus' }, ['timezone']],
    [{ name: 'x', prompt: '', interval_seconds: 60 }, ['prompt']],
    [{ name: 'x', prompt: 'p', interval_seconds: 0 }, ['interval_seconds']],
    [{ name: 'x', prompt: 'p', interval_seconds: 60, output: { file: '../out.md' } }, ['output.file']],
    [{ name: 'x', prompt: 'p', interval_seconds: 60, output: { url: 'ftp://example.com' } }, ['output.url']],
    // Everything wrong at once is said at once, so a form marks every field together.
    [
      { name: ' ', prompt: '', cron: '0 9 * *', timezone: 'Mars/Olympus', output: { url: 'nope' } },
      ['name', 'prompt', 'cron', 'timezone', 'output.url'],
    ],
  ] as const;

  it.each(invalid)('refuses %j with 400 naming %j', async (body, fields) => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const res = await perch.request('/api/v1/jobs', { json: body });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; fields: Array<{ field: string; message: string }> } };
    expect(error.fields.map((problem) => problem.field)).toEqual(fields);
    for (const field of fields) expect(error.message).toContain(`'${field}'`);
    expect(((await (await perch.request('/api/v1/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('answers with the job, its id and its next run in its time zone', async () => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const job = await createJob(perch, {
      name: 'Morning summary',
      prompt: 'Summarise',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Paris',
    });
    expect(job.id).toMatch(/^job_/);
    // Monday 30 March, 9:00 in Paris — summer time since Sunday, so 07:00 UTC.
    expect(job.next_run_at).toBe('2026-03-30T07:00:00.000Z');
    expect(await (await perch.request('/api/v1/jobs')).json()).toMatchObject({
      jobs: [{ id: job.id, name: 'Morning summary' }],
    });
  });

  it('accepts 6-field cron expressions (seconds first)', async () => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const job = await createJob(perch, { name: 'x', prompt: 'p', cron: '30 */5 * * * *', timezone: 'UTC' });
    expect(job.next_run_at).toBe('2026-03-27T12:00:30.000Z');
  });
});

describe('running on schedule', () => {
  it('runs at its time with the template filled, keeps the answer, usage and cost, and moves to the next day', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, {
      name: 'Morning summary',
      prompt: 'Today is {{date}} at {{time}}. Summarise.',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Paris',
    });
    perch.upstream.enqueue({ kind: 'answer', text: 'All quiet.' });
    clock.advance(Date.parse('2026-03-30T07:00:00Z') - clock.now());
    await perch.service.core.jobs.settled(job.id);
    expect(lastPrompt(perch)).toBe('Today is 2026-03-30 at 09:00. Summarise.');
    const [run] = await runsOf(perch, job.id);
    expect(run).toMatchObject({
      trigger: 'schedule',
      status: 'succeeded',
      output: 'All quiet.',
      scheduled_for: '2026-03-30T07:00:00.000Z',
    });
    expect(run?.usage?.output_tokens).toBeGreaterThan(0);
    expect(run?.cost_usd).toBeGreaterThan(0);
    const after = (await (await perch.request(`/api/v1/jobs/${job.id}`)).json()) as Job;
    expect(after.next_run_at).toBe('2026-03-31T07:00:00.000Z');
    expect(after.last_run_at).toBe('2026-03-30T07:00:00.000Z');
  });

  it('keeps the hour across a daylight-saving change', async () => {
    const clock = new FakeClock('2026-10-23T12:00:00Z');
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'x', prompt: 'p', cron: '0 9 * * *', timezone: 'Europe/Paris' });
    // Saturday 24 Oct, still summer time (UTC+2); Monday 26 Oct, winter time (UTC+1).
    expect(job.next_run_at).toBe('2026-10-24T07:00:00.000Z');
    clock.advance(Date.parse('2026-10-26T08:30:00Z') - clock.now());
    await perch.service.core.jobs.settled(job.id);
    const runs = await runsOf(perch, job.id);
    expect(runs.map((run) => run.scheduled_for)).toEqual([
      '2026-10-26T08:00:00.000Z',
      '2026-10-25T08:00:00.000Z',
      '2026-10-24T07:00:00.000Z',
    ]);
  });

  it('gives {{last_output}} the previous answer', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'Diff', prompt: 'Before: {{last_output}}', interval_seconds: 600 });
    perch.upstream.enqueue({ kind: 'answer', text: 'first answer' }, { kind: 'answer', text: 'second answer' });
    clock.advance(600_000);
    await perch.service.core.jobs.settled(job.id);
    expect(lastPrompt(perch)).toBe('Before: (there is no earlier output yet)');
    clock.advance(600_000);
    await perch.service.core.jobs.settled(job.id);
    expect(lastPrompt(perch)).toBe('Before: first answer');
  });

  it('records a failed run with its error and keeps the schedule', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    perch.upstream.enqueue({ kind: 'http-error', status: 500, type: 'api_error', message: 'upstream exploded' });
    clock.advance(60_000);
    await perch.service.core.jobs.settled(job.id);
    clock.advance(60_000);
    await perch.service.core.jobs.settled(job.id);
    const runs = await runsOf(perch, job.id);
    expect(runs.map((run) => run.status)).toEqual(['succeeded', 'failed']);
    expect(runs[1]?.error).toContain('upstream exploded');
  });

  it('records what a run cut by an upstream drop used: the tokens of the text that arrived, marked as estimated', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    const arrived = 'The first part of the report. '.repeat(20);
    perch.upstream.enqueue({ kind: 'cut', textBefore: arrived });
    clock.advance(60_000);
    await perch.service.core.jobs.settled(job.id);
    const [run] = await runsOf(perch, job.id);
    expect(run).toMatchObject({ status: 'failed', output: arrived });
    expect(run?.usage).toMatchObject({ output_tokens: arrived.length / 4, estimated: true });
    expect(run?.cost_usd).toBeGreaterThan(0);
    expect(run?.error).toBe('Anthropic closed the connection before the answer finished.');
    const [row] = perch.service.core.usage.recent(10).filter((candidate) => candidate.source === 'jobs');
    expect(row).toMatchObject({ output_tokens: arrived.length / 4, estimated: 1, cost_usd: run?.cost_usd });
  });

  it('never overlaps runs of one job: an occurrence during a run is recorded as missed', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    perch.service.core.settings.set('claude.timeoutSeconds', 1);
    const job = await createJob(perch, { name: 'slow', prompt: 'p', interval_seconds: 60 });
    perch.upstream.enqueue({ kind: 'stall' });
    clock.advance(60_000);
    await expect.poll(() => perch.upstream.messageRequests.length).toBe(1);
    clock.advance(60_000);
    expect((await perch.request(`/api/v1/jobs/${job.id}/run`, { method: 'POST' })).status).toBe(409);
    await perch.service.core.jobs.settled(job.id);
    const runs = await runsOf(perch, job.id);
    expect(runs.find((run) => run.status === 'missed')?.error).toContain('previous run of this job was still going');
    expect(perch.upstream.messageRequests).toHaveLength(1);
  });

  it('caps how many runs ask Claude at once', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    perch.service.core.settings.set('jobs.maxConcurrentRuns', 1);
    const slow = { kind: 'answer', text: 'a slow answer in several pieces', chunks: 4, delayMs: 60 } as const;
    perch.upstream.enqueue(slow, slow);
    const first = await createJob(perch, { name: 'one', prompt: 'p1', interval_seconds: 60 });
    const second = await createJob(perch, { name: 'two', prompt: 'p2', interval_seconds: 60 });
    clock.advance(60_000);
    await expect.poll(() => perch.upstream.messageRequests.length).toBe(1);
    // The first answer takes ~240 ms; the second job waits for its slot meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(perch.upstream.messageRequests).toHaveLength(1);
    await perch.service.core.jobs.settled(first.id);
    await perch.service.core.jobs.settled(second.id);
    expect(perch.upstream.messageRequests).toHaveLength(2);
  });
});

describe('missed runs', () => {
  it('runs once, late, after the computer slept through several occurrences — never a burst', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'hourly', prompt: 'p', cron: '0 * * * *', timezone: 'UTC' });
    clock.sleep(5 * HOUR + 20 * 60_000);
    clock.wake();
    await perch.service.core.jobs.settled(job.id);
    const runs = await runsOf(perch, job.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'catch_up', status: 'succeeded', scheduled_for: '2026-03-27T13:00:00.000Z' });
    const after = (await (await perch.request(`/api/v1/jobs/${job.id}`)).json()) as Job;
    expect(after.next_run_at).toBe('2026-03-27T18:00:00.000Z');
  });

  it('records the miss and asks nothing when the policy is skip', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'hourly', prompt: 'p', cron: '0 * * * *', timezone: 'UTC', missed: 'skip' });
    clock.sleep(3 * HOUR);
    clock.wake();
    const runs = await runsOf(perch, job.id);
    expect(runs.map((run) => run.status)).toEqual(['missed']);
    expect(perch.upstream.messageRequests).toHaveLength(0);
  });

  it('catches up once when Perch starts after being off past a run', async () => {
    const dataDir = temporaryDataDir();
    const clock = new FakeClock(FRIDAY_NOON);
    const first = await perchAt(clock, recordingOutputs(), dataDir);
    const job = await createJob(first.perch, { name: 'daily', prompt: 'p', cron: '0 9 * * *', timezone: 'UTC' });
    await first.perch.service.stop();
    clock.sleep(3 * DAY);
    const { perch } = await perchAt(clock, recordingOutputs(), dataDir);
    await perch.service.core.jobs.settled(job.id);
    const runs = await runsOf(perch, job.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.trigger).toBe('catch_up');
  });
});

describe('outputs', () => {
  it('appends to a file and posts to a URL besides keeping the history', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch, outputs } = await perchAt(clock);
    const job = await createJob(perch, {
      name: 'Report',
      prompt: 'p',
      interval_seconds: 60,
      output: { file: 'report.md', url: 'https://hooks.slack.test/T1/B2/x' },
    });
    perch.upstream.enqueue({ kind: 'answer', text: 'The report.' });
    clock.advance(60_000);
    await perch.service.core.jobs.settled(job.id);
    // A name goes into Perch's outputs folder.
    expect(outputs.files).toEqual([
      [
        path.join(realpathSync(perch.dataDir), 'outputs', 'report.md'),
        `## Report — ${new Date(clock.now()).toISOString()}\n\nThe report.\n\n`,
      ],
    ]);
    expect(outputs.posts).toEqual([
      ['https://hooks.slack.test/T1/B2/x', { text: '*Report*\nThe report.', job: 'Report', output: 'The report.' }],
    ]);
    const [run] = await runsOf(perch, job.id);
    expect(run?.delivery).toEqual({ file: 'appended', url: 'delivered (HTTP 200)' });
  });

  it('posts for real over HTTP, retrying once when the receiver fails', async () => {
    const received: unknown[] = [];
    let failures = 1;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (failures-- > 0) {
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const perch = await startTestPerch({ desktopSecret: 'desktop' });
      started.push(perch);
      // A receiver on this machine: only a job saved in the desktop app may post there.
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await perch.request('/api/v1/jobs', {
        json: { name: 'Ping', prompt: 'p', interval_seconds: 3600, output: { url } },
        headers: { 'x-perch-desktop': 'desktop' },
      });
      expect(created.status).toBe(201);
      const job = (await created.json()) as { id: string };
      perch.upstream.enqueue({ kind: 'answer', text: 'pong' });
      expect((await perch.request(`/api/v1/jobs/${job.id}/run`, { method: 'POST' })).status).toBe(202);
      await perch.service.core.jobs.settled(job.id);
      expect(received).toEqual([{ text: '*Ping*\npong', job: 'Ping', output: 'pong' }]);
      expect((await runsOf(perch, job.id))[0]?.delivery).toEqual({ url: 'delivered (HTTP 200)' });
    } finally {
      receiver.close();
    }
  });
});

describe('managing jobs', () => {
  it('runs a job now on request and records it as manual', async () => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const job = await createJob(perch, { name: 'x', prompt: 'p', cron: '0 9 * * *' });
    const res = await perch.request(`/api/v1/jobs/${job.id}/run`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { run: Run }).run).toMatchObject({ trigger: 'manual', status: 'running' });
    await perch.service.core.jobs.settled(job.id);
    expect((await runsOf(perch, job.id))[0]).toMatchObject({ trigger: 'manual', status: 'succeeded' });
  });

  it('stops running when disabled, and starts again when enabled', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    const disabled = (await (
      await perch.request(`/api/v1/jobs/${job.id}`, { method: 'PATCH', json: { enabled: false } })
    ).json()) as Job;
    expect(disabled).toMatchObject({ enabled: false, next_run_at: null });
    clock.advance(10 * 60_000);
    expect(perch.upstream.messageRequests).toHaveLength(0);
    const enabled = (await (
      await perch.request(`/api/v1/jobs/${job.id}`, { method: 'PATCH', json: { enabled: true } })
    ).json()) as Job;
    expect(enabled.next_run_at).not.toBeNull();
    clock.advance(60_000);
    await perch.service.core.jobs.settled(job.id);
    expect(perch.upstream.messageRequests).toHaveLength(1);
  });

  it('switches a job from an interval to a cron schedule with one field', async () => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    const res = await perch.request(`/api/v1/jobs/${job.id}`, { method: 'PATCH', json: { cron: '0 18 * * *', timezone: 'UTC' } });
    expect(await res.json()).toMatchObject({
      cron: '0 18 * * *',
      interval_seconds: null,
      next_run_at: '2026-03-27T18:00:00.000Z',
    });
  });

  it('deletes a job with its history', async () => {
    const { perch } = await perchAt(new FakeClock(FRIDAY_NOON));
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    expect((await perch.request(`/api/v1/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await perch.request(`/api/v1/jobs/${job.id}`)).status).toBe(404);
    expect((await perch.request(`/api/v1/jobs/${job.id}/runs`)).status).toBe(404);
  });

  it('pages through runs newest first', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    const { perch } = await perchAt(clock);
    const job = await createJob(perch, { name: 'x', prompt: 'p', interval_seconds: 60 });
    for (let round = 0; round < 3; round += 1) {
      clock.advance(60_000);
      await perch.service.core.jobs.settled(job.id);
    }
    const page1 = (await (await perch.request(`/api/v1/jobs/${job.id}/runs?limit=2`)).json()) as {
      runs: Run[];
      has_more: boolean;
    };
    const page2 = (await (await perch.request(`/api/v1/jobs/${job.id}/runs?limit=2&before=${page1.runs[1]?.id}`)).json()) as {
      runs: Run[];
      has_more: boolean;
    };
    expect([page1.runs.length, page1.has_more, page2.runs.length, page2.has_more]).toEqual([2, true, 1, false]);
  });

  it('needs no timer at all while there are no jobs (nothing polls)', async () => {
    const clock = new FakeClock(FRIDAY_NOON);
    await perchAt(clock);
    expect(clock.pendingTimers).toBe(0);
  });
});

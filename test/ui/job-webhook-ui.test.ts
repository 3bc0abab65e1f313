import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Locator, Page, Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { signIn, useBrowserTests } from './stack.js';

/*
 * A job run by a signed webhook, in Chromium against `perch serve`: made in the job form with no
 * schedule, its address and secret on its card, and a signed POST that runs it and shows in its history.
 */

const ui = useBrowserTests();
const { page, api } = ui;

interface Job {
  id: string;
  name: string;
  cron: string | null;
  interval_seconds: number | null;
  next_run_at: string | null;
  webhook: { path: string; secret: string } | null;
}

interface JobRun {
  id: string;
  trigger: string;
  status: string;
  output: string | null;
}

async function jobNamed(name: string): Promise<Job> {
  const { jobs } = (await (await api('/api/v1/jobs')).json()) as { jobs: Job[] };
  const job = jobs.find((candidate) => candidate.name === name);
  if (!job) throw new Error(`No job named '${name}'.`);
  return job;
}

/** Waits for the job's newest run to finish; resolves with it. */
async function finishedRun(jobId: string): Promise<JobRun> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { runs } = (await (await api(`/api/v1/jobs/${jobId}/runs?limit=1`)).json()) as { runs: JobRun[] };
    const run = runs[0];
    if (run && run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The run of job ${jobId} did not finish within 10 seconds.`);
}

/** The signature a sender puts in X-Perch-Signature-256: the HMAC-SHA256 of the exact body, keyed with the secret. */
const signatureOf = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Posts `body` to a job's webhook as another program does, signed with `secret`. */
const callWebhook = (job: Job, body: string, signature: string | undefined): Promise<Response> =>
  fetch(`${ui.stack.url}${job.webhook?.path ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'x-perch-signature-256': signature } : {}) },
    body,
  });

async function openJobs(p: Page): Promise<void> {
  await signIn(p, ui.stack, '#/jobs');
  await p.goto(`${ui.stack.url}/#/jobs`);
  await p.getByRole('heading', { level: 1 }).waitFor();
}

const cardOf = (p: Page, name: string): Locator =>
  p.getByRole('listitem').filter({ has: p.getByRole('heading', { name, exact: true }) });

/** The text of whatever describes a control (its message or its hints). */
const descriptionOf = (control: Locator): Promise<string> =>
  control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );

const WEBHOOK_CHOICE = 'Run when a signed request arrives (webhook)';
const NO_SCHEDULE = 'No schedule (webhook only)';

/** Fills a new job in the form as one its webhook alone runs (the form left open, not yet saved). */
async function fillWebhookOnlyJob(p: Page, name: string, prompt: string): Promise<Locator> {
  await p.getByRole('button', { name: 'New job' }).click();
  const form = p.getByRole('form', { name: 'New job' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Prompt').fill(prompt);
  await form.getByLabel(WEBHOOK_CHOICE).check();
  await form.getByLabel(NO_SCHEDULE).check();
  return form;
}

const hasShellTools = ['/usr/bin/openssl', '/usr/bin/curl', '/bin/bash'].every((tool) => existsSync(tool));

describe('a job run by its webhook', () => {
  it('is made in the form with no schedule, and its card shows the address, the secret and how to call it', async () => {
    const p = await page();
    await openJobs(p);
    const posts: Request[] = [];
    p.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/jobs') posts.push(request);
    });
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    // "No schedule" is a choice only once the webhook is on.
    expect(await form.getByLabel(NO_SCHEDULE).count()).toBe(0);
    const webhook = form.getByLabel(WEBHOOK_CHOICE);
    expect(await descriptionOf(webhook)).toContain('what it sends fills {{payload}}');
    await webhook.check();
    expect(await descriptionOf(form.getByLabel('Prompt'))).toContain('{{payload}}');
    await form.getByLabel(NO_SCHEDULE).check();
    expect(await form.getByLabel('Cron expression').count()).toBe(0);
    expect(await form.getByLabel('If a run is missed (computer asleep, Perch off)').count()).toBe(0);
    // Turning the webhook off takes the choice away and goes back to a schedule.
    await webhook.uncheck();
    expect(await form.getByLabel(NO_SCHEDULE).count()).toBe(0);
    expect(await form.getByLabel('On a schedule (cron)').isChecked()).toBe(true);
    await form.getByLabel('Cron expression').waitFor();

    await form.getByLabel('Name').fill('Deploy notes');
    await form.getByLabel('Prompt').fill('Write release notes for this deploy: {{payload}}');
    await webhook.check();
    await form.getByLabel(NO_SCHEDULE).check();
    await form.getByRole('button', { name: 'Create job' }).click();
    await form.waitFor({ state: 'detached' });

    expect(posts).toHaveLength(1);
    const sent = posts[0]?.postDataJSON() as Record<string, unknown>;
    expect(sent).toMatchObject({ name: 'Deploy notes', webhook: true, cron: null, interval_seconds: null });
    expect(sent).not.toHaveProperty('timezone');

    const job = await jobNamed('Deploy notes');
    expect(job.cron).toBeNull();
    expect(job.interval_seconds).toBeNull();
    expect(job.next_run_at).toBeNull();
    const secret = job.webhook?.secret ?? '';
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const address = `${ui.stack.url}/webhook/jobs/${job.id}`;

    const card = cardOf(p, 'Deploy notes');
    await expect.poll(() => card.locator('.job-title .hint').textContent()).toBe('Runs when its webhook is called');
    const hook = card.getByRole('region', { name: 'Webhook' });
    expect(await hook.getByRole('status', { name: 'Address' }).textContent()).toBe(address);
    // The secret stays hidden until asked for.
    expect(await card.textContent()).not.toContain(secret);
    await hook.getByRole('button', { name: 'Show secret' }).click();
    expect(await hook.getByRole('status', { name: 'Secret' }).textContent()).toBe(secret);
    const copySecret = hook.getByRole('button', { name: 'Copy the secret' });
    await copySecret.click();
    await expect.poll(() => copySecret.textContent()).toBe('Copied');
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await hook.getByRole('button', { name: 'Hide secret' }).click();
    expect(await card.textContent()).not.toContain(secret);

    await hook.getByText('How to call it').click();
    const example = (await hook.locator('.webhook-example').textContent()) ?? '';
    expect(example).toContain(address);
    expect(example).toContain('X-Perch-Signature-256: sha256=$sig');
    // Shown without the secret while it is hidden; copied whole, so it works as pasted.
    expect(example).not.toContain(secret);
    const copyCommand = hook.getByRole('button', { name: 'Copy the command' });
    await copyCommand.click();
    await expect.poll(() => copyCommand.textContent()).toBe('Copied');
    const command = await p.evaluate(() => navigator.clipboard.readText());
    expect(command).toContain(`secret='${secret}'`);
    expect(command).toContain(address);

    // Edited again, the form opens as it was saved; turning the webhook off says what that costs.
    await card.getByRole('button', { name: 'Edit' }).click();
    const edit = p.getByRole('form', { name: 'Edit Deploy notes' });
    expect(await edit.getByLabel(WEBHOOK_CHOICE).isChecked()).toBe(true);
    expect(await edit.getByLabel(NO_SCHEDULE).isChecked()).toBe(true);
    await edit.getByLabel(WEBHOOK_CHOICE).uncheck();
    expect(await descriptionOf(edit.getByLabel(WEBHOOK_CHOICE))).toContain('turning it on again later makes a new secret');
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await edit.waitFor({ state: 'detached' });

    // Nothing on the card is wider than a phone.
    await p.setViewportSize({ width: 390, height: 844 });
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    if (hasShellTools) {
      // The command as copied runs the job: what the card says is how it is called.
      const { stdout } = await promisify(execFile)('bash', ['-c', command], { timeout: 10_000 });
      const answer = JSON.parse(stdout) as { run: JobRun };
      expect(answer.run.trigger).toBe('webhook');
      expect((await finishedRun(job.id)).status).toBe('succeeded');
    }
  });

  it('runs when a signed request arrives, and its history says so with the answer', async () => {
    const job = (await (
      await api('/api/v1/jobs', {
        json: {
          name: 'CI summary',
          prompt: 'Summarise this CI result: {{payload}}',
          webhook: true,
          cron: null,
          interval_seconds: null,
        },
      })
    ).json()) as Job;
    const secret = job.webhook?.secret ?? '';
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const body = JSON.stringify({ build: 1234, status: 'passed', fixed: ['login', 'export', 'search'] });

    // Unsigned, or signed with another key: refused, and nothing runs.
    expect((await callWebhook(job, body, undefined)).status).toBe(401);
    expect((await callWebhook(job, body, signatureOf('0'.repeat(64), body))).status).toBe(401);
    const before = (await (await api(`/api/v1/jobs/${job.id}/runs`)).json()) as { runs: JobRun[] };
    expect(before.runs).toHaveLength(0);

    ui.stack.upstream.enqueue({ kind: 'answer', text: '**Build 1234** passed: login, export and search are fixed.' });
    const response = await callWebhook(job, body, signatureOf(secret, body));
    expect(response.status).toBe(202);
    const { run } = (await response.json()) as { run: JobRun };
    expect(run.trigger).toBe('webhook');
    const finished = await finishedRun(job.id);
    expect(finished).toMatchObject({ id: run.id, status: 'succeeded' });
    // What was posted filled {{payload}} in the prompt Claude was asked.
    expect(ui.stack.upstream.messageRequests.at(-1)?.rawBody).toContain(JSON.stringify(body).slice(1, -1));

    const p = await page();
    await openJobs(p);
    const card = cardOf(p, 'CI summary');
    await card.getByRole('button', { name: 'History' }).click();
    const history = card.getByRole('list', { name: 'History of CI summary' });
    const entry = history.getByRole('listitem').filter({ hasText: 'run by webhook' });
    await entry.locator('.run-output strong', { hasText: 'Build 1234' }).waitFor();
    expect(await entry.locator('.run-output').textContent()).toContain('login, export and search are fixed');

    // Paused on its card, a webhook-only job says so, and a signed request is turned away.
    // The box follows the saved job: it turns off once the service has paused it.
    await card.getByLabel('Enabled').click();
    await expect.poll(() => card.locator('.job-title .hint').textContent()).toBe('Runs when its webhook is called · paused');
    const refused = await callWebhook(job, body, signatureOf(secret, body));
    expect(refused.status).toBe(409);
  });
});

describe('screenshots to look at', () => {
  const lookDir = path.join(os.tmpdir(), 'perch-screenshots');

  it.each([
    ['light', 1280, 1300],
    ['dark', 1280, 1300],
    ['phone-light', 390, 2000],
    ['phone-dark', 390, 2000],
  ] as const)('captures the webhook form and card (%s)', async (name, width, height) => {
    mkdirSync(lookDir, { recursive: true });
    const colorScheme = name.endsWith('dark') ? 'dark' : 'light';
    const p = await page({ colorScheme, width, height });
    await openJobs(p);
    const card = cardOf(p, 'Deploy notes');
    const hook = card.getByRole('region', { name: 'Webhook' });
    await hook.getByRole('button', { name: 'Show secret' }).click();
    await hook.getByText('How to call it').click();
    await card.getByRole('button', { name: 'History' }).click();
    await card.locator('.run-head').or(card.getByText('No runs yet.')).first().waitFor();
    await p.waitForTimeout(300);
    await p.screenshot({ path: path.join(lookDir, `webhook-card-${name}.png`) });
    if (width < 600) expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);

    const form = await fillWebhookOnlyJob(p, 'Triage new issues', 'Triage this issue: {{payload}}');
    await p.waitForTimeout(200);
    await p.screenshot({ path: path.join(lookDir, `webhook-form-${name}.png`) });
    await form.getByRole('button', { name: 'Cancel' }).click();
  });
});

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { FieldChecks, PerchError } from '../errors.js';
import { namesNonPublicHost } from '../network-reach.js';
import type { ChangeOrigin } from '../settings/change-policy.js';
import type { Clock } from '../clock.js';
import type { WorkspaceStore } from '../tasks/workspaces.js';
import {
  jobJson,
  runJson,
  type JobOutput,
  type JobRecord,
  type JobStore,
  type JobTask,
  type MissedPolicy,
  type NewJob,
} from './job-store.js';
import { resolveOutputFile, validOutputUrl } from './outputs.js';
import { systemTimeZone, validateCron, validateTimeZone } from './schedule.js';
import type { JobScheduler } from './scheduler.js';

/** A job as a client describes it (POST body, or the changes of a PATCH). */
export interface JobInput {
  name?: string | undefined;
  prompt?: string | undefined;
  cron?: string | null | undefined;
  timezone?: string | null | undefined;
  interval_seconds?: number | null | undefined;
  model?: string | null | undefined;
  system?: string | null | undefined;
  enabled?: boolean | undefined;
  /** true: a signed POST to /webhook/jobs/<id> runs the job (a schedule is then optional). */
  webhook?: boolean | undefined;
  missed?: MissedPolicy | undefined;
  output?: JobOutput | undefined;
  /** Run the prompt as a task in this workspace (id, name or path); null: ask Claude once. */
  task?:
    | { workspace: string; permission_mode?: JobTask['permission_mode'] | undefined; allowed_tools?: string[] | undefined }
    | null
    | undefined;
}

/**
 * Checks where a job's results go. A client may write only inside Perch's outputs folder and
 * post only to public addresses; the desktop app (like the CLI, trusted with the person's files)
 * may choose any file or address, and its choice is marked trusted for delivery.
 */
function validOutput(output: JobOutput, origin: ChangeOrigin, outputsDir: string): JobOutput {
  // Trust is never taken from a client: only the places the results go.
  const requested: JobOutput = {
    ...(output.notify !== undefined ? { notify: output.notify } : {}),
    ...(output.file !== undefined ? { file: output.file } : {}),
    ...(output.url !== undefined ? { url: output.url } : {}),
  };
  const desktopCommand = 'save the job in the Perch desktop app';
  const checks = new FieldChecks();
  if (requested.file !== undefined) {
    const file = requested.file;
    const target = resolveOutputFile(file, outputsDir);
    if (!target.inside && !path.isAbsolute(file)) {
      checks.add('output.file', `'${file}' leads out of Perch's outputs folder; give a name such as "morning.md".`);
    } else if (!target.inside && origin !== 'desktop') {
      throw new PerchError(
        'forbidden_output',
        403,
        `A job made through the API writes only inside Perch's outputs folder (${outputsDir}): give 'output.file' a name such as "morning.md". To append to ${file}, ${desktopCommand}.`,
        {
          fields: [
            {
              field: 'output.file',
              message: `Give a name such as "morning.md": it goes in Perch's outputs folder. To append to ${file}, ${desktopCommand}.`,
            },
          ],
        },
      );
    }
  }
  if (requested.url !== undefined) {
    const url = checks.check(() => validOutputUrl(requested.url as string));
    if (url && namesNonPublicHost(url) && origin !== 'desktop') {
      throw new PerchError(
        'forbidden_output',
        403,
        `A job made through the API posts only to public addresses, not to ${url.hostname} (this machine or its local network). To post there, ${desktopCommand}.`,
        {
          fields: [
            {
              field: 'output.url',
              message: `Perch posts only to public addresses from here, not to ${url.hostname}. To post there, ${desktopCommand}.`,
            },
          ],
        },
      );
    }
  }
  checks.finish();
  return origin === 'desktop' ? { ...requested, trusted: true } : requested;
}

/** Whether two outputs send results to the same places (trust and unset fields aside). */
function sameOutput(a: JobOutput, b: JobOutput): boolean {
  const places = (output: JobOutput) => ({ notify: output.notify ?? false, file: output.file ?? null, url: output.url ?? null });
  return isDeepStrictEqual(places(a), places(b));
}

/** Checks a whole job, whatever mix of fields made it: exactly one schedule, a real zone, text to send. */
function validJob(job: NewJob, origin: ChangeOrigin, outputsDir: string, outputChanged = true): NewJob {
  // Every wrong field is reported at once, so a form can mark them all together.
  const checks = new FieldChecks();
  if (!job.name.trim()) checks.add('name', 'Give the job a name.');
  if (!job.prompt.trim()) checks.add('prompt', 'The prompt must not be empty.');
  const hasCron = job.cron !== null;
  const hasInterval = job.interval_seconds !== null;
  // A webhook may be the only way a job runs; otherwise it needs exactly one schedule.
  const unscheduledWebhook = !hasCron && !hasInterval && job.webhook_secret !== null;
  if (hasCron === hasInterval && !unscheduledWebhook) {
    const either = hasCron
      ? 'Give one schedule: a cron expression or an interval in seconds, not both.'
      : 'Give a schedule: a cron expression (e.g. "0 9 * * 1-5") or an interval in seconds — or turn on the job\'s webhook.';
    checks.add('cron', either);
    checks.add('interval_seconds', either);
  }
  const output = outputChanged ? checks.check(() => validOutput(job.output, origin, outputsDir)) : job.output;
  if (hasCron && !hasInterval) {
    const cron = checks.check(() => validateCron(job.cron as string));
    const timezone = checks.check(() => validateTimeZone(job.timezone ?? systemTimeZone()));
    checks.finish();
    return { ...job, output: output as JobOutput, cron: cron as string, timezone: timezone as string };
  }
  if (hasInterval && (!Number.isInteger(job.interval_seconds) || (job.interval_seconds as number) < 1)) {
    checks.add('interval_seconds', 'Must be a whole number of seconds, at least 1.');
  }
  const timezone = job.timezone === null ? null : checks.check(() => validateTimeZone(job.timezone as string));
  checks.finish();
  return { ...job, output: output as JobOutput, timezone: timezone as string | null };
}

/** A job's webhook key: 256 random bits, as hex (what people paste into a sender's settings). */
const newWebhookSecret = (): string => randomBytes(32).toString('hex');

/** Scheduled prompts, as the API and the UI manage them. */
export class Jobs {
  constructor(
    private readonly store: JobStore,
    private readonly scheduler: JobScheduler,
    private readonly clock: Clock,
    /** Perch's folder for results: where a job made through the API may write. */
    readonly outputsDir: string,
    private readonly workspaces: WorkspaceStore,
  ) {}

  /** A job's task, with its workspace resolved now (a name or path becomes the workspace's id). */
  private taskOf(input: JobInput['task']): JobTask | null {
    if (!input) return null;
    return {
      workspace_id: this.workspaces.resolve(input.workspace).id,
      permission_mode: input.permission_mode ?? 'default',
      allowed_tools: input.allowed_tools ?? [],
    };
  }

  list(): Array<Record<string, unknown>> {
    return this.store.all().map((job) => jobJson(job, this.scheduler.isRunning(job.id)));
  }

  get(id: string): Record<string, unknown> {
    const job = this.store.require(id);
    return jobJson(job, this.scheduler.isRunning(job.id));
  }

  create(input: JobInput, origin: ChangeOrigin): Record<string, unknown> {
    const job = validJob(
      {
        name: input.name ?? '',
        prompt: input.prompt ?? '',
        cron: input.cron ?? null,
        timezone: input.timezone ?? null,
        interval_seconds: input.interval_seconds ?? null,
        model: input.model ?? null,
        system: input.system ?? null,
        enabled: input.enabled ?? true,
        missed: input.missed ?? 'run_once',
        output: input.output ?? {},
        task: this.taskOf(input.task),
        webhook_secret: input.webhook === true ? newWebhookSecret() : null,
      },
      origin,
      this.outputsDir,
    );
    const now = this.clock.now();
    const created = this.store.create(job, this.scheduler.nextRun({ ...job, last_run_at: null, created_at: now }, now));
    this.scheduler.checkNow();
    return jobJson(created, false);
  }

  /** Changes some fields; the schedule is recomputed from now. */
  update(id: string, changes: JobInput, origin: ChangeOrigin): Record<string, unknown> {
    const current = this.store.require(id);
    const switchesToCron = changes.cron !== undefined && changes.cron !== null;
    const switchesToInterval = changes.interval_seconds !== undefined && changes.interval_seconds !== null;
    const merged: NewJob = validJob(
      {
        name: changes.name ?? current.name,
        prompt: changes.prompt ?? current.prompt,
        // Setting one kind of schedule replaces the other.
        cron: changes.cron !== undefined ? changes.cron : switchesToInterval ? null : current.cron,
        interval_seconds:
          changes.interval_seconds !== undefined ? changes.interval_seconds : switchesToCron ? null : current.interval_seconds,
        timezone: changes.timezone !== undefined ? changes.timezone : current.timezone,
        model: changes.model !== undefined ? changes.model : current.model,
        system: changes.system !== undefined ? changes.system : current.system,
        enabled: changes.enabled ?? current.enabled,
        missed: changes.missed ?? current.missed,
        output: changes.output !== undefined && !sameOutput(changes.output, current.output) ? changes.output : current.output,
        task: changes.task !== undefined ? this.taskOf(changes.task) : current.task,
        // Turning the webhook on keeps a secret it already has; turning it off forgets it.
        webhook_secret:
          changes.webhook === undefined
            ? current.webhook_secret
            : changes.webhook
              ? (current.webhook_secret ?? newWebhookSecret())
              : null,
      },
      origin,
      this.outputsDir,
      // A kept output (or the same one sent back by a form) keeps its trust; a changed one is checked as this client's.
      changes.output !== undefined && !sameOutput(changes.output, current.output),
    );
    const now = this.clock.now();
    const next = this.scheduler.nextRun({ ...merged, last_run_at: current.last_run_at, created_at: current.created_at }, now);
    const updated = this.store.update(id, merged, next);
    this.scheduler.checkNow();
    return jobJson(updated, this.scheduler.isRunning(id));
  }

  remove(id: string): void {
    this.store.remove(id);
    this.scheduler.checkNow();
  }

  runNow(id: string): Record<string, unknown> {
    return runJson(this.scheduler.runNow(id));
  }

  /** The key a job's webhook requests are signed with, or nothing when there is no such job or webhook. */
  webhookSecret(id: string): string | undefined {
    return this.store.find(id)?.webhook_secret ?? undefined;
  }

  /**
   * Runs a job for its webhook (the caller checked the signature with `webhookSecret`); nothing
   * when `claimDelivery` says the delivery was handled before.
   */
  runFromWebhook(id: string, payload: string, claimDelivery?: () => boolean): Record<string, unknown> | undefined {
    const run = this.scheduler.runFromWebhook(id, payload, claimDelivery);
    return run && runJson(run);
  }

  runs(id: string, limit: number, before?: string): { runs: Array<Record<string, unknown>>; has_more: boolean } {
    this.store.require(id);
    const page = this.store.runs(id, limit, before);
    return { runs: page.runs.map(runJson), has_more: page.has_more };
  }

  /** For tests and graceful stops: resolves when the job's current run (if any) is over. */
  settled(id: string): Promise<void> {
    return this.scheduler.settled(id);
  }
}

export type { JobRecord };

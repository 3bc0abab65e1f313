import type { Db } from '../storage/database.js';
import { newId } from '../storage/ids.js';
import { notFound } from '../errors.js';
import type { TokenUsage } from '../claude/pricing.js';
import type { JobSchedule } from './schedule.js';

export type MissedPolicy = 'skip' | 'run_once';
export type RunTrigger = 'schedule' | 'manual' | 'catch_up' | 'webhook';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'missed';

/** Where a job's results go besides its history. */
export interface JobOutput {
  /** A desktop notification (the desktop app shows it). */
  notify?: boolean | undefined;
  /** A file the result is appended to: a name inside Perch's outputs folder, or (saved in the desktop app) any path. */
  file?: string | undefined;
  /** A URL the result is POSTed to as JSON {text, job} (a Slack incoming webhook works). */
  url?: string | undefined;
  /**
   * Saved from the desktop app, so the file may be anywhere and the URL may reach this machine
   * or the local network. Never taken from a client; dropped when a client changes the output.
   */
  trusted?: boolean | undefined;
}

/** A job that runs its prompt as a task: Claude Code at work in a workspace, nobody watching. */
export interface JobTask {
  workspace_id: string;
  /** Never bypassPermissions: an unexpected request pauses the task and tells the person. */
  permission_mode: 'default' | 'acceptEdits' | 'plan';
  /** Tools that run without asking, as Claude Code writes them ("Bash(npm test)"). */
  allowed_tools: string[];
}

/** A job as stored (times in epoch ms). */
export interface JobRecord {
  id: string;
  name: string;
  prompt: string;
  cron: string | null;
  timezone: string | null;
  interval_seconds: number | null;
  model: string | null;
  system: string | null;
  enabled: boolean;
  missed: MissedPolicy;
  output: JobOutput;
  /** Run the prompt as a task instead of asking Claude once. */
  task: JobTask | null;
  /** The key a signed POST to /webhook/jobs/<id> is checked with; null: no webhook. */
  webhook_secret: string | null;
  last_run_at: number | null;
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface RunRecord {
  id: string;
  job_id: string;
  trigger: RunTrigger;
  scheduled_for: number | null;
  started_at: number;
  finished_at: number | null;
  status: RunStatus;
  output: string | null;
  error: string | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** 1 when output_tokens is Perch's estimate (the answer ended before its final count came). */
  usage_estimated: number;
  cost_usd: number | null;
  /** What happened to each output (JSON: {"file": "appended", "url": "HTTP 500 …"}). */
  delivery: string | null;
  /** The task this run started (a job that runs as a task). */
  task_id: string | null;
}

interface JobRow extends Omit<JobRecord, 'enabled' | 'output' | 'task'> {
  enabled: number;
  output: string;
  task: string | null;
}

/** What a new job is made from: everything but its id and the times Perch keeps. */
export type NewJob = Omit<JobRecord, 'id' | 'last_run_at' | 'next_run_at' | 'created_at' | 'updated_at'>;

/** A job's schedule, or null for a job that only its webhook (or a person) runs. */
export function scheduleOf(job: Pick<JobRecord, 'cron' | 'timezone' | 'interval_seconds'>): JobSchedule | null {
  if (job.cron) return { cron: job.cron, timezone: job.timezone ?? 'UTC' };
  return job.interval_seconds === null ? null : { intervalSeconds: job.interval_seconds };
}

/** Where jobs' webhooks are served (the public webhook router, not the token-protected API). */
export const JOB_WEBHOOKS = '/webhook/jobs';

export const jobWebhookPath = (jobId: string): string => `${JOB_WEBHOOKS}/${encodeURIComponent(jobId)}`;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const toJob = (row: JobRow): JobRecord => ({
  ...row,
  enabled: row.enabled === 1,
  output: JSON.parse(row.output) as JobOutput,
  task: row.task === null ? null : (JSON.parse(row.task) as JobTask),
});

/** Jobs and their run history, in SQLite: a restart keeps them and knows when each last ran. */
export class JobStore {
  private readonly statements;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.statements = {
      all: db.prepare<[], JobRow>(`SELECT * FROM jobs ORDER BY created_at, id`),
      one: db.prepare<[string], JobRow>(`SELECT * FROM jobs WHERE id = ?`),
      insert: db.prepare(
        `INSERT INTO jobs (id, name, prompt, cron, timezone, interval_seconds, model, system, enabled, missed, output, task, webhook_secret, next_run_at, created_at, updated_at)
         VALUES (@id, @name, @prompt, @cron, @timezone, @interval_seconds, @model, @system, @enabled, @missed, @output, @task, @webhook_secret, @next_run_at, @now, @now)`,
      ),
      update: db.prepare(
        `UPDATE jobs SET name = @name, prompt = @prompt, cron = @cron, timezone = @timezone, interval_seconds = @interval_seconds,
           model = @model, system = @system, enabled = @enabled, missed = @missed, output = @output, task = @task,
           webhook_secret = @webhook_secret, next_run_at = @next_run_at, updated_at = @now WHERE id = @id`,
      ),
      remove: db.prepare(`DELETE FROM jobs WHERE id = ?`),
      setTimes: db.prepare(`UPDATE jobs SET last_run_at = COALESCE(?, last_run_at), next_run_at = ? WHERE id = ?`),
      startRun: db.prepare(
        `INSERT INTO job_runs (id, job_id, trigger, scheduled_for, started_at, status) VALUES (@id, @job_id, @trigger, @scheduled_for, @started_at, @status)`,
      ),
      finishRun: db.prepare(
        `UPDATE job_runs SET finished_at = @finished_at, status = @status, output = @output, error = @error, model = @model,
           input_tokens = @input_tokens, output_tokens = @output_tokens, usage_estimated = @usage_estimated, cost_usd = @cost_usd,
           delivery = @delivery WHERE id = @id`,
      ),
      runs: db.prepare<[string, number], RunRecord>(
        `SELECT * FROM job_runs WHERE job_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      ),
      runsBefore: db.prepare<[string, number, number, string, number], RunRecord>(
        `SELECT * FROM job_runs WHERE job_id = ? AND (started_at < ? OR (started_at = ? AND id < ?))
         ORDER BY started_at DESC, id DESC LIMIT ?`,
      ),
      run: db.prepare<[string], RunRecord>(`SELECT * FROM job_runs WHERE id = ?`),
      setRunTask: db.prepare(`UPDATE job_runs SET task_id = ? WHERE id = ?`),
      lastOutput: db.prepare<[string], { output: string }>(
        `SELECT output FROM job_runs WHERE job_id = ? AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1`,
      ),
      interrupted: db.prepare(
        `UPDATE job_runs SET status = 'failed', finished_at = ?, error = 'Perch stopped while this run was in progress.' WHERE status = 'running'`,
      ),
    };
  }

  all(): JobRecord[] {
    return this.statements.all.all().map(toJob);
  }

  find(id: string): JobRecord | undefined {
    const row = this.statements.one.get(id);
    return row ? toJob(row) : undefined;
  }

  require(id: string): JobRecord {
    const job = this.find(id);
    if (!job) throw notFound(`No job with id '${id}'. List jobs with GET /api/v1/jobs.`);
    return job;
  }

  create(job: NewJob, nextRunAt: number | null): JobRecord {
    const id = newId('job', this.now());
    this.statements.insert.run(this.rowParams(id, job, nextRunAt));
    return this.require(id);
  }

  update(id: string, job: NewJob, nextRunAt: number | null): JobRecord {
    this.statements.update.run(this.rowParams(id, job, nextRunAt));
    return this.require(id);
  }

  /** A job as the insert and update statements take it. */
  private rowParams(id: string, job: NewJob, nextRunAt: number | null): Record<string, unknown> {
    return {
      ...job,
      id,
      enabled: job.enabled ? 1 : 0,
      output: JSON.stringify(job.output),
      task: job.task === null ? null : JSON.stringify(job.task),
      next_run_at: nextRunAt,
      now: this.now(),
    };
  }

  remove(id: string): void {
    if (this.statements.remove.run(id).changes === 0) throw notFound(`No job with id '${id}'.`);
  }

  setTimes(id: string, lastRunAt: number | null, nextRunAt: number | null): void {
    this.statements.setTimes.run(lastRunAt, nextRunAt, id);
  }

  startRun(jobId: string, trigger: RunTrigger, scheduledFor: number | null, status: RunStatus = 'running'): RunRecord {
    const id = newId('run', this.now());
    this.statements.startRun.run({ id, job_id: jobId, trigger, scheduled_for: scheduledFor, started_at: this.now(), status });
    return this.statements.run.get(id) as RunRecord;
  }

  finishRun(
    id: string,
    result: {
      status: Exclude<RunStatus, 'running'>;
      output?: string | null;
      error?: string | null;
      model?: string | null;
      usage?: TokenUsage | null;
      cost_usd?: number | null;
      delivery?: Record<string, string> | null;
    },
  ): RunRecord | undefined {
    this.statements.finishRun.run({
      id,
      finished_at: this.now(),
      status: result.status,
      output: result.output ?? null,
      error: result.error ?? null,
      model: result.model ?? null,
      input_tokens: result.usage?.input_tokens ?? null,
      output_tokens: result.usage?.output_tokens ?? null,
      usage_estimated: result.usage?.estimated ? 1 : 0,
      cost_usd: result.cost_usd ?? null,
      delivery: result.delivery && Object.keys(result.delivery).length ? JSON.stringify(result.delivery) : null,
    });
    // Undefined when the job (and its history) was deleted while the run went on.
    return this.statements.run.get(id);
  }

  /** Newest first; `before` is the id of the last run of the previous page. */
  runs(jobId: string, limit: number, before?: string): { runs: RunRecord[]; has_more: boolean } {
    let rows: RunRecord[];
    if (before) {
      const cursor = this.statements.run.get(before);
      if (!cursor || cursor.job_id !== jobId) throw notFound(`No run with id '${before}' in this job to page before.`);
      rows = this.statements.runsBefore.all(jobId, cursor.started_at, cursor.started_at, cursor.id, limit + 1);
    } else {
      rows = this.statements.runs.all(jobId, limit + 1);
    }
    return { runs: rows.slice(0, limit), has_more: rows.length > limit };
  }

  /** Links a run to the task it started. */
  setRunTask(runId: string, taskId: string): void {
    this.statements.setRunTask.run(taskId, runId);
  }

  lastOutput(jobId: string): string | null {
    return this.statements.lastOutput.get(jobId)?.output ?? null;
  }

  /** At start: runs a crash left "running" are marked failed (their answer never finished). */
  failInterruptedRuns(): number {
    return this.statements.interrupted.run(this.now()).changes;
  }
}

export function jobJson(job: JobRecord, running: boolean): Record<string, unknown> {
  return {
    id: job.id,
    name: job.name,
    prompt: job.prompt,
    cron: job.cron,
    timezone: job.timezone,
    interval_seconds: job.interval_seconds,
    model: job.model,
    system: job.system,
    enabled: job.enabled,
    missed: job.missed,
    output: { ...job.output, trusted: undefined },
    task:
      job.task === null
        ? null
        : { workspace: job.task.workspace_id, permission_mode: job.task.permission_mode, allowed_tools: job.task.allowed_tools },
    webhook: job.webhook_secret === null ? null : { path: jobWebhookPath(job.id), secret: job.webhook_secret },
    running,
    last_run_at: iso(job.last_run_at),
    next_run_at: iso(job.next_run_at),
    created_at: iso(job.created_at),
    updated_at: iso(job.updated_at),
  };
}

export function runJson(run: RunRecord): Record<string, unknown> {
  const hasUsage = run.input_tokens !== null || run.output_tokens !== null;
  return {
    id: run.id,
    job_id: run.job_id,
    trigger: run.trigger,
    scheduled_for: iso(run.scheduled_for),
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    status: run.status,
    output: run.output,
    error: run.error,
    model: run.model,
    usage: hasUsage
      ? {
          input_tokens: run.input_tokens ?? 0,
          output_tokens: run.output_tokens ?? 0,
          ...(run.usage_estimated ? { estimated: true } : {}),
        }
      : null,
    cost_usd: run.cost_usd,
    delivery: run.delivery ? (JSON.parse(run.delivery) as Record<string, string>) : null,
    task_id: run.task_id,
  };
}

import type { ClaudeClient } from '../claude/claude-client.js';
import { UpstreamFailure } from '../claude/claude-client.js';
import { estimateCostUsd } from '../claude/pricing.js';
import type { Clock } from '../clock.js';
import { PerchError } from '../errors.js';
import type { PerchEventBus } from '../events.js';
import type { Settings } from '../settings/schema.js';
import type { UsageStore } from '../storage/usage-store.js';
import { scheduleOf, type JobRecord, type JobStore, type JobTask, type RunRecord, type RunTrigger } from './job-store.js';
import { deliverOutput, type OutputChannels } from './outputs.js';
import { nextRunAfter, systemTimeZone } from './schedule.js';
import { renderPrompt } from './templates.js';

/** A run this late (the computer slept, Perch was off) follows the job's missed-run policy. */
export const LATE_AFTER_MS = 60_000;
/**
 * The longest the scheduler sleeps between looks at the wall clock. Timers count monotonic
 * time, which stops while a computer sleeps; waking at least this often notices the jump.
 */
export const MAX_TIMER_MS = 60_000;

/** How a job that runs as a task ended: as the task says. */
export interface TaskEnd {
  status: string;
  result: string | null;
  error: { type: string; message: string } | null;
  model: string;
  usage: { input_tokens: number; output_tokens: number };
  cost_usd: number | null;
}

/** How a job that runs as a task starts it, and learns how its turn ended. */
export interface JobTasks {
  start(input: {
    prompt: string;
    workspace: string;
    permission_mode: JobTask['permission_mode'];
    allowed_tools: string[];
    model: string | undefined;
  }): { id: string };
  whenTurnEnds(id: string, signal: AbortSignal): Promise<TaskEnd>;
}

export interface SchedulerOptions {
  store: JobStore;
  claude: ClaudeClient;
  usage: UsageStore;
  events: PerchEventBus;
  settings: () => Settings;
  clock: Clock;
  outputs: OutputChannels;
  /** Perch's own folder for results (a job's relative `output.file` goes there). */
  outputsDir: string;
  /** Tasks, for jobs that run as one (the task service is made after the scheduler). */
  tasks: () => JobTasks;
}

/**
 * Runs scheduled prompts. One timer, armed for the earliest next run (capped so a wall-clock
 * jump is noticed), no polling loop; a job never overlaps itself; at most
 * `jobs.maxConcurrentRuns` runs ask Claude at once; missed runs become one late run or a
 * recorded miss, never a burst.
 */
export class JobScheduler {
  private timer: unknown;
  private expectedAt = 0;
  private started = false;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<RunRecord | undefined> }>();
  /** What the webhook that started a run was sent, by run id, until the run ends ({{payload}}). */
  private readonly payloads = new Map<string, string>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;

  constructor(private readonly options: SchedulerOptions) {}

  /** Applies the missed-run policy to everything that came due while Perch was off, then arms the timer. */
  start(): void {
    this.started = true;
    this.options.store.failInterruptedRuns();
    this.tick();
  }

  /** Call after the computer wakes (the desktop shell forwards power events) or whenever jobs change. */
  checkNow(): void {
    if (this.started) this.tick();
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /** The next time a job runs after `now`, from its schedule. */
  nextRun(
    job: Pick<JobRecord, 'cron' | 'timezone' | 'interval_seconds' | 'enabled' | 'last_run_at' | 'created_at'>,
    now: number,
  ): number | null {
    const schedule = scheduleOf(job);
    if (!job.enabled || !schedule) return null;
    return nextRunAfter(schedule, now, job.last_run_at ?? job.created_at);
  }

  /** The job, unless it is running: runs of one job never overlap. */
  private notRunning(jobId: string): JobRecord {
    const job = this.options.store.require(jobId);
    if (this.running.has(job.id)) {
      throw new PerchError('job_running', 409, `'${job.name}' is running already; runs of one job never overlap.`);
    }
    return job;
  }

  /** Runs a job now (a person pressed "Run now"); refuses if it is already running. */
  runNow(jobId: string): RunRecord {
    return this.launch(this.notRunning(jobId), 'manual', null).run;
  }

  /**
   * Runs a job because its webhook was called (the signature was checked by the caller): the
   * request's body fills {{payload}}. Refused, like Run now, while the job runs; and while it is
   * disabled, since turning a job off should stop every way it runs. `claimDelivery` says whether
   * this delivery is new (false: a redelivery, already run — nothing happens).
   */
  runFromWebhook(jobId: string, payload: string, claimDelivery: () => boolean = () => true): RunRecord | undefined {
    const job = this.options.store.require(jobId);
    if (!job.enabled) {
      throw new PerchError('job_disabled', 409, `'${job.name}' is disabled; enable it to let its webhook run it.`);
    }
    this.notRunning(job.id);
    // Claimed only once the job can run, so a refused delivery can be sent again and count.
    if (!claimDelivery()) return undefined;
    return this.launch(job, 'webhook', null, payload).run;
  }

  /** Waits for a job's current run (tests and graceful stops use it). */
  async settled(jobId: string): Promise<void> {
    await this.running.get(jobId)?.done;
  }

  /** Stops the timer and lets runs in flight finish for `graceMs`, then cancels the rest. */
  async stop(graceMs: number): Promise<void> {
    this.started = false;
    this.options.clock.clearTimeout(this.timer);
    const all = [...this.running.values()];
    if (all.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.allSettled(all.map((entry) => entry.done)).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      for (const entry of all) entry.controller.abort();
      await Promise.allSettled(all.map((entry) => entry.done));
    }
  }

  /** Looks at the clock: starts what is due, handles what was missed, re-arms the timer. */
  private tick(): void {
    const { store, clock } = this.options;
    this.options.clock.clearTimeout(this.timer);
    const now = clock.now();
    for (const job of store.all()) {
      if (!job.enabled || job.next_run_at === null || job.next_run_at > now) continue;
      this.dispatch(job, now);
    }
    this.arm();
  }

  private dispatch(job: JobRecord, now: number): void {
    const { store } = this.options;
    const due = job.next_run_at as number;
    const late = now - due > LATE_AFTER_MS;
    // Whatever happens to this occurrence, the next one is in the future: never a burst.
    store.setTimes(job.id, null, this.nextRun(job, now));
    if (this.running.has(job.id)) {
      const missed = store.startRun(job.id, 'schedule', due, 'missed');
      store.finishRun(missed.id, { status: 'missed', error: 'Skipped: the previous run of this job was still going.' });
      return;
    }
    if (late && job.missed === 'skip') {
      const missed = store.startRun(job.id, 'schedule', due, 'missed');
      store.finishRun(missed.id, { status: 'missed', error: 'Missed while Perch was off or the computer slept (policy: skip).' });
      return;
    }
    this.launch(job, late ? 'catch_up' : 'schedule', due);
  }

  private arm(): void {
    const { store, clock } = this.options;
    let earliest: number | null = null;
    for (const job of store.all()) {
      if (job.enabled && job.next_run_at !== null && (earliest === null || job.next_run_at < earliest))
        earliest = job.next_run_at;
    }
    if (earliest === null || !this.started) return;
    const now = clock.now();
    const delay = Math.min(Math.max(0, earliest - now), MAX_TIMER_MS);
    this.expectedAt = now + delay;
    this.timer = clock.setTimeout(() => this.tick(), delay);
  }

  private launch(job: JobRecord, trigger: RunTrigger, scheduledFor: number | null, payload?: string): { run: RunRecord } {
    const run = this.options.store.startRun(job.id, trigger, scheduledFor);
    if (payload !== undefined) this.payloads.set(run.id, payload);
    const controller = new AbortController();
    const done = this.execute(job, run, controller.signal).finally(() => {
      this.running.delete(job.id);
      this.payloads.delete(run.id);
    });
    this.running.set(job.id, { controller, done });
    return { run };
  }

  private async slot(): Promise<void> {
    if (this.active < this.options.settings().jobs.maxConcurrentRuns) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
  }

  private release(): void {
    this.active -= 1;
    this.waiting.shift()?.();
  }

  private async execute(job: JobRecord, run: RunRecord, signal: AbortSignal): Promise<RunRecord | undefined> {
    const finished = job.task ? await this.executeAsTask(job, job.task, run, signal) : await this.ask(job, run, signal);
    // The job was deleted meanwhile: nothing is left to record or announce.
    if (!finished) return undefined;
    const { store, events } = this.options;
    store.setTimes(job.id, run.started_at, store.find(job.id)?.next_run_at ?? null);
    events.emit('job:finished', {
      job_id: job.id,
      job_name: job.name,
      run_id: finished.id,
      status: finished.status === 'succeeded' ? 'succeeded' : 'failed',
      notify: job.output.notify === true,
      summary: (finished.output ?? finished.error ?? '').slice(0, 200),
    });
    return finished;
  }

  private renderedPrompt(job: JobRecord, run: RunRecord): string {
    const { store, clock } = this.options;
    return renderPrompt(job.prompt, {
      now: clock.now(),
      timezone: job.timezone ?? systemTimeZone(),
      lastOutput: store.lastOutput(job.id),
      payload: this.payloads.get(run.id) ?? null,
    });
  }

  /**
   * A run as a task: Claude Code at work in the job's workspace, with nobody watching. It takes
   * no slot of jobs.maxConcurrentRuns (tasks have their own bound, tasks.maxConcurrent) and the run
   * lasts as long as the task's turn. A permission request pauses the task and tells the person
   * (tasks.approvalTimeoutMinutes later it counts as not allowed); meanwhile the job's scheduled
   * times still come, and each is recorded as missed — a job never runs twice at once, and never
   * piles up tasks waiting for someone.
   */
  private async executeAsTask(
    job: JobRecord,
    task: JobTask,
    run: RunRecord,
    signal: AbortSignal,
  ): Promise<RunRecord | undefined> {
    const { store, clock, outputs, outputsDir } = this.options;
    const tasks = this.options.tasks();
    try {
      const started = tasks.start({
        prompt: this.renderedPrompt(job, run),
        workspace: task.workspace_id,
        permission_mode: task.permission_mode,
        allowed_tools: task.allowed_tools,
        model: job.model ?? undefined,
      });
      store.setRunTask(run.id, started.id);
      const ended = await tasks.whenTurnEnds(started.id, signal);
      if (ended.status !== 'done') {
        return store.finishRun(run.id, {
          status: 'failed',
          output: ended.result,
          error: ended.error?.message ?? `The task was ${ended.status}.`,
          model: ended.model,
          usage: ended.usage,
          cost_usd: ended.cost_usd,
        });
      }
      const text = ended.result ?? '';
      const delivery = await deliverOutput(job.output, { jobName: job.name, text, finishedAt: clock.now() }, outputs, outputsDir);
      return store.finishRun(run.id, {
        status: 'succeeded',
        output: text,
        model: ended.model,
        usage: ended.usage,
        cost_usd: ended.cost_usd,
        delivery,
      });
    } catch (error) {
      const message = signal.aborted
        ? 'Perch stopped while the task of this run was going; the task was stopped too.'
        : (error as Error).message;
      return store.finishRun(run.id, { status: 'failed', error: message });
    }
  }

  /** A run that asks Claude once, taking one of jobs.maxConcurrentRuns slots. */
  private async ask(job: JobRecord, run: RunRecord, signal: AbortSignal): Promise<RunRecord | undefined> {
    const { store, claude, usage, settings, clock, outputs, outputsDir } = this.options;
    await this.slot();
    let finished: RunRecord | undefined;
    try {
      const { claude: defaults } = settings();
      const prompt = this.renderedPrompt(job, run);
      const answer = await claude.stream(
        {
          model: job.model ?? defaults.model,
          max_tokens: defaults.maxTokens,
          ...(job.system ? { system: job.system } : {}),
          messages: [{ role: 'user', content: prompt }],
        },
        { signal },
      );
      usage.record({ source: 'jobs', model: answer.model, usage: answer.usage });
      const delivery = await deliverOutput(
        job.output,
        { jobName: job.name, text: answer.text, finishedAt: clock.now() },
        outputs,
        outputsDir,
      );
      finished = store.finishRun(run.id, {
        status: 'succeeded',
        output: answer.text,
        model: answer.model,
        usage: answer.usage,
        cost_usd: estimateCostUsd(answer.model, answer.usage),
        delivery,
      });
    } catch (error) {
      const failure = error instanceof PerchError ? error : new PerchError('internal_error', 500, (error as Error).message);
      const partial = error instanceof UpstreamFailure ? error : undefined;
      if (partial && (partial.usage.input_tokens > 0 || partial.usage.output_tokens > 0)) {
        usage.record({ source: 'jobs', model: partial.model, usage: partial.usage });
      }
      finished = store.finishRun(run.id, {
        status: 'failed',
        output: partial?.partialText || null,
        error: failure.message,
        model: partial?.model ?? null,
        usage: partial?.usage ?? null,
        cost_usd: partial ? estimateCostUsd(partial.model, partial.usage) : null,
      });
    } finally {
      this.release();
    }
    return finished;
  }
}

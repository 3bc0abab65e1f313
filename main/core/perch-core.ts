import { statfsSync } from 'node:fs';
import path from 'node:path';
import { BrowserSessions } from './browser-sessions.js';
import { systemClock, type Clock } from './clock.js';
import { JobStore } from './jobs/job-store.js';
import { Jobs } from './jobs/jobs.js';
import { outputsDirOf, systemOutputChannels, type OutputChannels } from './jobs/outputs.js';
import { JobScheduler } from './jobs/scheduler.js';
import { ClaudeClient, type ClaudeClientOptions, type UpstreamState } from './claude/claude-client.js';
import { ChatService } from './chat/chat-service.js';
import { PerchEventBus } from './events.js';
import { DailyBudget } from './budget.js';
import { DirectoryChanges } from './files/directory-changes.js';
import type { PerchError } from './errors.js';
import { PerchMetrics } from './metrics.js';
import { dataFiles, ensureDataDir } from './paths.js';
import { FileApiKeySource, TokenStore, type ApiKeySource } from './secrets.js';
import { SettingsStore, type RunOverrides } from './settings/settings-store.js';
import type { Settings } from './settings/schema.js';
import { ConversationStore } from './storage/conversation-store.js';
import { openDatabase, type Db } from './storage/database.js';
import { UsageStore } from './storage/usage-store.js';
import { TaskService } from './tasks/task-service.js';
import { defaultRunnerDependencies, type RunnerDependencies } from './tasks/task-runner.js';
import { TaskStore } from './tasks/task-store.js';
import { WorkspaceStore } from './tasks/workspaces.js';
import { UpstreamGate } from './upstream-gate.js';
import { PERCH_VERSION } from './version.js';

export interface PerchCoreOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  overrides?: RunOverrides;
  /** The desktop app supplies a safeStorage-backed source; headless uses the owner-only file. */
  apiKeys?: ApiKeySource;
  /** Retry tuning for the Claude client (tests shorten the waits). */
  claude?: Pick<ClaudeClientOptions, 'maxRetries' | 'streamRetries' | 'streamRetryDelayMs'>;
  onWarning?: (message: string) => void;
  /**
   * A secret the desktop app makes at each launch and gives only to its own windows; requests
   * carrying it may change security settings (bind address, allowed origins, the token).
   */
  desktopSecret?: string | undefined;
  /** Time for schedules and the usage ledger (tests use a fake clock). */
  clock?: Clock;
  /** Where job results go besides history (tests record them). */
  outputs?: OutputChannels;
  /** How task agents are run (tests shorten the waits). */
  taskRunner?: Partial<RunnerDependencies>;
}

export type HealthState = 'ok' | 'degraded' | 'error';

export interface Health {
  status: HealthState;
  version: string;
  checks: {
    database: { status: 'ok' | 'error'; message?: string };
    disk: { status: 'ok' | 'low' | 'full' | 'unknown'; free_mb: number | null };
    upstream: UpstreamState;
  };
}

/** Below this much free space new answers may not be saved: Perch reports itself unable to serve. */
const DISK_FULL_MB = 16;
const DISK_LOW_MB = 256;

/**
 * The domain, assembled: settings, secrets, history, the Claude client and conversations.
 * Plain Node — the desktop shell and `perch serve` both build one of these.
 */
export class PerchCore {
  readonly version = PERCH_VERSION;
  readonly settings: SettingsStore;
  readonly tokens: TokenStore;
  readonly browserSessions: BrowserSessions;
  readonly desktopSecret: string | undefined;
  readonly apiKeys: ApiKeySource;
  readonly db: Db;
  readonly conversations: ConversationStore;
  readonly usage: UsageStore;
  readonly clock: Clock;
  readonly claude: ClaudeClient;
  readonly chat: ChatService;
  readonly jobs: Jobs;
  readonly scheduler: JobScheduler;
  readonly events = new PerchEventBus();
  readonly startedAt = new Date();
  /** Bounds the calls to Claude at once (claude.maxConcurrentRequests); the relay shares it. */
  readonly upstreamGate: UpstreamGate;
  /** The optional daily spending cap (budget.dailyUsd). */
  readonly budget: DailyBudget;
  readonly metrics: PerchMetrics;
  /** The folders tasks may work in. */
  readonly workspaces: WorkspaceStore;
  /** Claude Code's agent at work in those folders. */
  readonly tasks: TaskService;
  private readonly changes: DirectoryChanges;
  private readonly recordHealthCheck: () => void;

  private constructor(
    readonly dataDir: string,
    options: PerchCoreOptions,
  ) {
    const env = options.env ?? process.env;
    this.changes = new DirectoryChanges(dataDir);
    this.settings = new SettingsStore(dataDir, {
      env,
      changes: this.changes,
      ...(options.overrides ? { overrides: options.overrides } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    this.tokens = new TokenStore(dataDir, this.changes);
    this.browserSessions = new BrowserSessions(this.tokens);
    this.desktopSecret = options.desktopSecret;
    this.apiKeys = options.apiKeys ?? new FileApiKeySource(dataDir, env, this.changes);
    this.db = openDatabase(path.join(dataDir, dataFiles.database));
    this.conversations = new ConversationStore(this.db);
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.usage = new UsageStore(this.db, () => clock.now());
    this.upstreamGate = new UpstreamGate({ limit: () => this.settings.current().claude.maxConcurrentRequests });
    this.budget = new DailyBudget({
      limitUsd: () => this.settings.current().budget.dailyUsd,
      spentSince: (sinceMs) => this.usage.totals(sinceMs).cost_usd,
    });
    this.metrics = new PerchMetrics({
      upstreamInFlight: () => this.upstreamGate.inFlight,
      upstreamWaiting: () => this.upstreamGate.waiting,
      spentTodayUsd: () => this.budget.spentToday(),
      startedAt: this.startedAt,
    });
    this.metrics.follow(this.events);
    this.usage.onRecorded = (row) => {
      this.metrics.usage(row);
      this.budget.add(row.cost_usd, row.created_at);
    };
    const healthWrite = this.db.prepare(`INSERT INTO meta (key, value) VALUES ('health_checked_at', ?)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`);
    this.recordHealthCheck = () => void healthWrite.run(new Date().toISOString());
    const recovered = this.conversations.recoverInterruptedAnswers();
    if (recovered > 0) options.onWarning?.(`${recovered} answer(s) interrupted by the last shutdown were saved as partial.`);
    this.claude = new ClaudeClient({
      ...options.claude,
      refusal: () => this.refusal(),
      gate: this.upstreamGate,
      observe: (call) => this.metrics.upstream(call),
      connection: () => {
        const { claude } = this.settings.current();
        return { apiKey: this.apiKeys.get(), upstreamUrl: claude.upstreamUrl, timeoutSeconds: claude.timeoutSeconds };
      },
    });
    const jobStore = new JobStore(this.db, () => clock.now());
    const outputsDir = outputsDirOf(dataDir);
    this.scheduler = new JobScheduler({
      store: jobStore,
      claude: this.claude,
      usage: this.usage,
      events: this.events,
      settings: () => this.settings.current(),
      clock,
      // Only the desktop app shows notifications; it listens for finished jobs.
      outputs: options.outputs ?? systemOutputChannels(() => this.events.listenerCount('job:finished') > 0),
      outputsDir,
      tasks: () => this.tasks.forJobs(),
    });
    this.workspaces = new WorkspaceStore(this.db, dataDir, () => clock.now());
    this.jobs = new Jobs(jobStore, this.scheduler, clock, outputsDir, this.workspaces);
    this.tasks = new TaskService({
      store: new TaskStore(this.db, () => clock.now()),
      workspaces: this.workspaces,
      settings: () => this.settings.current(),
      dataDir,
      env,
      version: this.version,
      events: this.events,
      refusal: () => this.refusal(),
      usageOf: (taskId) => this.usage.ofTask(taskId),
      runner: { ...defaultRunnerDependencies(), ...options.taskRunner },
      onWarning: options.onWarning ?? (() => {}),
    });
    this.chat = new ChatService({
      store: this.conversations,
      usage: this.usage,
      claude: this.claude,
      settings: () => this.settings.current(),
      events: this.events,
    });
  }

  static open(options: PerchCoreOptions): PerchCore {
    const dataDir = ensureDataDir(options.dataDir);
    return new PerchCore(dataDir, options);
  }

  currentSettings(): Settings {
    return this.settings.current();
  }

  /** Why Claude must not be asked now (the daily budget is spent), or nothing. */
  refusal(): PerchError | undefined {
    const refused = this.budget.check();
    if (refused) this.metrics.refused('daily_budget_reached');
    return refused;
  }

  /**
   * Tells `listener` when the settings file changed — through the API or by `perch config set`
   * from another process — so the desktop shell can apply its settings (shortcut, login item).
   * Only where the OS gives change notices; returns the function that stops listening.
   */
  onSettingsChanged(listener: (settings: Settings) => void): () => void {
    return this.changes.onChange(dataFiles.settings, () => listener(this.settings.current()));
  }

  /** Cheap enough for a probe every second: one tiny write, one statfs, no upstream call. */
  health(): Health {
    let database: Health['checks']['database'];
    try {
      this.recordHealthCheck();
      database = { status: 'ok' };
    } catch (error) {
      database = { status: 'error', message: `The history database cannot be written: ${(error as Error).message}` };
    }
    let disk: Health['checks']['disk'];
    try {
      const stats = statfsSync(this.dataDir);
      const freeMb = Math.floor((stats.bavail * stats.bsize) / (1024 * 1024));
      disk = { status: freeMb < DISK_FULL_MB ? 'full' : freeMb < DISK_LOW_MB ? 'low' : 'ok', free_mb: freeMb };
    } catch {
      disk = { status: 'unknown', free_mb: null };
    }
    const upstream = this.claude.upstreamState();
    const broken = database.status === 'error' || disk.status === 'full';
    const degraded = upstream.state === 'unreachable' || upstream.state === 'degraded' || disk.status === 'low';
    return {
      status: broken ? 'error' : degraded ? 'degraded' : 'ok',
      version: this.version,
      checks: { database, disk, upstream },
    };
  }

  close(): void {
    this.changes.close();
    if (!this.db.open) return;
    this.usage.flush();
    this.db.close();
  }
}

import { createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { PermissionResult, SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { PerchError, invalidField, invalidRequest, notFound } from '../errors.js';
import type { PerchEventBus } from '../events.js';
import type { JobTasks } from '../jobs/scheduler.js';
import type { ChangeOrigin } from '../settings/change-policy.js';
import type { Settings } from '../settings/schema.js';
import type { UsageAmounts } from '../storage/usage-store.js';
import { agentEnvironment, resolveClaudeBinary } from './agent-environment.js';
import { AgentTokens } from './agent-tokens.js';
import { changesOf, FileChanges, type FileChange } from './file-changes.js';
import { endProcessTree, processIdentity } from './process-tree.js';
import {
  eventsOfMessage,
  SETTLED_STATUSES,
  textDeltaOf,
  type PermissionStatus,
  type TaskError,
  type TaskEvent,
  type TaskStatus,
  type TextDelta,
} from './task-events.js';
import { TaskRunner, type PermissionAsk, type RunnerDependencies, type TurnOutcome } from './task-runner.js';
import type { PermissionMode, PermissionRecord, StoredEvent, TaskRecord, TaskSource, TaskStore } from './task-store.js';
import { isWithin, type WorkspaceStore } from './workspaces.js';

/** What a client sends to start a task (POST /api/v1/tasks, the CLI, a job). */
export interface NewTaskInput {
  prompt: string;
  /** A workspace id, name, or a path in one. */
  workspace: string;
  permission_mode?: PermissionMode | undefined;
  model?: string | undefined;
  max_turns?: number | undefined;
  max_budget_usd?: number | undefined;
  allowed_tools?: string[] | undefined;
  source?: TaskSource | undefined;
  /** Nobody watches (a schedule): the agent may not ask questions, and never bypasses permissions. */
  unattended?: boolean | undefined;
}

export interface Decision {
  decision: 'allow' | 'deny';
  message?: string | undefined;
  /** Answers to an AskUserQuestion request: question text → the answer. */
  answers?: Record<string, string> | undefined;
}

/** What a follower of a task receives: saved events (numbered), live text, and the end of a turn. */
export type LiveEvent = StoredEvent | TextDelta | { type: 'done'; data: TaskJson };

/** A task as the API shows it. */
export type TaskJson = ReturnType<TaskService['json']>;

export interface TaskServiceOptions {
  store: TaskStore;
  workspaces: WorkspaceStore;
  settings: () => Settings;
  dataDir: string;
  /** Perch's own environment: only the variables a shell needs reach the agent. */
  env: NodeJS.ProcessEnv;
  version: string;
  events: PerchEventBus;
  /** Why Claude must not be asked now (the daily budget), or nothing. */
  refusal: () => PerchError | undefined;
  /** What a task's agent used, from the usage ledger. */
  usageOf: (taskId: string) => UsageAmounts;
  runner: RunnerDependencies;
  onWarning: (message: string) => void;
}

/** Where the agents reach Perch's relay, known once the service listens. */
export interface RelayEndpoint {
  url: string;
  /** The certificate to trust for it (when Perch serves HTTPS). */
  certFile?: string | undefined;
}

interface ActiveTurn {
  /** The task as its turn started (its workspace and mode stay as they were). */
  task: TaskRecord;
  runner: TaskRunner;
  token: string;
  tempDir: string;
  files: FileChanges;
  /** Open permission requests, resolved by whoever decides first. */
  waiters: Map<string, (status: Exclude<PermissionStatus, 'pending'>, decision?: Decision) => void>;
  /** Why Perch itself ended the turn, when it did. */
  endedBy?: 'shutdown';
}

/**
 * How long a job's permission request waits for a person when tasks.approvalTimeoutMinutes is 0
 * ("wait forever"), in minutes: the setting's default. Nobody started a job's task, and while it
 * waits each scheduled time of its job is recorded as missed, so it never waits forever.
 */
export const JOB_APPROVAL_TIMEOUT_MINUTES = 60;

/**
 * How long a permission request of a task from `source` waits before it counts as not allowed,
 * in minutes; 0 means until someone answers. The setting, except that a job's task never waits
 * forever (JOB_APPROVAL_TIMEOUT_MINUTES instead of 0).
 */
export function approvalTimeoutMinutes(setting: number, source: TaskSource): number {
  if (setting > 0) return setting;
  return source === 'job' ? JOB_APPROVAL_TIMEOUT_MINUTES : 0;
}

/** Tools a task that nobody watches may not use: it cannot wait for an answer. */
const UNATTENDED_DISALLOWED = ['AskUserQuestion'];

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function permissionJson(request: PermissionRecord): Record<string, unknown> {
  return {
    id: request.id,
    tool: request.tool,
    input: request.input,
    tool_use_id: request.tool_use_id,
    status: request.status,
    message: request.message,
    created_at: iso(request.created_at),
    decided_at: iso(request.decided_at),
  };
}

const SHUTDOWN_ERROR: TaskError = {
  type: 'shutdown',
  message: 'Perch was shut down while this task ran. Send a follow-up to continue where it left off.',
};

/**
 * Tasks (ARCHITECTURE.md, "Tasks"; TASKS-DESIGN.md): starts each turn's agent through a
 * TaskRunner when the queue lets it, saves each message and its events as they arrive, fans
 * them out to followers, keeps the approvals in SQLite, and ends what a crash left behind.
 */
export class TaskService {
  readonly agentTokens = new AgentTokens();
  private readonly active = new Map<string, ActiveTurn>();
  private readonly followers = new Map<string, Set<(event: LiveEvent) => void>>();
  private relay: RelayEndpoint | undefined;
  private stopping = false;
  private readonly turnsDone = new Set<Promise<void>>();

  constructor(private readonly options: TaskServiceOptions) {}

  private get store(): TaskStore {
    return this.options.store;
  }

  private get settings(): Settings['tasks'] {
    return this.options.settings().tasks;
  }

  private get configDir(): string {
    return path.join(this.options.dataDir, 'claude');
  }

  private get tempRoot(): string {
    return path.join(this.options.dataDir, 'tasks', 'tmp');
  }

  /**
   * Once the service listens: ends agents a crash left running (their tasks become `failed`,
   * continuable), clears their temporary folders, and starts what waits in the queue.
   */
  async start(relay: RelayEndpoint): Promise<void> {
    this.relay = relay;
    mkdirSync(this.configDir, { recursive: true, mode: 0o700 });
    for (const task of this.store.active()) {
      if (task.pid !== null && task.pid_started !== null && (await processIdentity(task.pid)) === task.pid_started) {
        await endProcessTree(task.pid);
      }
      this.cancelPending(task.id, 'cancelled', 'Perch stopped before anyone answered.');
      this.finishTurn(task.id, {
        status: 'failed',
        error: {
          type: 'interrupted',
          message:
            'Perch stopped while this task was running (it crashed or was killed), and its agent was ended. Send a follow-up to continue where it left off.',
        },
      });
    }
    rmSync(this.tempRoot, { recursive: true, force: true });
    this.schedule();
  }

  /** Stops every running agent (their tasks are recorded `stopped`); queued tasks wait for the next start. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.active.values()].map((turn) => {
        turn.endedBy = 'shutdown';
        return turn.runner.stop();
      }),
    );
    await Promise.all(this.turnsDone);
  }

  /** Starts a task: refused at once when the workspace, mode or budget does not allow it. */
  create(input: NewTaskInput, origin: ChangeOrigin): TaskJson {
    const prompt = input.prompt.trim();
    if (!prompt) throw invalidField('prompt', 'Tell the agent what to do.');
    const workspace = this.options.workspaces.resolve(input.workspace);
    const mode = input.permission_mode ?? 'default';
    if (mode === 'bypassPermissions') this.checkBypass(input.unattended === true, origin);
    const refused = this.options.refusal();
    if (refused) throw refused;
    const task = this.store.create({
      workspace,
      prompt,
      permission_mode: mode,
      model: input.model ?? this.settings.model,
      max_turns: input.max_turns ?? null,
      max_budget_usd: input.max_budget_usd ?? null,
      allowed_tools: input.allowed_tools ?? [],
      source: input.source ?? 'api',
      unattended: input.unattended === true,
    });
    this.record(task.id, [
      { type: 'prompt', data: { text: prompt } },
      { type: 'status', data: { status: 'queued' } },
    ]);
    this.schedule();
    return this.json(this.store.require(task.id));
  }

  private checkBypass(unattended: boolean, origin: ChangeOrigin): void {
    if (unattended) {
      throw new PerchError('forbidden_mode', 403, 'A task nobody watches (a schedule) never bypasses permissions.');
    }
    if (!this.settings.allowBypassPermissions) {
      throw new PerchError(
        'forbidden_mode',
        403,
        `bypassPermissions lets the agent edit and run anything without asking, so it is off until you turn it on in the desktop app or with npx perch config set tasks.allowBypassPermissions true${origin === 'desktop' ? '' : ' on this machine'}.`,
      );
    }
  }

  /** A follow-up turn in the same Claude Code session, once the last turn has ended. */
  followUp(id: string, prompt: string): TaskJson {
    const task = this.store.require(id);
    const text = prompt.trim();
    if (!text) throw invalidField('prompt', 'Say what the agent should do next.');
    if (!SETTLED_STATUSES.has(task.status)) {
      throw new PerchError(
        'task_busy',
        409,
        `Task '${id}' is ${task.status.replace('_', ' ')}: send the follow-up once this turn ends, or stop it first (POST /api/v1/tasks/${id}/stop).`,
      );
    }
    if (!task.workspace_id || !this.options.workspaces.get(task.workspace_id)) {
      throw new PerchError(
        'workspace_removed',
        409,
        `The workspace '${task.workspace_name}' this task worked in was removed. Add ${task.workspace_path} as a workspace again (in the desktop app, or with npx perch workspace add on this machine) and start a new task.`,
      );
    }
    const refused = this.options.refusal();
    if (refused) throw refused;
    this.store.queueTurn(id, text);
    this.record(id, [
      { type: 'prompt', data: { text } },
      { type: 'status', data: { status: 'queued' } },
    ]);
    this.schedule();
    return this.json(this.store.require(id));
  }

  /** Stops a task: a queued one at once; a running one within a few seconds (its agent is ended). */
  async stop(id: string): Promise<TaskJson> {
    const task = this.store.require(id);
    const turn = this.active.get(id);
    if (turn) {
      const ended = this.whenTurnEnds(id);
      await turn.runner.stop();
      await ended;
    } else if (task.status === 'queued') {
      this.finishTurn(id, { status: 'stopped' });
    }
    return this.json(this.store.require(id));
  }

  /**
   * A person's answer to a permission request, from any client. The first answer wins; an
   * unknown request is a 404, one already answered a 409 that says how.
   */
  decide(id: string, requestId: string, decision: Decision): Record<string, unknown> {
    this.store.require(id);
    const request = this.store.requirePermission(id, requestId);
    if (
      request.status === 'pending' &&
      request.tool === 'AskUserQuestion' &&
      decision.decision === 'allow' &&
      !decision.answers
    ) {
      throw invalidField('answers', 'Answer Claude\'s question with {"answers": {"<question>": "<answer>"}}.');
    }
    const status = decision.decision === 'allow' ? 'allowed' : 'denied';
    const message = decision.message?.trim() || null;
    const decided = this.store.decide(id, requestId, status, message);
    const waiter = this.active.get(id)?.waiters.get(requestId);
    if (waiter) waiter(status, decision);
    else this.afterDecision(id, decided);
    return permissionJson(decided);
  }

  private afterDecision(id: string, request: PermissionRecord): void {
    const events: TaskEvent[] = [
      {
        type: 'permission_decision',
        data: {
          id: request.id,
          decision: request.status as Exclude<PermissionStatus, 'pending'>,
          ...(request.message ? { message: request.message } : {}),
        },
      },
    ];
    const task = this.store.get(id);
    if (task?.status === 'needs_approval' && this.store.pendingPermissions(id).length === 0) {
      this.store.setStatus(id, 'running');
      events.push({ type: 'status', data: { status: 'running' } });
    }
    this.record(id, events);
    if (task) this.options.events.emit('task:changed', { task_id: id, title: task.title, status: this.store.require(id).status });
  }

  list(limit: number, before?: string): { tasks: TaskJson[]; has_more: boolean } {
    const page = this.store.list(limit, before);
    return { tasks: page.tasks.map((task) => this.json(task)), has_more: page.has_more };
  }

  /** One task, without its transcript. */
  summary(id: string): TaskJson {
    return this.json(this.store.require(id));
  }

  /** One task with its whole transcript. */
  get(id: string): TaskJson & { transcript: EventJson[] } {
    const task = this.store.require(id);
    return { ...this.json(task), transcript: this.store.eventsAfter(id, 0).map(eventJson) };
  }

  search(text: string, limit: number) {
    return this.store.search(text, limit);
  }

  /** How many permission requests wait for a person. */
  pendingCount(): number {
    return this.store.pendingCount();
  }

  eventsAfter(id: string, afterSeq: number): StoredEvent[] {
    this.store.require(id);
    return this.store.eventsAfter(id, afterSeq);
  }

  /** Whether a task is in a turn (queued or running): followers wait for its `done`. */
  inTurn(id: string): boolean {
    return !SETTLED_STATUSES.has(this.store.require(id).status);
  }

  /** Live events of a task until the listener is removed (the returned function). */
  follow(id: string, listener: (event: LiveEvent) => void): () => void {
    let set = this.followers.get(id);
    if (!set) {
      set = new Set();
      this.followers.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.followers.delete(id);
    };
  }

  /** The files a task changed, each with a unified diff against the file before the task touched it. */
  async changes(id: string): Promise<FileChange[]> {
    const task = this.store.require(id);
    // The diff library loads when first needed, not at start.
    const { createTwoFilesPatch } = await import('diff');
    return changesOf(this.store.files(id), task.workspace_path, (name, before, after) =>
      // jsdiff heads its patch with a line of '='; a unified diff starts at '---'.
      createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, undefined, undefined, { context: 3 }).replace(/^=+\n/, ''),
    );
  }

  /** A file of the task's workspace to download: nothing outside it, through `..` or a link. */
  async file(id: string, relative: string): Promise<{ path: string; size: number; stream: () => Readable }> {
    const task = this.store.require(id);
    const root = await realpath(task.workspace_path).catch(() => {
      throw notFound(`The workspace folder ${task.workspace_path} is gone.`);
    });
    const wanted = path.resolve(root, relative);
    let real: string;
    try {
      real = await realpath(wanted);
    } catch {
      throw notFound(`There is no file '${relative}' in the workspace '${task.workspace_name}'.`);
    }
    if (!isWithin(root, wanted) || !isWithin(root, real)) {
      throw new PerchError('outside_workspace', 403, `'${relative}' is outside the workspace '${task.workspace_name}'.`);
    }
    const stats = await stat(real);
    if (!stats.isFile()) throw invalidRequest(`'${relative}' is a folder, not a file.`);
    return { path: real, size: stats.size, stream: () => createReadStream(real) };
  }

  /** Tasks as scheduled jobs start them: nobody watching, never bypassing permissions. */
  forJobs(): JobTasks {
    return {
      start: (input) => ({ id: this.create({ ...input, source: 'job', unattended: true }, 'client').id }),
      whenTurnEnds: (id, signal) => this.whenTurnEnds(id, signal),
    };
  }

  /** Resolves with the task once its current turn (if any) is over; rejects if `signal` aborts first. */
  whenTurnEnds(id: string, signal?: AbortSignal): Promise<TaskJson> {
    return new Promise((resolve, reject) => {
      if (!this.inTurn(id)) {
        resolve(this.summary(id));
        return;
      }
      const onAbort = (): void => {
        unfollow();
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      const unfollow = this.follow(id, (event) => {
        if (event.type !== 'done') return;
        unfollow();
        signal?.removeEventListener('abort', onAbort);
        resolve(event.data);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves once the task's current turn (if any) is over. */
  async settled(id: string): Promise<void> {
    await this.whenTurnEnds(id);
  }

  json(task: TaskRecord) {
    const usage = this.options.usageOf(task.id);
    const permissions = this.store.permissions(task.id);
    return {
      id: task.id,
      title: task.title,
      prompt: task.prompt,
      status: task.status,
      workspace: {
        id: task.workspace_id,
        name: task.workspace_name,
        path: task.workspace_path,
      },
      permission_mode: task.permission_mode,
      model: task.model,
      max_turns: task.max_turns,
      max_budget_usd: task.max_budget_usd,
      allowed_tools: task.allowed_tools,
      source: task.source,
      unattended: task.unattended,
      agent_session_id: task.agent_session_id,
      result: task.result,
      error: task.error,
      turns: task.turns,
      duration_ms: task.duration_ms,
      usage: {
        requests: usage.requests,
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        estimated_requests: usage.estimated_requests,
      },
      cost_usd: usage.cost_usd,
      permission_requests: permissions.map(permissionJson),
      created_at: iso(task.created_at),
      updated_at: iso(task.updated_at),
      started_at: iso(task.started_at),
      finished_at: iso(task.finished_at),
    };
  }

  /** Saves events and tells followers. */
  private record(id: string, events: TaskEvent[], raw?: unknown): void {
    const stored = this.store.append(id, events, raw);
    for (const event of stored) this.tell(id, event);
  }

  private tell(id: string, event: LiveEvent): void {
    for (const listener of this.followers.get(id) ?? []) listener(event);
  }

  /** Starts queued turns while there is room: `tasks.maxConcurrent` agents, one writer per workspace. */
  private schedule(): void {
    if (this.stopping || !this.relay) return;
    const queued = this.store.withStatus('queued');
    for (const task of queued) {
      if (this.active.size >= this.settings.maxConcurrent) return;
      if (task.permission_mode !== 'plan' && this.hasWriter(task.workspace_path)) continue;
      this.startTurn(task);
    }
  }

  private hasWriter(workspacePath: string): boolean {
    for (const { task } of this.active.values()) {
      if (task.permission_mode !== 'plan' && task.workspace_path === workspacePath) return true;
    }
    return false;
  }

  private startTurn(task: TaskRecord): void {
    const prompt = task.pending_prompt ?? task.prompt;
    const refused = this.options.refusal();
    if (refused) {
      this.finishTurn(task.id, { status: 'failed', error: { type: refused.type, message: refused.message } });
      return;
    }
    let executable: string;
    try {
      executable = resolveClaudeBinary(this.settings.claudePath, this.options.env);
    } catch (error) {
      const problem = error instanceof PerchError ? error : new PerchError('agent_missing', 500, String(error));
      this.finishTurn(task.id, { status: 'failed', error: { type: problem.type, message: problem.message } });
      return;
    }
    const relay = this.relay as RelayEndpoint;
    mkdirSync(this.tempRoot, { recursive: true, mode: 0o700 });
    const token = this.agentTokens.issue(task.id);
    const turn: ActiveTurn = {
      task,
      runner: new TaskRunner(this.options.runner),
      token,
      tempDir: mkdtempSync(path.join(this.tempRoot, `${task.id}-`)),
      files: new FileChanges(this.store, task.id, task.workspace_path),
      waiters: new Map(),
    };
    this.active.set(task.id, turn);
    this.store.startTurn(task.id);
    this.record(task.id, [{ type: 'status', data: { status: 'running' } }]);
    this.options.events.emit('task:changed', { task_id: task.id, title: task.title, status: 'running' });
    const done = this.runTurn(task, prompt, executable, relay, turn).catch((error: unknown) => {
      this.options.onWarning(`Task ${task.id} failed unexpectedly: ${(error as Error).message}`);
    });
    this.turnsDone.add(done);
    void done.finally(() => this.turnsDone.delete(done));
  }

  private async runTurn(
    task: TaskRecord,
    prompt: string,
    executable: string,
    relay: RelayEndpoint,
    turn: ActiveTurn,
  ): Promise<void> {
    let outcome: TurnOutcome | undefined;
    try {
      if (task.agent_session_id === null) turn.files.begin();
      outcome = await turn.runner.run(
        {
          prompt,
          resume: task.agent_session_id,
          cwd: task.workspace_path,
          model: task.model,
          permissionMode: task.permission_mode,
          maxTurns: task.max_turns,
          maxBudgetUsd: task.max_budget_usd,
          allowedTools: task.allowed_tools,
          disallowedTools: task.unattended ? UNATTENDED_DISALLOWED : [],
          env: agentEnvironment({
            inherited: this.options.env,
            relayUrl: relay.url,
            agentToken: turn.token,
            configDir: this.configDir,
            tempDir: turn.tempDir,
            tlsCertFile: relay.certFile,
            version: this.options.version,
          }),
          executable,
          idleTimeoutMs: this.settings.idleTimeoutMinutes * 60_000,
        },
        {
          message: (message) => this.onMessage(task.id, message),
          permission: (ask) => this.askPerson(task, turn, ask),
          beforeFileChange: (file) => turn.files.beforeChange(file),
          afterCommand: () => turn.files.afterCommand(),
          spawned: (pid) => {
            this.store.setProcess(task.id, pid, null);
            void processIdentity(pid).then((identity) => {
              if (identity && this.active.get(task.id) === turn) this.store.setProcess(task.id, pid, identity);
            });
          },
        },
      );
    } finally {
      this.agentTokens.revoke(turn.token);
      rmSync(turn.tempDir, { recursive: true, force: true });
      this.cancelPending(task.id, 'cancelled', 'The turn ended before anyone answered.');
      this.active.delete(task.id);
      const ended = outcome ?? {
        status: 'failed',
        result: null,
        error: { type: 'internal_error', message: 'The turn ended unexpectedly.' },
        turns: 0,
        durationMs: 0,
      };
      if (turn.endedBy === 'shutdown' && ended.status === 'stopped') ended.error = SHUTDOWN_ERROR;
      this.finishTurn(task.id, {
        status: ended.status,
        result: ended.result,
        error: ended.error,
        turns: ended.turns,
        duration_ms: ended.durationMs,
      });
      this.schedule();
    }
  }

  /** Saves a message of the agent with the events made from it; live text goes to followers only. */
  private onMessage(id: string, message: SDKMessage): void {
    if (message.type === 'stream_event') {
      const delta = textDeltaOf(message);
      if (delta) this.tell(id, delta);
      return;
    }
    if (message.type === 'system' && message.subtype === 'init') {
      this.store.setAgent(id, message.session_id, {
        model: message.model,
        cwd: message.cwd,
        tools: message.tools,
        permission_mode: message.permissionMode,
        api_key_source: message.apiKeySource,
        claude_code_version: message.claude_code_version,
      });
    }
    this.record(id, eventsOfMessage(message), message);
  }

  /**
   * The agent wants to use a tool that needs a person's yes: saved, announced, and waited for
   * until someone decides, the request times out, or the turn ends.
   */
  private askPerson(task: TaskRecord, turn: ActiveTurn, ask: PermissionAsk): Promise<PermissionResult> {
    const request = this.store.addPermission(task.id, { tool: ask.tool, input: ask.input, toolUseId: ask.toolUseId ?? null });
    const events: TaskEvent[] = [
      {
        type: 'permission_request',
        data: { id: request.id, tool: request.tool, input: request.input, tool_use_id: request.tool_use_id },
      },
    ];
    if (this.store.get(task.id)?.status === 'running') {
      this.store.setStatus(task.id, 'needs_approval');
      events.push({ type: 'status', data: { status: 'needs_approval' } });
    }
    this.record(task.id, events);
    this.options.events.emit('task:changed', { task_id: task.id, title: task.title, status: 'needs_approval' });

    // Decided once, as the request is made: the timer and what the agent is told agree.
    const minutes = approvalTimeoutMinutes(this.settings.approvalTimeoutMinutes, task.source);
    return new Promise<PermissionResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (status: Exclude<PermissionStatus, 'pending'>, decision?: Decision): void => {
        clearTimeout(timer);
        ask.signal.removeEventListener('abort', onAbort);
        turn.waiters.delete(request.id);
        this.afterDecision(task.id, this.store.requirePermission(task.id, request.id));
        resolve(permissionResult(status, ask.input, decision, minutes));
      };
      const onAbort = (): void => {
        if (this.settleRequest(task.id, request.id, 'cancelled', 'The agent stopped waiting (the turn was interrupted).'))
          finish('cancelled');
      };
      turn.waiters.set(request.id, finish);
      ask.signal.addEventListener('abort', onAbort, { once: true });
      if (minutes > 0) {
        timer = setTimeout(() => {
          if (this.settleRequest(task.id, request.id, 'timed_out', `No one answered within ${minutes} minutes.`))
            finish('timed_out');
        }, minutes * 60_000);
        timer.unref();
      }
    });
  }

  /** Records a request's end without a person's answer; false when someone answered first. */
  private settleRequest(taskId: string, requestId: string, status: 'cancelled' | 'timed_out', message: string): boolean {
    try {
      this.store.decide(taskId, requestId, status, message);
      return true;
    } catch {
      return false;
    }
  }

  /** Requests nobody will answer now (the turn ended, Perch restarted): recorded as such. */
  private cancelPending(taskId: string, status: 'cancelled', message: string): void {
    for (const request of this.store.pendingPermissions(taskId)) {
      const waiter = this.active.get(taskId)?.waiters.get(request.id);
      if (this.settleRequest(taskId, request.id, status, message)) {
        if (waiter) waiter(status);
        else this.record(taskId, [{ type: 'permission_decision', data: { id: request.id, decision: status, message } }]);
      }
    }
  }

  private finishTurn(
    id: string,
    outcome: { status: TaskStatus; result?: string | null; error?: TaskError | null; turns?: number; duration_ms?: number },
  ): void {
    this.store.endTurn(id, outcome);
    const events: TaskEvent[] = [];
    if (outcome.result !== undefined || outcome.turns !== undefined) {
      events.push({
        type: 'turn_end',
        data: {
          result: outcome.result ?? null,
          is_error: outcome.status === 'failed',
          turns: outcome.turns ?? 0,
          duration_ms: Math.round(outcome.duration_ms ?? 0),
        },
      });
    }
    if (outcome.error) events.push({ type: 'error', data: { error: outcome.error } });
    events.push({ type: 'status', data: { status: outcome.status } });
    this.record(id, events);
    const task = this.store.require(id);
    this.tell(id, { type: 'done', data: this.json(task) });
    this.options.events.emit('task:changed', { task_id: id, title: task.title, status: outcome.status });
  }
}

/** A saved event as the API shows it. */
export interface EventJson {
  seq: number;
  type: string;
  data: unknown;
  created_at: string | null;
}

export const eventJson = (event: StoredEvent): EventJson => ({
  seq: event.seq,
  type: event.type,
  data: event.data,
  created_at: iso(event.created_at),
});

/** What the agent is told of a decision. A denial always carries a reason. */
function permissionResult(
  status: Exclude<PermissionStatus, 'pending'>,
  input: Record<string, unknown>,
  decision: Decision | undefined,
  timeoutMinutes: number,
): PermissionResult {
  switch (status) {
    case 'allowed':
      return { behavior: 'allow', updatedInput: decision?.answers ? { ...input, answers: decision.answers } : input };
    case 'denied':
      return {
        behavior: 'deny',
        message: decision?.message?.trim() || 'The person declined this. Do not try it again; ask or do something else.',
      };
    case 'timed_out':
      return {
        behavior: 'deny',
        message: `No one answered within ${timeoutMinutes} minutes, so this is not allowed for now. Go on without it, or stop and say what you need.`,
      };
    case 'cancelled':
      return { behavior: 'deny', message: 'The request was withdrawn because the turn is ending.', interrupt: true };
  }
}

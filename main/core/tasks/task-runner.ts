import { spawn as spawnChild } from 'node:child_process';
import type {
  HookCallback,
  Options,
  PermissionResult,
  Query,
  SDKMessage,
  SDKResultMessage,
  SpawnedProcess,
  SpawnOptions,
} from '@anthropic-ai/claude-agent-sdk';
import type { TaskError } from './task-events.js';
import type { PermissionMode } from './task-store.js';
import { endProcessTree, isAlive } from './process-tree.js';
import { describeSystemError } from '../system-errors.js';

/** One turn of a task: a prompt for the agent, in a workspace, with its limits. */
export interface TurnSpec {
  prompt: string;
  /** The agent's session to continue (a follow-up), or null for the first turn. */
  resume: string | null;
  cwd: string;
  model: string;
  permissionMode: PermissionMode;
  maxTurns: number | null;
  maxBudgetUsd: number | null;
  /** Tools that run without asking (they skip the permission check entirely). */
  allowedTools: string[];
  disallowedTools: string[];
  env: Record<string, string>;
  executable: string;
  /** With no message from the agent for this long (and nobody being asked), the turn ends. */
  idleTimeoutMs: number;
}

export interface PermissionAsk {
  tool: string;
  input: Record<string, unknown>;
  toolUseId: string | undefined;
  /** Aborted when the agent stops waiting (the turn was interrupted). */
  signal: AbortSignal;
}

/** What the runner tells the task service, and asks it. The runner itself keeps nothing. */
export interface TurnHooks {
  /** Every message the agent sends, in order. */
  message(message: SDKMessage): void;
  /** The agent asks to use a tool: resolves with the decision (never rejects). */
  permission(ask: PermissionAsk): Promise<PermissionResult>;
  /** A file tool is about to change `filePath` (absolute). */
  beforeFileChange(filePath: string): Promise<void>;
  /** A command (Bash) has run. */
  afterCommand(): Promise<void>;
  /** The agent's process started. */
  spawned(pid: number): void;
}

export interface TurnOutcome {
  status: 'done' | 'failed' | 'stopped';
  result: string | null;
  error: TaskError | null;
  /** The agent's session, to resume for a follow-up. */
  sessionId: string | null;
  turns: number;
  durationMs: number;
}

export type QueryFunction = (params: { prompt: string; options: Options }) => Query;

export interface RunnerDependencies {
  /** The SDK's query(), loaded on first use. */
  loadQuery: () => Promise<QueryFunction>;
  spawn: typeof spawnChild;
  endProcessTree: (pid: number, graceMs?: number) => Promise<void>;
  /** How long after `result` the agent may take to exit before it is closed. */
  exitGraceMs: number;
  /** How long a stop waits for the agent to end its turn on request before closing it. */
  stopGraceMs: number;
}

export const defaultRunnerDependencies = (): RunnerDependencies => ({
  loadQuery: async () => (await import('@anthropic-ai/claude-agent-sdk/core')).query,
  spawn: spawnChild,
  endProcessTree,
  exitGraceMs: 10_000,
  stopGraceMs: 3_000,
});

const FILE_TOOLS = 'Write|Edit|MultiEdit|NotebookEdit';
/** The end of the agent's error output kept for a failure's message. */
const STDERR_TAIL = 4096;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a finished turn failed, from its `result` (API errors arrive as `success` with is_error). */
function resultError(result: SDKResultMessage, spec: TurnSpec): TaskError {
  switch (result.subtype) {
    case 'error_max_turns':
      return {
        type: 'max_turns',
        message: `Stopped after ${spec.maxTurns ?? result.num_turns} turns (max_turns). Send a follow-up to let it go on.`,
      };
    case 'error_max_budget_usd':
      return {
        type: 'max_budget',
        message: `Stopped at this task's budget of $${spec.maxBudgetUsd ?? '?'} (max_budget_usd). Send a follow-up to let it go on.`,
      };
    case 'success':
      return {
        type: result.api_error_status ? 'upstream_error' : 'agent_error',
        message: result.result || 'Claude Code reported an error without saying what it was.',
      };
    default: {
      const errors = result.errors.filter((line) => !line.startsWith('[ede_diagnostic]'));
      return { type: 'agent_error', message: errors.join('; ') || `Claude Code ended the turn with ${result.subtype}.` };
    }
  }
}

/**
 * Runs one turn of a task with Claude Code's agent (TASKS-DESIGN.md §1): the query, its process
 * (spawned in a group of its own, pid reported before any output is read), a watchdog, and the
 * stop sequence. Commands in (`run`, `stop`), everything else out through the hooks; it touches
 * neither HTTP nor the database. The outcome is decided from what Perch asked for (a requested
 * stop is `stopped`) and the last `result`, never from whether the SDK's iterator threw.
 */
export class TaskRunner {
  private query: Query | undefined;
  private pid: number | undefined;
  private stopRequested: 'stop' | 'idle' | undefined;
  private finished: Promise<TurnOutcome> | undefined;
  private stderrTail = '';
  private spawnError: NodeJS.ErrnoException | undefined;

  constructor(private readonly deps: RunnerDependencies) {}

  /** The agent's process id, once it runs. */
  get processId(): number | undefined {
    return this.pid;
  }

  run(spec: TurnSpec, hooks: TurnHooks): Promise<TurnOutcome> {
    this.finished ??= this.runTurn(spec, hooks);
    return this.finished;
  }

  private async runTurn(spec: TurnSpec, hooks: TurnHooks): Promise<TurnOutcome> {
    const started = performance.now();
    let result: SDKResultMessage | undefined;
    let sessionId: string | null = spec.resume;
    let thrown: unknown;
    let asking = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    let exitTimer: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idleTimer);
      if (asking > 0 || this.stopRequested) return;
      idleTimer = setTimeout(() => {
        this.stopRequested ??= 'idle';
        void this.stop();
      }, spec.idleTimeoutMs);
      idleTimer.unref();
    };

    const fileHook: HookCallback = async (input) => {
      const toolInput = (input as { tool_input?: Record<string, unknown> }).tool_input ?? {};
      const target = toolInput.file_path ?? toolInput.notebook_path;
      if (typeof target === 'string') await hooks.beforeFileChange(target);
      return {};
    };
    const commandHook: HookCallback = async () => {
      await hooks.afterCommand();
      return {};
    };

    try {
      const query = await this.deps.loadQuery();
      this.query = query({
        prompt: spec.prompt,
        options: {
          cwd: spec.cwd,
          model: spec.model,
          permissionMode: spec.permissionMode,
          ...(spec.permissionMode === 'bypassPermissions' ? { allowDangerouslySkipPermissions: true } : {}),
          ...(spec.resume ? { resume: spec.resume } : {}),
          ...(spec.maxTurns !== null ? { maxTurns: spec.maxTurns } : {}),
          ...(spec.maxBudgetUsd !== null ? { maxBudgetUsd: spec.maxBudgetUsd } : {}),
          allowedTools: spec.allowedTools,
          disallowedTools: spec.disallowedTools,
          env: spec.env,
          pathToClaudeCodeExecutable: spec.executable,
          // The workspace's own CLAUDE.md and .claude/settings.json apply; the person's user settings do not.
          settingSources: ['project'],
          systemPrompt: { type: 'preset', preset: 'claude_code' },
          includePartialMessages: true,
          canUseTool: async (tool, input, options) => {
            asking += 1;
            clearTimeout(idleTimer);
            try {
              return await hooks.permission({ tool, input, toolUseId: options.toolUseID, signal: options.signal });
            } finally {
              asking -= 1;
              touch();
            }
          },
          hooks: {
            PreToolUse: [{ matcher: FILE_TOOLS, hooks: [fileHook] }],
            PostToolUse: [{ matcher: 'Bash', hooks: [commandHook] }],
          },
          spawnClaudeCodeProcess: (options) => this.spawnAgent(options, hooks),
        },
      });
      touch();
      for await (const message of this.query) {
        touch();
        hooks.message(message);
        if (message.type === 'system' && message.subtype === 'init') sessionId = message.session_id;
        if (message.type === 'result') {
          result = message;
          sessionId = message.session_id;
          // The iterator has been seen never to end after a result: give the agent a moment to exit.
          clearTimeout(exitTimer);
          exitTimer = setTimeout(() => this.query?.close(), this.deps.exitGraceMs);
          exitTimer.unref();
        }
      }
    } catch (error) {
      // After an error result the iterator throws; the result already says what happened.
      thrown = error;
    } finally {
      clearTimeout(idleTimer);
      clearTimeout(exitTimer);
      if (this.pid !== undefined && isAlive(this.pid)) await this.deps.endProcessTree(this.pid);
    }

    const durationMs = performance.now() - started;
    const turns = result?.num_turns ?? 0;
    const base = { sessionId, turns, durationMs, result: result && 'result' in result ? result.result : null };
    if (this.stopRequested === 'stop') return { ...base, status: 'stopped', error: null };
    if (this.stopRequested === 'idle') {
      return {
        ...base,
        status: 'failed',
        error: {
          type: 'agent_idle',
          message: `Claude Code sent nothing for ${Math.round(spec.idleTimeoutMs / 60_000)} minutes, so the turn was ended (tasks.idleTimeoutMinutes). Send a follow-up to go on.`,
        },
      };
    }
    if (result)
      return { ...base, status: result.is_error ? 'failed' : 'done', error: result.is_error ? resultError(result, spec) : null };
    return { ...base, status: 'failed', error: this.crashError(thrown, spec) };
  }

  /** Claude Code's process, in a process group of its own (POSIX), its pid reported at once. */
  private spawnAgent(options: SpawnOptions, hooks: TurnHooks): SpawnedProcess {
    const child = this.deps.spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
      signal: options.signal,
    });
    child.on('error', (error) => {
      this.spawnError = error;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    if (child.pid !== undefined) {
      this.pid = child.pid;
      hooks.spawned(child.pid);
    }
    return child;
  }

  /** Why the agent ended without a result: it could not start, crashed, or was killed. */
  private crashError(thrown: unknown, spec: TurnSpec): TaskError {
    const code = this.spawnError?.code;
    if (code === 'ENOENT' || code === 'EACCES') {
      return {
        type: 'agent_missing',
        message: `Claude Code's agent could not be started from ${spec.executable} (${describeSystemError(this.spawnError)}). Reinstall Perch, or set tasks.claudePath to a claude binary.`,
      };
    }
    const detail = this.stderrTail.trim().split('\n').slice(-3).join(' ').trim();
    const reason = detail || (thrown instanceof Error ? thrown.message : 'it exited');
    return {
      type: 'agent_crashed',
      message: `Claude Code stopped before it finished the turn: ${reason}. Send a follow-up to continue.`,
    };
  }

  /**
   * Ends the turn: ask the agent to stop (it keeps its session), give it a moment, close the
   * query, and end its whole process tree if it still runs. Resolves once the turn is over.
   */
  async stop(): Promise<void> {
    this.stopRequested ??= 'stop';
    const finished = this.finished;
    if (!finished || !this.query) return;
    const query = this.query;
    const done = finished.then(
      () => true,
      () => true,
    );
    const within = (ms: number): Promise<boolean> => Promise.race([done, sleep(ms).then(() => false)]);
    await Promise.race([query.interrupt().catch(() => undefined), sleep(1000)]);
    if (await within(this.deps.stopGraceMs)) return;
    query.close();
    if (await within(this.deps.stopGraceMs)) return;
    if (this.pid !== undefined) await this.deps.endProcessTree(this.pid);
    await done;
  }
}

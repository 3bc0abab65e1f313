import type { Options, Query, SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { descendantsOf, endProcessTree, isAlive } from '../../main/core/tasks/process-tree.js';
import { TaskRunner, type RunnerDependencies, type TurnHooks, type TurnSpec } from '../../main/core/tasks/task-runner.js';

/*
 * The runner's decisions, with a scripted stand-in for the SDK's query(): what a turn's outcome
 * is when the agent's stream misbehaves (never ends, goes silent, throws), and how a stop ends it.
 * (The real agent runs in tasks-api.test.ts.)
 */

type Step = { message: SDKMessage } | { hang: true } | { throw: Error };

/** A Query that yields the scripted messages; `hang` waits until interrupted or closed. */
class ScriptedQuery {
  interrupted = 0;
  closed = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly steps: Step[]) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<SDKMessage> {
    for (const step of this.steps) {
      if ('message' in step) yield step.message;
      else if ('throw' in step) throw step.throw;
      else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.closed) return;
        throw new Error('Claude Code returned an error result: interrupted');
      }
    }
  }

  interrupt(): Promise<void> {
    this.interrupted += 1;
    this.wake?.();
    return Promise.resolve();
  }

  close(): void {
    this.closed += 1;
    this.wake?.();
  }
}

const result = (overrides: Record<string, unknown> = {}): SDKMessage =>
  ({
    type: 'result',
    subtype: 'success',
    is_error: false,
    result: 'All done.',
    num_turns: 2,
    session_id: 'session-1',
    duration_ms: 10,
    total_cost_usd: 0,
    ...overrides,
  }) as unknown as SDKMessage;

const init = { type: 'system', subtype: 'init', session_id: 'session-1' } as unknown as SDKMessage;

function runnerWith(
  query: ScriptedQuery,
  overrides: Partial<RunnerDependencies> = {},
): { runner: TaskRunner; options: Options[] } {
  const options: Options[] = [];
  const runner = new TaskRunner({
    loadQuery: () =>
      Promise.resolve((params: { prompt: string; options: Options }) => {
        options.push(params.options);
        return query as unknown as Query;
      }),
    spawn: () => {
      throw new Error('not spawned in these tests');
    },
    endProcessTree: () => Promise.resolve(),
    exitGraceMs: 50,
    stopGraceMs: 50,
    ...overrides,
  });
  return { runner, options };
}

const spec = (overrides: Partial<TurnSpec> = {}): TurnSpec => ({
  prompt: 'do it',
  resume: null,
  cwd: '/tmp',
  model: 'claude-sonnet-5-5',
  permissionMode: 'default',
  maxTurns: null,
  maxBudgetUsd: null,
  allowedTools: [],
  disallowedTools: [],
  env: {},
  executable: '/bin/false',
  idleTimeoutMs: 60_000,
  ...overrides,
});

const hooks = (seen: SDKMessage[] = []): TurnHooks => ({
  message: (message) => seen.push(message),
  permission: () => Promise.resolve({ behavior: 'deny', message: 'no' }),
  beforeFileChange: () => Promise.resolve(),
  afterCommand: () => Promise.resolve(),
  spawned: () => undefined,
});

describe('a turn’s outcome', () => {
  it('is done with the result and the session when the agent finishes', async () => {
    const seen: SDKMessage[] = [];
    const { runner, options } = runnerWith(new ScriptedQuery([{ message: init }, { message: result() }]));
    const outcome = await runner.run(spec({ resume: 'session-0', maxTurns: 5 }), hooks(seen));
    expect(outcome).toMatchObject({ status: 'done', result: 'All done.', sessionId: 'session-1', turns: 2, error: null });
    expect(seen.map((message) => message.type)).toEqual(['system', 'result']);
    expect(options[0]).toMatchObject({
      resume: 'session-0',
      maxTurns: 5,
      model: 'claude-sonnet-5-5',
      permissionMode: 'default',
      settingSources: ['project'],
      systemPrompt: { type: 'preset', preset: 'claude_code' },
    });
  });

  it('does not wait forever for a stream that never ends after its result', async () => {
    const query = new ScriptedQuery([{ message: result() }, { hang: true }]);
    const { runner } = runnerWith(query);
    expect(await runner.run(spec(), hooks())).toMatchObject({ status: 'done', result: 'All done.' });
    expect(query.closed).toBe(1);
  });

  it('is failed with the API error when the result says is_error, though its subtype says success', async () => {
    const { runner } = runnerWith(
      new ScriptedQuery([
        { message: result({ is_error: true, api_error_status: 529, result: 'API Error: 529 Overloaded' }) },
        { throw: new Error('Claude Code returned an error result') },
      ]),
    );
    expect(await runner.run(spec(), hooks())).toMatchObject({
      status: 'failed',
      error: { type: 'upstream_error', message: 'API Error: 529 Overloaded' },
    });
  });

  it.each([
    [{ subtype: 'error_max_turns', is_error: true }, 'max_turns', 'Stopped after 3 turns (max_turns)'],
    [{ subtype: 'error_max_budget_usd', is_error: true }, 'max_budget', "this task's budget of $0.5"],
    [
      { subtype: 'error_during_execution', is_error: true, errors: ['[ede_diagnostic] x', 'tool blew up'] },
      'agent_error',
      'tool blew up',
    ],
  ])('names the limit or the error of a %j result', async (fields, type, message) => {
    const { runner } = runnerWith(new ScriptedQuery([{ message: result(fields) }]));
    const outcome = await runner.run(spec({ maxTurns: 3, maxBudgetUsd: 0.5 }), hooks());
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.type).toBe(type);
    expect(outcome.error?.message).toContain(message);
  });

  it('is failed as a crash when the stream ends without a result', async () => {
    const { runner } = runnerWith(
      new ScriptedQuery([{ message: init }, { throw: new Error('Claude Code process exited with code 1') }]),
    );
    expect(await runner.run(spec(), hooks())).toMatchObject({
      status: 'failed',
      sessionId: 'session-1',
      error: { type: 'agent_crashed', message: expect.stringContaining('exited with code 1') },
    });
  });

  it('ends a turn whose agent goes silent (nobody being asked)', async () => {
    const query = new ScriptedQuery([{ message: init }, { hang: true }]);
    const { runner } = runnerWith(query);
    const outcome = await runner.run(spec({ idleTimeoutMs: 30 }), hooks());
    expect(outcome).toMatchObject({ status: 'failed', error: { type: 'agent_idle' } });
    expect(query.interrupted).toBe(1);
  });

  it('is stopped when Perch asked it to stop, whatever the stream then says', async () => {
    const query = new ScriptedQuery([{ message: init }, { hang: true }]);
    const { runner } = runnerWith(query);
    const outcome = runner.run(spec(), hooks());
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(await outcome).toMatchObject({ status: 'stopped', error: null });
  });

  it('ends the agent’s whole process tree when it ignores the interrupt, the close and SIGTERM', async () => {
    const stubborn = new ScriptedQuery([{ message: init }, { hang: true }]);
    // An agent that hears nothing: the stream neither ends on interrupt nor on close.
    stubborn.interrupt = () => Promise.resolve();
    stubborn.close = () => {
      stubborn.closed += 1;
    };
    let pid = 0;
    const runner = new TaskRunner({
      loadQuery: () =>
        Promise.resolve((params: { prompt: string; options: Options }) => {
          // What the SDK does first: start the agent through Perch's spawner.
          params.options.spawnClaudeCodeProcess?.({
            command: 'sh',
            args: ['-c', 'trap "" TERM; sleep 60 & wait'],
            env: { PATH: process.env.PATH },
            signal: new AbortController().signal,
          });
          return stubborn as unknown as Query;
        }),
      spawn: (await import('node:child_process')).spawn,
      endProcessTree: async (target, graceMs) => {
        await endProcessTree(target, graceMs ?? 200);
        (stubborn as unknown as { wake?: () => void }).wake?.();
      },
      exitGraceMs: 50,
      stopGraceMs: 50,
    });
    const outcome = runner.run(spec(), { ...hooks(), spawned: (spawned) => (pid = spawned) });
    while (pid === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const tree = await descendantsOf(pid);
    expect(tree.length).toBeGreaterThan(0);
    await runner.stop();
    expect(await outcome).toMatchObject({ status: 'stopped' });
    expect(stubborn.closed).toBe(1);
    for (const each of [pid, ...tree]) expect(isAlive(each), `process ${each}`).toBe(false);
  });
});

/**
 * Tasks: how much Perch adds to the agent's own start, and what running agents weigh.
 *
 * - Start: from `POST /api/v1/tasks` to the agent's first request reaching the upstream, against
 *   the SDK's `query()` called directly in this process with the same options and environment
 *   (its first request likewise). Runs alternate, so a busy moment of the machine hits both.
 * - Memory: Perch's resident memory, and its agents', with none, one and four tasks running
 *   (each waits for an approval, as a task does while its person reads).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { query } from '@anthropic-ai/claude-agent-sdk/core';
import { agentEnvironment } from '../main/core/tasks/agent-environment.js';
import { descendantsOf } from '../main/core/tasks/process-tree.js';
import { FakeAnthropic } from '../test/fixtures/fake-anthropic.js';
import { API_KEY, median, procStatus, root, round, sleep, startPerch, type GroupOptions } from './common.js';

/** The fake upstream in this process, noting when each Messages request arrives. */
class TimedUpstream extends FakeAnthropic {
  arrivals: number[] = [];

  protected override handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.url?.startsWith('/v1/messages')) this.arrivals.push(performance.now());
    return super.handle(req, res);
  }

  /** Resolves with the arrival time of the next Messages request after `count` arrivals. */
  async next(count: number): Promise<number> {
    while (this.arrivals.length <= count) await sleep(1);
    return this.arrivals[count] as number;
  }
}

const project = (): string => realpathSync(mkdtempSync(path.join(os.tmpdir(), 'perch-bench-project-')));

/** The agent started the way Perch starts it, but by this process and straight at the upstream. */
async function directStart(upstream: TimedUpstream, configDir: string): Promise<number> {
  const cwd = project();
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'perch-bench-tmp-'));
  const before = upstream.arrivals.length;
  const started = performance.now();
  const turn = query({
    prompt: 'Say hello.',
    options: {
      cwd,
      model: 'claude-sonnet-5-5',
      permissionMode: 'default',
      settingSources: ['project'],
      systemPrompt: { type: 'preset', preset: 'claude_code' },
      includePartialMessages: true,
      env: {
        ...agentEnvironment({
          inherited: process.env,
          relayUrl: upstream.url,
          agentToken: API_KEY,
          configDir,
          tempDir,
          version: 'bench',
        }),
      },
    },
  });
  const arrived = upstream.next(before);
  // Run the turn to its end (the fake answers at once); its messages are not needed here.
  for await (const message of turn) if (message.type === 'result') break;
  return (await arrived) - started;
}

/** Resident memory of a process and everything below it (the agents and their shells). */
async function treeRssMb(pid: number): Promise<number> {
  let total = 0;
  for (const each of [pid, ...(await descendantsOf(pid))]) {
    try {
      total += procStatus(each).rssMb;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

export async function measureTasks(options: GroupOptions): Promise<Record<string, unknown>> {
  const upstream = await new TimedUpstream({ apiKey: API_KEY }).start();
  // Four workspaces: at most one task writes in a workspace at a time.
  const folders = Array.from({ length: 4 }, () => project());
  const perch = await startPerch({
    upstreamUrl: upstream.url,
    settings: { ...options.settings, 'tasks.maxConcurrent': '4' },
    bin: options.bin,
  });
  for (const [index, folder] of folders.entries()) {
    const args = ['workspace', 'add', folder, '--name', `bench${index}`, '--data-dir', perch.dataDir];
    execFileSync(process.execPath, [path.join(root, 'bin/perch.js'), ...args], {
      env: { PATH: process.env.PATH, NO_COLOR: '1' },
      stdio: 'ignore',
    });
  }
  const headers = { authorization: `Bearer ${perch.token}`, 'content-type': 'application/json' };
  const startTask = (prompt: string, workspace = 'bench0') =>
    fetch(`${perch.url}/api/v1/tasks`, { method: 'POST', headers, body: JSON.stringify({ prompt, workspace }) }).then(
      async (res) => (await res.json()) as { id: string },
    );
  const taskStatus = async (id: string): Promise<string> =>
    ((await (await fetch(`${perch.url}/api/v1/tasks/${id}`, { headers })).json()) as { status: string }).status;
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'perch-bench-claude-'));
  try {
    const runs = options.full ? 25 : 9;
    const direct: number[] = [];
    const viaPerch: number[] = [];
    // One of each first, not counted: the agent's binary comes into the page cache.
    for (let round_ = -1; round_ < runs; round_ += 1) {
      const directMs = await directStart(upstream, configDir);
      const before = upstream.arrivals.length;
      const started = performance.now();
      const task = await startTask('Say hello.');
      const perchMs = (await upstream.next(before)) - started;
      while (!['done', 'failed'].includes(await taskStatus(task.id))) await sleep(20);
      if (round_ >= 0) {
        direct.push(directMs);
        viaPerch.push(perchMs);
      }
    }

    const memory = async () => {
      await sleep(1500);
      const perchRss = procStatus(perch.pid).rssMb;
      return { perchRssMb: round(perchRss, 1), withAgentsRssMb: round(await treeRssMb(perch.pid), 1) };
    };
    const idle = await memory();
    const waiting = async (count: number) => {
      const ids: string[] = [];
      // One after another, so each takes the next scripted answer.
      for (let index = 0; index < count; index += 1) {
        const file = path.join(folders[index] as string, 'waiting.txt');
        upstream.enqueue({
          kind: 'tool-use',
          tool: { id: `toolu_${index}`, name: 'Write', input: { file_path: file, content: 'x' } },
        });
        const before = upstream.arrivals.length;
        ids.push((await startTask('Write waiting.txt', `bench${index}`)).id);
        await upstream.next(before);
      }
      for (const id of ids) while ((await taskStatus(id)) !== 'needs_approval') await sleep(20);
      const figures = await memory();
      for (const id of ids) await fetch(`${perch.url}/api/v1/tasks/${id}/stop`, { method: 'POST', headers });
      return figures;
    };
    const one = await waiting(1);
    const four = await waiting(4);
    return {
      runs,
      startToFirstRequestMs: {
        direct: { median: round(median(direct), 1), all: direct.map((value) => round(value, 1)) },
        perch: { median: round(median(viaPerch), 1), all: viaPerch.map((value) => round(value, 1)) },
        // Each round's Perch run minus its direct run: drift of the machine hits both alike.
        addedByPerchMs: {
          medianOfPairs: round(median(viaPerch.map((value, index) => value - (direct[index] ?? value))), 1),
          differenceOfMedians: round(median(viaPerch) - median(direct), 1),
        },
      },
      memory: {
        idle,
        oneTaskRunning: { ...one, perAgentMb: round(one.withAgentsRssMb - one.perchRssMb, 1) },
        fourTasksRunning: { ...four, perAgentMb: round((four.withAgentsRssMb - four.perchRssMb) / 4, 1) },
      },
    };
  } finally {
    await perch.stop();
    await upstream.stop();
  }
}

/**
 * `npm run bench`: start-up, footprint, per-request overhead and history speed of the Perch
 * service, measured on this machine against the fake Anthropic upstream (so only Perch's own
 * cost is measured). Results go to bench/results/service.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { ConversationStore } from '../main/core/storage/conversation-store.js';
import { openDatabase } from '../main/core/storage/database.js';
import { measureRelay } from './relay.js';
import { measureUi } from './ui.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const full = process.argv.includes('--full');
const API_KEY = 'sk-ant-bench-key-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

function procStatus(pid: number): { rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / 100 };
}

async function startServe(dataDir: string, upstreamUrl: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'bin/perch.js'), 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH,
      PERCH_DATA_DIR: dataDir,
      PERCH_UPSTREAM_URL: upstreamUrl,
      ANTHROPIC_API_KEY: API_KEY,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (;;) {
    const url = /listening on (\S+)/.exec(output)?.[1];
    if (url) {
      const health = await fetch(`${url}/api/v1/health`).catch(() => undefined);
      if (health?.ok) return { child, url, startMs: performance.now() - started };
    }
    if (child.exitCode !== null) throw new Error(`perch serve exited: ${output}`);
    await sleep(2);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** Starts the fake upstream in its own process and returns its URL. */
async function startUpstream(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/upstream-process.ts'), API_KEY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('\n')) {
    if (child.exitCode !== null) throw new Error('the fake upstream did not start');
    await sleep(10);
  }
  return { url: output.trim(), stop: () => stop(child) };
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const results: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memoryGb: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
    },
    date: new Date().toISOString(),
  };

  // Start-up: from spawning `perch serve` to a healthy answer.
  const startTimes: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    const { child, startMs } = await startServe(mkdtempSync(path.join(os.tmpdir(), 'perch-bench-')), upstream.url);
    startTimes.push(startMs);
    await stop(child);
  }
  results.startupToHealthyMs = { median: round(percentile(startTimes, 50)), max: round(Math.max(...startTimes)) };

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'perch-bench-'));
  const { child, url } = await startServe(dataDir, upstream.url);
  const pid = child.pid as number;
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  // Idle footprint. V8 runs one memory-reducing collection some 5-10 s after start-up;
  // measure after it, since it happens once and is not idle work.
  await sleep(12_000);
  const idleWindowMs = full ? 60_000 : 10_000;
  const before = procStatus(pid);
  await sleep(idleWindowMs);
  const after = procStatus(pid);
  results.idle = {
    rssMb: round(after.rssMb, 1),
    cpuPercent: round(((after.cpuSeconds - before.cpuSeconds) / (idleWindowMs / 1000)) * 100, 3),
    windowSeconds: idleWindowMs / 1000,
  };

  // Per-answer overhead: the same one-line question straight to the upstream with the SDK,
  // and through Perch's /api/v1/chat (which also saves both messages), interleaved.
  const sdk = new Anthropic({ apiKey: API_KEY, baseURL: upstream.url, maxRetries: 0 });
  const direct: number[] = [];
  const viaPerch: number[] = [];
  const rounds = full ? 2000 : 400;
  for (let index = 0; index < rounds; index += 1) {
    direct.push(
      await timed(async () => {
        const stream = await sdk.messages.create({
          model: 'claude-sonnet-5-5',
          max_tokens: 64,
          messages: [{ role: 'user', content: 'ping' }],
          stream: true,
        });
        // Read the whole stream, as Perch does: the answer is complete at message_stop.
        let events = 0;
        for await (const event of stream) events += event.type === 'message_stop' ? 0 : 1;
        return events;
      }),
    );
    viaPerch.push(
      await timed(async () => {
        const res = await fetch(`${url}/api/v1/chat`, { method: 'POST', headers, body: JSON.stringify({ message: 'ping' }) });
        await res.json();
      }),
    );
  }
  const warm = (values: number[]): number[] => values.slice(Math.floor(values.length / 10));
  results.chatLatencyMs = {
    rounds,
    directMean: round(mean(warm(direct))),
    perchMean: round(mean(warm(viaPerch))),
    addedMean: round(mean(warm(viaPerch)) - mean(warm(direct))),
    directP99: round(percentile(warm(direct), 99)),
    perchP99: round(percentile(warm(viaPerch), 99)),
  };

  // Time to first streamed byte through Perch.
  const firstByte: number[] = [];
  for (let index = 0; index < 100; index += 1) {
    const started = performance.now();
    const res = await fetch(`${url}/api/v1/chat`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ message: 'ping', stream: true }),
    });
    const reader = res.body?.getReader();
    await reader?.read();
    firstByte.push(performance.now() - started);
    while (!(await reader?.read())?.done);
  }
  results.streamFirstByteMs = { p50: round(percentile(firstByte, 50)), p99: round(percentile(firstByte, 99)) };
  results.relay = await measureRelay(
    { direct: { url: upstream.url, key: API_KEY }, perch: { url, token } },
    { rounds: full ? 5000 : 1000, seconds: full ? 10 : 3 },
  );
  results.rssAfterChatsMb = round(procStatus(pid).rssMb, 1);
  await stop(child);

  // History: full-text search over 100,000 messages, and opening a 2,000-message session.
  const db = openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'perch-bench-')), 'perch.db'));
  const store = new ConversationStore(db);
  const words = ['rust', 'python', 'deploy', 'kubernetes', 'lifetime', 'borrow', 'async', 'database', 'index', 'cache', 'react'];
  const sentence = (seed: number): string =>
    Array.from({ length: 24 }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ');
  const fill = db.transaction((sessions: number, perSession: number) => {
    for (let s = 0; s < sessions; s += 1) {
      const session = store.createSession({ title: `Session ${s}` });
      for (let m = 0; m < perSession / 2; m += 1) {
        const turn = store.startTurn({
          sessionId: session.id,
          user: { content: `${sentence(s + m)} question ${s}-${m}` },
          model: 'm',
        });
        store.finishAnswer(turn.assistantMessageId, {
          content: `${sentence(s * m)} answer ${s}-${m}`,
          status: 'complete',
          model: 'm',
          stop_reason: 'end_turn',
          usage: null,
          cost_usd: null,
        });
      }
    }
  });
  fill(49, 2000);
  const big = store.createSession({ title: 'big' });
  fill(1, 2000);
  const bigSessionId = store.listSessions({ limit: 1 }).sessions[0]?.id ?? big.id;
  const searchTimes: number[] = [];
  for (let index = 0; index < 200; index += 1) {
    const query = `${words[index % words.length]} ${words[(index + 3) % words.length]?.slice(0, 4)}`;
    searchTimes.push(await timed(() => Promise.resolve(store.search(query, 20))));
  }
  const openTimes: number[] = [];
  for (let index = 0; index < 20; index += 1) openTimes.push(await timed(() => Promise.resolve(store.messages(bigSessionId))));
  results.history = {
    messages: store.counts().messages,
    searchP50Ms: round(percentile(searchTimes, 50)),
    searchP99Ms: round(percentile(searchTimes, 99)),
    open2000MessagesP50Ms: round(percentile(openTimes, 50)),
  };
  db.close();
  await upstream.stop();

  results.ui = await measureUi(path.join(root, 'out/renderer'));

  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/service.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

await main();

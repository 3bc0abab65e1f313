/**
 * What Perch's /v1/messages relay adds: the same Messages request sent straight to the fake
 * upstream, through a bare Node relay (http.request piping, no parsing: the floor for any Node
 * proxy) and through Perch, interleaved, with one connection and then many. Each of the three
 * runs in a process of its own; the client is bench/http-client.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mean, percentile, procStatus, round } from './common.js';
import { HttpConnection, requestBytes, type Answer } from './http-client.js';

/** A bare relay: pipes requests to the upstream and answers back, nothing else. */
export async function startBareRelay(upstreamUrl: string): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const outgoing = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Way = 'direct' | 'bare' | 'perch';
const WAYS: readonly Way[] = ['direct', 'bare', 'perch'];

export interface RelayTarget {
  url: string;
  /** The credential the target takes as x-api-key (the Anthropic key, or Perch's token). */
  key: string;
  /** The process serving it, for its CPU time (the direct way's is the upstream's own). */
  pid: number;
}

export interface RelayOptions {
  /** Rounds of one request per way, one connection each. */
  rounds: number;
  /** Rounds of one paced stream per way. */
  streamRounds: number;
  /** Each way gets `slices` turns of `sliceSeconds` per connection count, in rotating order. */
  slices: number;
  sliceSeconds: number;
  /** Text deltas per paced stream, and the upstream's pause between them. */
  streamDeltas: number;
  streamDelayMs: number;
}

// What @anthropic-ai/sdk sends (Claude Code and editors use it), so header handling costs what it does in use.
const SDK_HEADERS = {
  accept: 'application/json',
  'anthropic-version': '2023-06-01',
  'content-type': 'application/json',
  'user-agent': 'Anthropic/JS 0.60.0',
  'x-stainless-arch': 'x64',
  'x-stainless-lang': 'js',
  'x-stainless-os': 'Linux',
  'x-stainless-package-version': '0.60.0',
  'x-stainless-retry-count': '0',
  'x-stainless-runtime': 'node',
  'x-stainless-runtime-version': process.version,
  'x-stainless-timeout': '600',
};
const BODY = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'ping' }] });
const STREAM_BODY = JSON.stringify({
  model: 'claude-sonnet-5-5',
  max_tokens: 64,
  stream: true,
  messages: [{ role: 'user', content: 'ping, and tell me a little more about it please' }],
});

interface Prepared {
  url: URL;
  json: Buffer;
  stream: Buffer;
}

function prepare(target: RelayTarget, options: RelayOptions): Prepared {
  const url = new URL(target.url);
  const headers = { ...SDK_HEADERS, 'x-api-key': target.key };
  const paced = {
    ...headers,
    accept: 'text/event-stream',
    'anthropic-beta': `bench-pace-${options.streamDeltas}x${options.streamDelayMs}`,
  };
  return {
    url,
    json: requestBytes(url, 'POST', '/v1/messages', headers, BODY),
    stream: requestBytes(url, 'POST', '/v1/messages', paced, STREAM_BODY),
  };
}

function expectOk(answer: Answer, way: Way): Answer {
  if (answer.status !== 200) throw new Error(`${way}: status ${answer.status}`);
  return answer;
}

/** Rotates the order each round, so no way always goes first (or right after another). */
const orderFor = (round: number): Way[] => WAYS.map((_, index) => WAYS[(index + round) % WAYS.length] as Way);

async function latencies(prepared: Record<Way, Prepared>, options: RelayOptions) {
  const connections = Object.fromEntries(WAYS.map((way) => [way, new HttpConnection(prepared[way].url)])) as Record<
    Way,
    HttpConnection
  >;
  const totals: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  const firstByte: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  const gaps: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  const streamTotal: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  try {
    // Warm up every path (JIT, keep-alive sockets to the upstream), then measure interleaved.
    for (let index = 0; index < 300; index += 1)
      for (const way of WAYS) expectOk(await connections[way].request(prepared[way].json), way);
    for (let index = 0; index < options.rounds; index += 1) {
      for (const way of orderFor(index))
        totals[way].push(expectOk(await connections[way].request(prepared[way].json), way).totalMs);
    }
    const events = options.streamDeltas + 5;
    for (let index = 0; index < options.streamRounds; index += 1) {
      for (const way of orderFor(index)) {
        const answer = expectOk(await connections[way].request(prepared[way].stream, { events: true }), way);
        if (answer.eventsMs.length !== events) throw new Error(`${way}: ${answer.eventsMs.length} events, expected ${events}`);
        firstByte[way].push(answer.firstByteMs);
        streamTotal[way].push(answer.totalMs);
        // The deltas are events 2..N+1; each follows the upstream's pause after the one before it.
        for (let event = 2; event < 2 + options.streamDeltas; event += 1)
          gaps[way].push((answer.eventsMs[event] as number) - (answer.eventsMs[event - 1] as number));
      }
    }
  } finally {
    for (const connection of Object.values(connections)) connection.close();
  }
  return { totals, firstByte, gaps, streamTotal };
}

/**
 * `connections` clients in a loop for `seconds`, after a short warm-up: the answers counted,
 * and the CPU time the serving process spent meanwhile.
 */
async function load(
  prepared: Prepared,
  way: Way,
  pid: number,
  connections: number,
  seconds: number,
): Promise<{ count: number; ms: number; cpuSeconds: number }> {
  const pool = Array.from({ length: connections }, () => new HttpConnection(prepared.url));
  const warmUntil = performance.now() + 250;
  const until = warmUntil + seconds * 1000;
  let count = 0;
  let cpuAtStart = Number.NaN;
  const startCpu = setTimeout(() => (cpuAtStart = procStatus(pid).cpuSeconds), 250);
  try {
    await Promise.all(
      pool.map(async (connection) => {
        for (let now = performance.now(); now < until; now = performance.now()) {
          expectOk(await connection.request(prepared.json), way);
          if (now >= warmUntil) count += 1;
        }
      }),
    );
  } finally {
    clearTimeout(startCpu);
    for (const connection of pool) connection.close();
  }
  return { count, ms: performance.now() - warmUntil, cpuSeconds: procStatus(pid).cpuSeconds - cpuAtStart };
}

async function throughput(
  prepared: Record<Way, Prepared>,
  pids: Record<Way, number>,
  connections: number,
  options: RelayOptions,
): Promise<Record<string, unknown>> {
  const counts: Record<Way, number> = { direct: 0, bare: 0, perch: 0 };
  const times: Record<Way, number> = { direct: 0, bare: 0, perch: 0 };
  const cpu: Record<Way, number> = { direct: 0, bare: 0, perch: 0 };
  const sliceRates: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  for (let slice = 0; slice < options.slices; slice += 1) {
    for (const way of orderFor(slice)) {
      const { count, ms, cpuSeconds } = await load(prepared[way], way, pids[way], connections, options.sliceSeconds);
      cpu[way] += cpuSeconds;
      counts[way] += count;
      times[way] += ms;
      sliceRates[way].push(count / (ms / 1000));
    }
  }
  const rate = (way: Way): number => Math.round(counts[way] / (times[way] / 1000));
  const ratios = sliceRates.perch.map((perch, index) => perch / (sliceRates.bare[index] as number));
  return {
    requestsPerSecond: { direct: rate('direct'), bare: rate('bare'), perch: rate('perch') },
    perchVsBare: round(rate('perch') / rate('bare'), 3),
    perchVsBareBySlice: ratios.map((ratio) => round(ratio, 3)),
    // CPU time each relay process spent per request (its own work only: the steadiest figure on a busy machine).
    relayCpuMicrosecondsPerRequest: {
      bare: Math.round((cpu.bare / counts.bare) * 1e6),
      perch: Math.round((cpu.perch / counts.perch) * 1e6),
    },
  };
}

export async function measureRelay(targets: Record<Way, RelayTarget>, options: RelayOptions): Promise<Record<string, unknown>> {
  const prepared = Object.fromEntries(WAYS.map((way) => [way, prepare(targets[way], options)])) as Record<Way, Prepared>;
  const pids = Object.fromEntries(WAYS.map((way) => [way, targets[way].pid])) as Record<Way, number>;
  const { totals, firstByte, gaps, streamTotal } = await latencies(prepared, options);
  const summary = (values: Record<Way, number[]>) =>
    Object.fromEntries(
      WAYS.map((way) => [
        way,
        {
          meanMs: round(mean(values[way]), 3),
          p50Ms: round(percentile(values[way], 50), 3),
          p99Ms: round(percentile(values[way], 99), 3),
        },
      ]),
    );
  const added = (values: Record<Way, number[]>, way: Way) => ({
    meanMs: round(mean(values[way]) - mean(values.direct), 3),
    p50Ms: round(percentile(values[way], 50) - percentile(values.direct, 50), 3),
    p99Ms: round(percentile(values[way], 99) - percentile(values.direct, 99), 3),
  });
  const result: Record<string, unknown> = {
    options,
    oneConnection: {
      latency: summary(totals),
      addedByBareRelay: added(totals, 'bare'),
      addedByPerch: added(totals, 'perch'),
      perchOverBare: {
        meanMs: round(mean(totals.perch) - mean(totals.bare), 3),
        p99Ms: round(percentile(totals.perch, 99) - percentile(totals.bare, 99), 3),
      },
    },
    streaming: {
      timeToFirstByte: summary(firstByte),
      addedTimeToFirstByte: { bare: added(firstByte, 'bare'), perch: added(firstByte, 'perch') },
      interEventDelay: summary(gaps),
      addedInterEventDelay: { bare: added(gaps, 'bare'), perch: added(gaps, 'perch') },
      wholeStream: summary(streamTotal),
    },
  };
  for (const connections of [16, 64])
    result[`connections${connections}`] = await throughput(prepared, pids, connections, options);
  return result;
}

/**
 * 200 simultaneous streaming chats through /api/v1/chat: every one completes, none carries
 * another's text (each answer is the upstream's echo of its own, unique message), and the
 * service's memory goes back down afterwards. The upstream streams each answer as 20 deltas
 * 10 ms apart, so the streams really overlap; Perch asks Claude at most
 * claude.maxConcurrentRequests (16) at a time and queues the rest.
 */
import { randomBytes } from 'node:crypto';
import { mean, percentile, type GroupOptions, procStatus, round, sleep, startPerch, startUpstream } from './common.js';
import { HttpConnection, requestBytes } from './http-client.js';

const STREAMS = 200;
const DELTAS = 20;
const DELAY_MS = 10;

interface Checked {
  ok: boolean;
  problem?: string;
  totalMs: number;
  firstDeltaMs: number;
}

/** Parses an SSE body into its events. */
function events(body: string): Array<{ event: string; data: unknown }> {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return { event, data: data === undefined ? undefined : (JSON.parse(data) as unknown) };
    });
}

async function oneChat(url: URL, token: string, message: string): Promise<Checked> {
  const connection = new HttpConnection(url);
  const bytes = requestBytes(
    url,
    'POST',
    '/api/v1/chat',
    { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    JSON.stringify({ message, stream: true }),
  );
  try {
    const answer = await connection.request(bytes, { keepBody: true, events: true });
    const expected = `You said: ${message}`;
    const parsed = events(answer.body);
    const deltas = parsed.filter((item) => item.event === 'delta').map((item) => (item.data as { text: string }).text);
    const done = parsed.find((item) => item.event === 'done')?.data as { response?: string } | undefined;
    const problem =
      answer.status !== 200
        ? `status ${answer.status}`
        : parsed[0]?.event !== 'start'
          ? 'no start event'
          : parsed.some((item) => item.event === 'error')
            ? `error event: ${JSON.stringify(parsed.find((item) => item.event === 'error')?.data)}`
            : deltas.join('') !== expected
              ? `deltas joined to ${JSON.stringify(deltas.join('').slice(0, 80))}, expected ${JSON.stringify(expected)}`
              : done?.response !== expected
                ? 'done.response differs'
                : undefined;
    // Events are start, the deltas, done: the first delta is the second.
    return {
      ok: problem === undefined,
      ...(problem ? { problem } : {}),
      totalMs: answer.totalMs,
      firstDeltaMs: answer.eventsMs[1] ?? Number.NaN,
    };
  } finally {
    connection.close();
  }
}

/** Memory may grow by this much over the warm, idle baseline and still count as back to it. */
const BOUND_MB = 16;

/**
 * RSS after the waves, once a second until it is back within the bound (or `maxSeconds`).
 * V8 hands memory back only after a collection, and an idle Perch runs no timers, so with no
 * request at all the peak's pages simply stay (free for V8 to reuse, not leaked). A health probe
 * a second, as a monitor or the tray would send, lets V8's memory reducer run (here some 30 s
 * after the load).
 */
async function settle(url: string, pid: number, baselineMb: number, maxSeconds: number) {
  const samples: number[] = [];
  for (let second = 1; second <= maxSeconds; second += 1) {
    await sleep(1000);
    await fetch(`${url}/api/v1/health`).then((res) => res.arrayBuffer());
    samples.push(procStatus(pid).rssMb);
    if ((samples.at(-1) as number) <= baselineMb + BOUND_MB) break;
  }
  return {
    at5sMb: round(samples[4] ?? (samples.at(-1) as number), 1),
    finalMb: round(samples.at(-1) as number, 1),
    seconds: samples.length,
  };
}

export async function measureStreams(options: GroupOptions): Promise<Record<string, unknown>> {
  const upstream = await startUpstream();
  const perch = await startPerch({
    upstreamUrl: `${upstream.url}/paced-${DELTAS}x${DELAY_MS}`,
    settings: options.settings,
    bin: options.bin,
  });
  const url = new URL(perch.url);
  try {
    // Warm up the paths once (JIT, the SDK client, the database), then take the baseline.
    for (let index = 0; index < 20; index += 1) {
      const warm = await oneChat(url, perch.token, `warm-up ${index}`);
      if (!warm.ok) throw new Error(`warm-up chat failed: ${warm.problem}`);
    }
    await sleep(3000);
    const baselineMb = procStatus(perch.pid).rssMb;
    const waves = options.full ? 10 : 2;
    const perWave: Array<Record<string, unknown>> = [];
    let peakMb = baselineMb;
    for (let wave = 0; wave < waves; wave += 1) {
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peakMb = Math.max(peakMb, procStatus(perch.pid).rssMb);
          await sleep(10);
        }
      })();
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: STREAMS }, (_, index) =>
          oneChat(url, perch.token, `stream ${wave}-${index} ${randomBytes(6).toString('hex')} — unique text`),
        ),
      );
      const totalMs = performance.now() - started;
      sampling = false;
      await sampler;
      const failed = results.filter((result) => !result.ok);
      perWave.push({
        completed: results.length - failed.length,
        failed: failed.length,
        ...(failed.length > 0 ? { firstProblem: failed[0]?.problem } : {}),
        totalSeconds: round(totalMs / 1000, 2),
        streamMsMean: round(mean(results.map((result) => result.totalMs)), 1),
        streamMsP99: round(
          percentile(
            results.map((result) => result.totalMs),
            99,
          ),
          1,
        ),
        // Includes the wait for one of the 16 upstream slots.
        firstDeltaMsP50: round(
          percentile(
            results.map((result) => result.firstDeltaMs),
            50,
          ),
          1,
        ),
        firstDeltaMsMax: round(Math.max(...results.map((result) => result.firstDeltaMs)), 1),
        rssAfterWaveMb: round(procStatus(perch.pid).rssMb, 1),
      });
    }
    const after = await settle(perch.url, perch.pid, baselineMb, options.full ? 120 : 60);
    const allOk = perWave.every((wave) => wave.failed === 0);
    return {
      streamsPerWave: STREAMS,
      waves,
      upstream: `${DELTAS} deltas ${DELAY_MS} ms apart per answer; claude.maxConcurrentRequests 16 (default)`,
      allCompleteAndUninterleaved: allOk,
      perWave,
      rssMb: {
        // Warm (20 chats answered) and idle for 3 s.
        baseline: round(baselineMb, 1),
        peak: round(peakMb, 1),
        fiveSecondsAfter: after.at5sMb,
        afterSettle: after.finalMb,
        settleSeconds: after.seconds,
        peakGrowth: round(peakMb - baselineMb, 1),
        residualGrowth: round(after.finalMb - baselineMb, 1),
        boundMb: BOUND_MB,
        backWithinBound: after.finalMb <= baselineMb + BOUND_MB,
      },
    };
  } finally {
    await perch.stop();
    await upstream.stop();
  }
}

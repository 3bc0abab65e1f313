/**
 * The service's footprint: from start to healthy, resident memory at idle and after many chats
 * (does it plateau?), and CPU use while idle (no busy timers, no polling).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mean, median, type GroupOptions, procStatus, round, sleep, startPerch, startUpstream } from './common.js';

/** How often the process's threads woke up (context switches, from /proc): a busy timer shows here first. */
function wakeups(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    total += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    total += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return total;
}

/** Resident memory split into what only this process holds and what it shares (node's own code, libraries). */
function memory(pid: number): { rssMb: number; privateMb: number; sharedMb: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  const privateKb = kb('Private_Clean') + kb('Private_Dirty');
  return {
    rssMb: round(kb('Rss') / 1024, 1),
    privateMb: round(privateKb / 1024, 1),
    sharedMb: round((kb('Rss') - privateKb) / 1024, 1),
  };
}

/** V8's heap in use, from Perch's own /metrics. */
async function heapUsedMb(url: string, token: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  return round(Number(/^nodejs_heap_used_bytes (\S+)$/m.exec(text)?.[1]) / 2 ** 20, 1);
}

async function chats(url: string, token: string, count: number, onProgress: (done: number) => void): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let next = 0;
  let done = 0;
  // Four clients at once; each starts a new session every ten chats and continues it in between.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      let sessionId: string | undefined;
      for (let mine = 0; next < count; mine += 1) {
        const index = next;
        next += 1;
        if (mine % 10 === 0) sessionId = undefined;
        const res = await fetch(`${url}/api/v1/chat`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            message: `question ${index}: what does this do?`,
            ...(sessionId ? { session_id: sessionId } : {}),
          }),
        });
        const body = (await res.json()) as { session_id?: string; response?: string };
        if (res.status !== 200 || body.response !== `You said: question ${index}: what does this do?`)
          throw new Error(`chat ${index}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        sessionId = body.session_id;
        done += 1;
        onProgress(done);
      }
    }),
  );
}

export async function measureFootprint(options: GroupOptions): Promise<Record<string, unknown>> {
  const upstream = await startUpstream();
  try {
    // Start-up: from spawning `perch serve` (a fresh data folder each time) to a healthy answer.
    const startTimes: number[] = [];
    for (let run = 0; run < 5; run += 1) {
      const perch = await startPerch({ upstreamUrl: upstream.url, bin: options.bin });
      startTimes.push(perch.startMs);
      await perch.stop();
    }

    // SIGUSR2 makes the service write a heap snapshot, which starts with a full collection:
    // the heap in use right after it is the live data, garbage not counted.
    const snapshots = mkdtempSync(path.join(os.tmpdir(), 'perch-heap-'));
    const perch = await startPerch({
      upstreamUrl: upstream.url,
      settings: options.settings,
      bin: options.bin,
      nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`],
    });
    const liveHeapMb = async (): Promise<number> => {
      process.kill(perch.pid, 'SIGUSR2');
      let size = -1;
      for (;;) {
        await sleep(250);
        const file = readdirSync(snapshots).find((name) => name.endsWith('.heapsnapshot'));
        const now = file ? statSync(path.join(snapshots, file)).size : -1;
        if (file && now > 0 && now === size) break;
        size = now;
      }
      const mb = await heapUsedMb(perch.url, perch.token);
      for (const name of readdirSync(snapshots)) rmSync(path.join(snapshots, name));
      return mb;
    };
    try {
      // V8 runs one memory-reducing collection some 5-10 s after start-up; idle is after it.
      await sleep(12_000);
      const idleWindowMs = options.full ? 60_000 : 20_000;
      const before = procStatus(perch.pid);
      const wokeBefore = wakeups(perch.pid);
      await sleep(idleWindowMs);
      const after = procStatus(perch.pid);
      const idle = {
        ...memory(perch.pid),
        cpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 2),
        cpuPercent: round(((after.cpuSeconds - before.cpuSeconds) / (idleWindowMs / 1000)) * 100, 3),
        wakeupsPerMinute: Math.round(((wakeups(perch.pid) - wokeBefore) / idleWindowMs) * 60_000),
        windowSeconds: idleWindowMs / 1000,
      };

      // Memory after many chats, sampled as they go: growth that keeps climbing is a leak.
      const total = options.full ? 10_000 : 1000;
      const every = total / 10;
      const samples: Array<{ chats: number; rssMb: number; heapUsedMb?: number }> = [{ chats: 0, rssMb: round(after.rssMb, 1) }];
      const heapReads: Array<Promise<void>> = [];
      const started = performance.now();
      await chats(perch.url, perch.token, total, (done) => {
        if (done % every !== 0) return;
        const sample: (typeof samples)[number] = { chats: done, rssMb: round(procStatus(perch.pid).rssMb, 1) };
        samples.push(sample);
        heapReads.push(heapUsedMb(perch.url, perch.token).then((mb) => void (sample.heapUsedMb = mb)));
      });
      const chatSeconds = (performance.now() - started) / 1000;
      await Promise.all(heapReads);
      // Then a health probe a second (V8 hands memory back only after a collection, and an idle
      // Perch runs no timers), until RSS stops falling for 10 s or the time is up.
      let settled = procStatus(perch.pid).rssMb;
      let lowest = settled;
      let lowestAt = 0;
      const settleSeconds = options.full ? 90 : 45;
      for (let second = 1; second <= settleSeconds && second - lowestAt < 10; second += 1) {
        await sleep(1000);
        await fetch(`${perch.url}/api/v1/health`).then((res) => res.arrayBuffer());
        settled = procStatus(perch.pid).rssMb;
        if (settled < lowest - 0.5) [lowest, lowestAt] = [settled, second];
      }
      const secondHalf = samples.slice(Math.floor(samples.length / 2)).map((sample) => sample.rssMb);
      const firstHalfGrowth = (secondHalf[0] ?? 0) - (samples[0]?.rssMb ?? 0);
      const secondHalfGrowth = (secondHalf.at(-1) ?? 0) - (secondHalf[0] ?? 0);
      return {
        startupToHealthyMs: {
          median: round(median(startTimes), 1),
          mean: round(mean(startTimes), 1),
          max: round(Math.max(...startTimes), 1),
          runs: startTimes.map((ms) => round(ms, 1)),
        },
        idle,
        chats: {
          count: total,
          perSecond: round(total / chatSeconds, 1),
          rssSamplesMb: samples,
          rssAfterSettleMb: round(settled, 1),
          heapUsedAfterSettleMb: await heapUsedMb(perch.url, perch.token),
          // Last (a snapshot raises RSS for good): the live heap after a full collection, after
          // these chats and after as many again. Warm-up state (caches, compiled code) is in both.
          liveHeap: await (async () => {
            const first = await liveHeapMb();
            await chats(perch.url, perch.token, total, () => {});
            const second = await liveHeapMb();
            return {
              afterChatsMb: first,
              afterTwiceAsManyMb: second,
              growthPer1000ChatsMb: round(((second - first) / total) * 1000, 2),
            };
          })(),
          growthMb: round(settled - after.rssMb, 1),
          firstHalfGrowthMb: round(firstHalfGrowth, 1),
          secondHalfGrowthMb: round(secondHalfGrowth, 1),
          // Plateaued: the second half of the run grew by less than a third of the first half's growth (or < 4 MB).
          plateaus: secondHalfGrowth < 4 || secondHalfGrowth < firstHalfGrowth / 3,
        },
      };
    } finally {
      await perch.stop();
      rmSync(snapshots, { recursive: true, force: true });
    }
  } finally {
    await upstream.stop();
  }
}

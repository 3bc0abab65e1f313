/**
 * Builds of Perch side by side, interleaved, with the bare relay as the floor: what each
 * change did to the relay's CPU time per request, throughput and one-connection latency.
 * Keep a copy of the build before a change (bin/, out/, package.json and a node_modules
 * link: see docs/benchmarks.md), rebuild, and run:
 *
 *   npx tsx bench/compare.ts [--slices 6] [--seconds 2] [--connections 16] [--rounds 3000] [--gate 16] DIR... [.]
 *
 * `.` is this checkout's build; every DIR is listed in the order given.
 */
import path from 'node:path';
import {
  API_KEY,
  mean,
  percentile,
  procStatus,
  root,
  round,
  startBareRelayProcess,
  startPerch,
  startUpstream,
} from './common.js';
import { HttpConnection, requestBytes } from './http-client.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = Number(args[index + 1]);
  args.splice(index, 2);
  return value;
};
const slices = option('slices', 6);
const seconds = option('seconds', 2);
const connections = option('connections', 16);
const rounds = option('rounds', 3000);
// Calls to Claude at once (claude.maxConcurrentRequests): 16 as installed; the bare relay has no such bound.
const gate = option('gate', 16);
const builds = args.length > 0 ? args : ['.'];
const SETTINGS = { 'rateLimit.requestsPerMinute': '0', 'claude.maxConcurrentRequests': String(gate) };
const BODY = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'ping' }] });

const upstream = await startUpstream();
const bare = await startBareRelayProcess(upstream.url);
const services = [];
for (const build of builds) {
  const bin = path.join(build === '.' ? root : path.resolve(build), 'bin/perch.js');
  services.push({
    name: build === '.' ? 'this checkout' : path.basename(build),
    perch: await startPerch({ upstreamUrl: upstream.url, settings: SETTINGS, bin }),
  });
}

const targets = [
  { name: 'bare relay', url: new URL(bare.url), key: API_KEY, pid: bare.pid },
  ...services.map(({ name, perch }) => ({ name, url: new URL(perch.url), key: perch.token, pid: perch.pid })),
].map((target) => ({
  ...target,
  bytes: requestBytes(
    target.url,
    'POST',
    '/v1/messages',
    { 'x-api-key': target.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    BODY,
  ),
  count: 0,
  ms: 0,
  cpu: 0,
  latencies: [] as number[],
}));
type Target = (typeof targets)[number];

try {
  // One connection each, interleaved: latency (the first sixth is warm-up).
  const single = targets.map((target) => new HttpConnection(target.url));
  for (let index = 0; index < rounds; index += 1) {
    for (let turn = 0; turn < targets.length; turn += 1) {
      const which = (turn + index) % targets.length;
      const target = targets[which] as Target;
      const answer = await (single[which] as HttpConnection).request(target.bytes);
      if (answer.status !== 200) throw new Error(`${target.name}: status ${answer.status}`);
      if (index >= rounds / 6) target.latencies.push(answer.totalMs);
    }
  }
  for (const connection of single) connection.close();

  // Many connections, in rotating slices: throughput and CPU time per request.
  for (let slice = 0; slice < slices; slice += 1) {
    for (let turn = 0; turn < targets.length; turn += 1) {
      const target = targets[(turn + slice) % targets.length] as Target;
      const pool = Array.from({ length: connections }, () => new HttpConnection(target.url));
      const cpuBefore = procStatus(target.pid).cpuSeconds;
      const started = performance.now();
      const until = started + seconds * 1000;
      await Promise.all(
        pool.map(async (connection) => {
          while (performance.now() < until) {
            const answer = await connection.request(target.bytes);
            if (answer.status !== 200) throw new Error(`${target.name}: status ${answer.status}`);
            target.count += 1;
          }
        }),
      );
      target.ms += performance.now() - started;
      target.cpu += procStatus(target.pid).cpuSeconds - cpuBefore;
      for (const connection of pool) connection.close();
    }
  }
  const floor = targets[0] as Target;
  const rate = (target: Target): number => target.count / (target.ms / 1000);
  console.log(`${connections} connections, ${slices} × ${seconds} s each; latency over ${rounds} rounds of one connection`);
  for (const target of targets) {
    console.log(
      `${target.name.padEnd(26)} ${String(Math.round(rate(target))).padStart(6)} req/s (${round(rate(target) / rate(floor), 2).toFixed(2)}× bare)  ` +
        `${String(Math.round((target.cpu / target.count) * 1e6)).padStart(4)} µs CPU/req  ` +
        `latency mean ${round(mean(target.latencies), 3).toFixed(3)} ms, p99 ${round(percentile(target.latencies, 99), 3).toFixed(3)} ms`,
    );
  }
} finally {
  for (const { perch } of services) await perch.stop();
  await bare.stop();
  await upstream.stop();
}

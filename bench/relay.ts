/**
 * What Perch's /v1/messages relay adds: the same Messages request sent straight to the
 * upstream, through a bare Node relay (http.request piping, no parsing: the floor for any Node
 * proxy), and through Perch, interleaved, with one connection and then many.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RelayTargets {
  direct: { url: string; key: string };
  perch: { url: string; token: string };
}

const BODY = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'ping' }] });

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

function post(
  agent: http.Agent,
  baseUrl: string,
  headers: Record<string, string>,
  stream = false,
): Promise<{ firstByteMs: number; totalMs: number }> {
  const url = new URL('/v1/messages', baseUrl);
  const body = stream ? BODY.replace('"max_tokens"', '"stream":true,"max_tokens"') : BODY;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let firstByteMs = 0;
        res.on('data', () => {
          firstByteMs ||= performance.now() - started;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode} from ${baseUrl}`));
          else resolve({ firstByteMs, totalMs: performance.now() - started });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
const round = (value: number): number => Math.round(value * 1000) / 1000;

type Way = 'direct' | 'bare' | 'perch';

async function throughput(
  target: { url: string; headers: Record<string, string> },
  connections: number,
  seconds: number,
): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        await post(agent, target.url, target.headers);
        done += 1;
      }
    }),
  );
  agent.destroy();
  return Math.round(done / seconds);
}

export async function measureRelay(
  targets: RelayTargets,
  options: { rounds: number; seconds: number },
): Promise<Record<string, unknown>> {
  const bare = await startBareRelay(targets.direct.url);
  const ways: Record<Way, { url: string; headers: Record<string, string> }> = {
    direct: { url: targets.direct.url, headers: { 'x-api-key': targets.direct.key } },
    bare: { url: bare.url, headers: { 'x-api-key': targets.direct.key } },
    perch: { url: targets.perch.url, headers: { 'x-api-key': targets.perch.token } },
  };
  const agents: Record<Way, http.Agent> = {
    direct: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    bare: new http.Agent({ keepAlive: true, maxSockets: 1 }),
    perch: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  };
  const latency: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  const firstByte: Record<Way, number[]> = { direct: [], bare: [], perch: [] };
  const order: Way[] = ['direct', 'bare', 'perch'];
  // Warm up every path, then interleave so drift affects all three alike.
  for (const way of order) for (let i = 0; i < 200; i += 1) await post(agents[way], ways[way].url, ways[way].headers);
  for (let round = 0; round < options.rounds; round += 1) {
    for (const way of order) {
      latency[way].push((await post(agents[way], ways[way].url, ways[way].headers)).totalMs);
      firstByte[way].push((await post(agents[way], ways[way].url, ways[way].headers, true)).firstByteMs);
    }
  }
  const summary = (way: Way) => ({
    meanMs: round(mean(latency[way])),
    p99Ms: round(percentile(latency[way], 99)),
    streamFirstByteMeanMs: round(mean(firstByte[way])),
  });
  const result: Record<string, unknown> = {
    rounds: options.rounds,
    direct: summary('direct'),
    bareRelay: summary('bare'),
    perch: summary('perch'),
    addedByBareRelay: {
      meanMs: round(mean(latency.bare) - mean(latency.direct)),
      p99Ms: round(percentile(latency.bare, 99) - percentile(latency.direct, 99)),
    },
    addedByPerch: {
      meanMs: round(mean(latency.perch) - mean(latency.direct)),
      p99Ms: round(percentile(latency.perch, 99) - percentile(latency.direct, 99)),
    },
  };
  for (const connections of [16, 64]) {
    const rates: Record<Way, number> = { direct: 0, bare: 0, perch: 0 };
    for (const way of order) rates[way] = await throughput(ways[way], connections, options.seconds);
    result[`requestsPerSecond${connections}`] = { ...rates, perchVsBare: round(rates.perch / rates.bare) };
  }
  for (const agent of Object.values(agents)) agent.destroy();
  await bare.close();
  return result;
}

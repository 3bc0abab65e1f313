import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';
import { errorShapeProblems, expectHealthy } from './harness.js';

/**
 * A short soak: mixed traffic on loopback for PERCH_SOAK_SECONDS (15 by default; set it to a
 * few hundred for the long form), bounded in time and in count, with the request limit low
 * enough that clients run into it. Nothing may fail except the intended 429s, which must
 * carry Retry-After and the RateLimit headers; memory must not grow without bound. Speed is
 * not measured here (that is `npm run bench`).
 */

const SECONDS = Number(process.env.PERCH_SOAK_SECONDS ?? 15);
const MAX_REQUESTS = Number(process.env.PERCH_SOAK_MAX_REQUESTS ?? 50_000);
const CLIENTS = 8;
const REQUESTS_PER_MINUTE = 600;

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/** Heap and resident memory after a full collection, in MB. */
function memory(): { heapMb: number; rssMb: number } {
  collectGarbage();
  collectGarbage();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapMb: heapUsed / 2 ** 20, rssMb: rss / 2 ** 20 };
}

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
  perch.service.core.settings.set('rateLimit.requestsPerMinute', REQUESTS_PER_MINUTE);
});
afterAll(async () => {
  await perch.stop();
});

type Kind = 'chat JSON' | 'chat stream' | '/v1/messages JSON' | '/v1/messages stream' | 'session list' | 'search' | 'session';

interface Tally {
  ok: Map<Kind, number>;
  limited: Map<Kind, number>;
  failures: string[];
}

const KINDS: Array<[Kind, number]> = [
  ['chat JSON', 3],
  ['chat stream', 3],
  ['/v1/messages JSON', 2],
  ['/v1/messages stream', 2],
  ['session list', 3],
  ['search', 2],
  ['session', 2],
];
const totalWeight = KINDS.reduce((sum, [, weight]) => sum + weight, 0);
function pick(random: number): Kind {
  let left = random * totalWeight;
  for (const [kind, weight] of KINDS) {
    left -= weight;
    if (left < 0) return kind;
  }
  return 'session list';
}

const sessionIds: string[] = [];

async function once(kind: Kind, index: number, tally: Tally): Promise<void> {
  const question = `soak question ${index} about ${['otters', 'tides', 'lanterns', 'maps'][index % 4] ?? 'otters'}`;
  let res: Response;
  switch (kind) {
    case 'chat JSON':
    case 'chat stream':
      res = await perch.request('/api/v1/chat', { json: { message: question, stream: kind === 'chat stream' } });
      break;
    case '/v1/messages JSON':
    case '/v1/messages stream':
      res = await perch.request('/v1/messages', {
        json: {
          model: 'claude-haiku-5-5',
          max_tokens: 64,
          stream: kind.endsWith('stream'),
          messages: [{ role: 'user', content: question }],
        },
        headers: { 'anthropic-version': '2023-06-01' },
      });
      break;
    case 'session list':
      res = await perch.request('/api/v1/sessions?limit=20');
      break;
    case 'search':
      res = await perch.request(`/api/v1/sessions/search?q=${['otters', 'tides', 'lant', 'soak'][index % 4] ?? 'soak'}`);
      break;
    case 'session': {
      const id = sessionIds[index % Math.max(1, sessionIds.length)];
      res = await perch.request(id === undefined ? '/api/v1/sessions?limit=1' : `/api/v1/sessions/${id}`);
      break;
    }
  }
  const text = await res.text();
  const fail = (why: string): void => {
    tally.failures.push(`${kind}: ${why} (${res.status} ${text.slice(0, 200)})`);
  };
  if (res.status === 429) {
    tally.limited.set(kind, (tally.limited.get(kind) ?? 0) + 1);
    if (!/^\d+$/.test(res.headers.get('retry-after') ?? '')) fail('a 429 without Retry-After');
    if (!res.headers.get('ratelimit') || !res.headers.get('ratelimit-policy')) fail('a 429 without RateLimit headers');
    const problems = errorShapeProblems(
      { status: 429, headers: { 'content-type': res.headers.get('content-type') ?? '' }, text },
      kind.startsWith('/v1'),
    );
    if (problems.length > 0) fail(problems.join('; '));
    return;
  }
  if (res.status !== 200) {
    fail('unexpected status');
    return;
  }
  if (kind === 'chat stream') {
    const last = parseSse(text).at(-1);
    if (last?.event !== 'done') {
      fail('the stream did not end with done');
      return;
    }
    const id = (last.data as { session_id?: string }).session_id;
    if (id && sessionIds.length < 200) sessionIds.push(id);
  }
  if (kind === '/v1/messages stream' && parseSse(text).at(-1)?.event !== 'message_stop') {
    fail('the relay stream was cut');
    return;
  }
  if (kind === 'chat JSON') {
    const id = (JSON.parse(text) as { session_id?: string }).session_id;
    if (id && sessionIds.length < 200) sessionIds.push(id);
  }
  tally.ok.set(kind, (tally.ok.get(kind) ?? 0) + 1);
}

/** CLIENTS clients, each one request at a time, until the time or the request budget runs out. */
async function traffic(seconds: number, tally: Tally): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  let seed = 42;
  const random = (): number => {
    // A fixed sequence, so a failing mix can be replayed.
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < deadline && sent < MAX_REQUESTS) {
        sent += 1;
        try {
          await once(pick(random()), sent, tally);
        } catch (error) {
          tally.failures.push(`a request failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  return sent;
}

describe(`mixed traffic for ${SECONDS} s at a low request limit`, () => {
  it(
    'fails nothing but the intended 429s (with Retry-After and RateLimit headers), and memory stays bounded',
    { timeout: (SECONDS + 60) * 1000 },
    async () => {
      const tally: Tally = { ok: new Map(), limited: new Map(), failures: [] };
      // Warm up (first SDK load, statement caches), then take the baseline.
      await traffic(Math.min(2, SECONDS / 5), tally);
      const before = memory();
      const sent = await traffic(SECONDS, tally);

      expect(tally.failures.slice(0, 10)).toEqual([]);
      for (const [kind] of KINDS) expect(tally.ok.get(kind) ?? 0, `${kind} answered`).toBeGreaterThan(0);
      const limited = [...tally.limited.values()].reduce((sum, count) => sum + count, 0);
      expect(limited, 'the request limit was reached').toBeGreaterThan(0);
      // Only the routes that call Claude are limited.
      for (const kind of ['session list', 'search', 'session'] as const) expect(tally.limited.get(kind) ?? 0).toBe(0);
      expect(sent).toBeGreaterThan(CLIENTS);

      // Everything in flight has finished and been put away.
      await expect.poll(() => perch.service.core.chat.activeAnswers).toBe(0);
      await expect.poll(() => perch.service.core.upstreamGate.inFlight).toBe(0);
      const after = memory();
      expect(after.heapMb, `heap ${before.heapMb.toFixed(1)} → ${after.heapMb.toFixed(1)} MB`).toBeLessThan(before.heapMb + 64);
      expect(after.rssMb, `rss ${before.rssMb.toFixed(1)} → ${after.rssMb.toFixed(1)} MB`).toBeLessThan(before.rssMb * 1.5 + 100);
      await expectHealthy(perch);
    },
  );
});

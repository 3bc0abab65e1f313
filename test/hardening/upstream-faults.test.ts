import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Scenario } from '../fixtures/fake-anthropic.js';
import { parseSse, startTestPerch, type SseEvent, type TestPerch } from '../helpers/perch.js';
import { expectHealthy } from './harness.js';

/**
 * Every way the upstream can fail, in one table, through Perch's own chat (JSON and stream)
 * and the Anthropic relay (/v1/messages, JSON and stream). Each yields the documented error
 * (README, Errors) or a retry; a chat keeps the question and saves what arrived as `partial`;
 * and afterwards the service is healthy and the next good request is answered.
 *
 * The upstream URL lives in the settings (not the environment), so a row can point Perch at a
 * closed port or a name that cannot resolve, and back.
 */

let perch: TestPerch;
let closedPort = 0;
beforeAll(async () => {
  perch = await startTestPerch({ env: { PERCH_UPSTREAM_URL: '' } });
  perch.service.core.settings.set('claude.upstreamUrl', perch.upstream.url);
  // A port nothing listens on: bound once, then closed.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await perch.stop();
});
afterEach(() => {
  perch.service.core.settings.set('claude.upstreamUrl', perch.upstream.url);
  perch.service.core.settings.reset('claude.timeoutSeconds');
});

type Surface = 'chat JSON' | 'chat stream' | '/v1/messages JSON' | '/v1/messages stream';

/** What a client sees when a fault hits: an HTTP error, an SSE error event, or (after a retry) an answer. */
type Outcome =
  | { kind: 'error'; status: number; type: string; retryAfter?: string }
  | { kind: 'event'; type: string; textBefore?: string }
  | { kind: 'answer'; text: string; upstreamCalls: number };

interface Fault {
  name: string;
  /** Scenarios for the fake upstream, or a change of upstream URL. */
  arrange: () => void;
  /** How a chat's answer is kept: `error` (no text arrived) or `partial` (with that text); undefined when it succeeds. */
  kept?: { status: 'error' | 'partial'; content: string };
  expected: Partial<Record<Surface, Outcome>>;
}

const enqueue =
  (...scenarios: Scenario[]) =>
  (): void =>
    perch.upstream.enqueue(...scenarios);
const pointUpstreamAt = (url: () => string) => (): void => perch.service.core.settings.set('claude.upstreamUrl', url());
const overloaded = { type: 'overloaded_error', message: 'Overloaded' };

/** Perch could not reach the upstream at all: the same answer on every surface. */
const UNREACHABLE: Fault['expected'] = {
  'chat JSON': { kind: 'error', status: 502, type: 'upstream_unreachable' },
  'chat stream': { kind: 'event', type: 'upstream_unreachable' },
  '/v1/messages JSON': { kind: 'error', status: 502, type: 'upstream_unreachable' },
  '/v1/messages stream': { kind: 'error', status: 502, type: 'upstream_unreachable' },
};

const FAULTS: Fault[] = [
  {
    name: '429 with retry-after',
    arrange: enqueue({ kind: 'http-error', status: 429, type: 'rate_limit_error', message: 'Slow down', retryAfter: 7 }),
    kept: { status: 'error', content: '' },
    expected: {
      'chat JSON': { kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: '7' },
      'chat stream': { kind: 'event', type: 'rate_limit_error' },
      '/v1/messages JSON': { kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: '7' },
      '/v1/messages stream': { kind: 'error', status: 429, type: 'rate_limit_error', retryAfter: '7' },
    },
  },
  {
    name: '500',
    arrange: enqueue({ kind: 'http-error', status: 500, type: 'api_error', message: 'Internal server error' }),
    kept: { status: 'error', content: '' },
    expected: {
      'chat JSON': { kind: 'error', status: 502, type: 'upstream_error' },
      'chat stream': { kind: 'event', type: 'upstream_error' },
      // The relay passes Anthropic's own answer on unchanged.
      '/v1/messages JSON': { kind: 'error', status: 500, type: 'api_error' },
      '/v1/messages stream': { kind: 'error', status: 500, type: 'api_error' },
    },
  },
  {
    name: '529 overloaded',
    arrange: enqueue({ kind: 'http-error', status: 529, ...overloaded }),
    kept: { status: 'error', content: '' },
    expected: {
      'chat JSON': { kind: 'error', status: 503, type: 'upstream_overloaded', retryAfter: '5' },
      'chat stream': { kind: 'event', type: 'upstream_overloaded' },
      '/v1/messages JSON': { kind: 'error', status: 529, type: 'overloaded_error' },
      '/v1/messages stream': { kind: 'error', status: 529, type: 'overloaded_error' },
    },
  },
  {
    name: 'an overload as an SSE error event before any text',
    arrange: enqueue({ kind: 'stream-error', ...overloaded }, { kind: 'answer', text: 'Second try.' }),
    expected: {
      // Perch retries an overload that arrives before any text: the client never sees it.
      'chat JSON': { kind: 'answer', text: 'Second try.', upstreamCalls: 2 },
      'chat stream': { kind: 'answer', text: 'Second try.', upstreamCalls: 2 },
      // The relay is transparent: the client's SDK sees the event (and retries as it sees fit).
      '/v1/messages stream': { kind: 'event', type: 'overloaded_error' },
    },
  },
  {
    name: 'an overload as an SSE error event after some text',
    arrange: enqueue({ kind: 'stream-error', textBefore: 'The first half', ...overloaded }),
    kept: { status: 'partial', content: 'The first half' },
    expected: {
      'chat JSON': { kind: 'error', status: 503, type: 'upstream_overloaded' },
      'chat stream': { kind: 'event', type: 'upstream_overloaded', textBefore: 'The first half' },
      '/v1/messages stream': { kind: 'event', type: 'overloaded_error', textBefore: 'The first half' },
    },
  },
  {
    name: 'a stream cut mid-answer',
    arrange: enqueue({ kind: 'cut', textBefore: 'Half an ans' }),
    kept: { status: 'partial', content: 'Half an ans' },
    expected: {
      'chat JSON': { kind: 'error', status: 502, type: 'upstream_error' },
      'chat stream': { kind: 'event', type: 'upstream_error', textBefore: 'Half an ans' },
      '/v1/messages stream': { kind: 'event', type: 'api_error', textBefore: 'Half an ans' },
    },
  },
  {
    name: 'a stream that stalls past claude.timeoutSeconds',
    arrange: () => {
      perch.service.core.settings.set('claude.timeoutSeconds', 1);
      perch.upstream.enqueue({ kind: 'stall', textBefore: 'And then' });
    },
    kept: { status: 'partial', content: 'And then' },
    expected: {
      'chat JSON': { kind: 'error', status: 504, type: 'upstream_timeout' },
      'chat stream': { kind: 'event', type: 'upstream_timeout', textBefore: 'And then' },
      '/v1/messages JSON': { kind: 'error', status: 504, type: 'upstream_timeout' },
      '/v1/messages stream': { kind: 'event', type: 'api_error', textBefore: 'And then' },
    },
  },
  {
    name: 'connection refused',
    arrange: pointUpstreamAt(() => `http://127.0.0.1:${closedPort}`),
    kept: { status: 'error', content: '' },
    expected: UNREACHABLE,
  },
  {
    name: 'a DNS failure',
    arrange: pointUpstreamAt(() => 'http://perch-upstream.invalid'),
    kept: { status: 'error', content: '' },
    expected: UNREACHABLE,
  },
];

interface Seen {
  status: number;
  headers: Headers;
  /** The JSON body, for JSON answers. */
  json?: Record<string, unknown>;
  /** The events, for streamed answers. */
  events?: SseEvent[];
}

async function ask(surface: Surface, question: string): Promise<Seen> {
  const stream = surface.endsWith('stream');
  const res = surface.startsWith('chat')
    ? await perch.request('/api/v1/chat', { json: { message: question, stream } })
    : await perch.request('/v1/messages', {
        json: { model: 'claude-sonnet-5-5', max_tokens: 64, stream, messages: [{ role: 'user', content: question }] },
        headers: { 'anthropic-version': '2023-06-01' },
      });
  const text = await res.text();
  const isStream = (res.headers.get('content-type') ?? '').includes('text/event-stream');
  return isStream
    ? { status: res.status, headers: res.headers, events: parseSse(text) }
    : { status: res.status, headers: res.headers, json: JSON.parse(text) as Record<string, unknown> };
}

/** The text of a stream: Perch's `delta` events, or the relay's text deltas. */
function streamedText(events: SseEvent[]): string {
  return events
    .map((event) => {
      const data = event.data as { text?: string; delta?: { text?: string } } | undefined;
      if (event.event === 'delta') return data?.text ?? '';
      if (event.event === 'content_block_delta') return data?.delta?.text ?? '';
      return '';
    })
    .join('');
}

function expectOutcome(surface: Surface, seen: Seen, outcome: Outcome, callsBefore: number): void {
  const compat = surface.startsWith('/v1');
  if (outcome.kind === 'error') {
    expect(seen.status).toBe(outcome.status);
    expect(seen.json).toMatchObject({ error: { type: outcome.type } });
    expect(typeof (seen.json?.error as { message?: unknown }).message).toBe('string');
    if (compat) expect(seen.json?.type).toBe('error');
    if (outcome.retryAfter !== undefined) expect(seen.headers.get('retry-after')).toBe(outcome.retryAfter);
    return;
  }
  if (outcome.kind === 'event') {
    expect(seen.status).toBe(200);
    const last = seen.events?.at(-1);
    expect(last?.event).toBe('error');
    expect(last?.data).toMatchObject({ error: { type: outcome.type } });
    expect(streamedText(seen.events ?? [])).toBe(outcome.textBefore ?? '');
    return;
  }
  expect(seen.status).toBe(200);
  const text = seen.json ? seen.json.response : (seen.events?.at(-1)?.data as { response?: string } | undefined)?.response;
  expect(text).toBe(outcome.text);
  expect(perch.upstream.messageRequests.length - callsBefore).toBe(outcome.upstreamCalls);
}

/** The chat's session: the question kept, and the answer saved as it ended. */
async function expectSessionShows(seen: Seen, question: string, kept: Fault['kept']): Promise<void> {
  const ids = seen.json ?? (seen.events?.[0]?.data as Record<string, unknown> | undefined);
  const sessionId = ids?.session_id;
  expect(typeof sessionId).toBe('string');
  const session = (await (await perch.request(`/api/v1/sessions/${String(sessionId)}`)).json()) as {
    messages: Array<{ role: string; content: string; status: string; error: { type: string } | null }>;
  };
  const [asked, answered] = session.messages;
  expect(asked).toMatchObject({ role: 'user', content: question, status: 'complete' });
  if (kept) expect(answered).toMatchObject({ role: 'assistant', status: kept.status, content: kept.content });
  else expect(answered).toMatchObject({ role: 'assistant', status: 'complete' });
  if (seen.json && kept?.status === 'partial') expect(seen.json.partial_response).toBe(kept.content);
}

/** Healthy, and the next good request (with the upstream back to normal) is answered. */
async function expectRecovered(surface: Surface): Promise<void> {
  perch.service.core.settings.set('claude.upstreamUrl', perch.upstream.url);
  perch.service.core.settings.reset('claude.timeoutSeconds');
  await expectHealthy(perch);
  const next = await ask(surface, 'still there?');
  expect(next.status).toBe(200);
}

const CASES = FAULTS.flatMap((fault) =>
  (Object.entries(fault.expected) as Array<[Surface, Outcome]>).map(([surface, outcome]) => ({
    fault,
    surface,
    outcome,
    title: `${fault.name} through ${surface}`,
  })),
);

describe('upstream faults', () => {
  it('cover every fault on the list, through the chat and the relay', () => {
    expect(FAULTS.map((fault) => fault.name)).toHaveLength(9);
    for (const fault of FAULTS) expect(Object.keys(fault.expected).length).toBeGreaterThanOrEqual(3);
  });

  for (const { fault, surface, outcome, title } of CASES) {
    it(`${title}: the documented error or a retry, the session shows it, and the service stays healthy`, async () => {
      const question = `What about ${fault.name}?`;
      const callsBefore = perch.upstream.messageRequests.length;
      fault.arrange();
      const seen = await ask(surface, question);
      expectOutcome(surface, seen, outcome, callsBefore);
      if (surface.startsWith('chat')) await expectSessionShows(seen, question, fault.kept);
      await expectRecovered(surface);
    });
  }
});

describe('with the SDK retrying as in everyday use', () => {
  let retrying: TestPerch;
  beforeAll(async () => {
    retrying = await startTestPerch({ maxRetries: 1 });
  });
  afterAll(async () => {
    await retrying.stop();
  });

  it.each([
    ['a 529 overload', { kind: 'http-error', status: 529, ...overloaded } as const],
    ['a 500', { kind: 'http-error', status: 500, type: 'api_error', message: 'Internal server error' } as const],
  ])('%s is retried and the chat is answered', async (_name, fault) => {
    const calls = retrying.upstream.messageRequests.length;
    retrying.upstream.enqueue(fault, { kind: 'answer', text: 'After a retry.' });
    const res = await retrying.request('/api/v1/chat', { json: { message: 'retry me' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toBe('After a retry.');
    expect(retrying.upstream.messageRequests.length - calls).toBe(2);
    await expectHealthy(retrying);
  });
});

describe('an upstream answer that breaks the protocol', () => {
  const SURFACES: Surface[] = ['chat JSON', 'chat stream', '/v1/messages JSON', '/v1/messages stream'];
  for (const surface of SURFACES) {
    it(`with a model that is not a string, through ${surface}: answered, recorded, and the service keeps running`, async () => {
      // The fake reports whatever model it is given; a number must not reach the price list.
      perch.upstream.enqueue({ kind: 'answer', text: 'Odd but fine.', model: 42 as unknown as string });
      const seen = await ask(surface, 'odd model');
      expect(seen.status).toBe(200);
      if (seen.events) expect(seen.events.at(-1)?.event).toMatch(/^(done|message_stop)$/);
      await expectRecovered(surface);
    });
  }
});

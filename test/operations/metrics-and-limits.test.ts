import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_API_KEY, startTestPerch, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
const DESKTOP_SECRET = 'desktop-secret-for-limit-tests';
beforeEach(async () => {
  perch = await startTestPerch({ desktopSecret: DESKTOP_SECRET });
});
afterEach(async () => {
  await perch.stop();
});

const chat = (message: string) => perch.request('/api/v1/chat', { json: { message } });
const relay = () =>
  perch.request('/v1/messages', {
    json: { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'anthropic-version': '2023-06-01' },
  });

/** Changes limits as the desktop app does (a client may only tighten them). */
const setSettings = (patch: Record<string, Record<string, unknown>>) =>
  perch.request('/api/v1/settings', { method: 'PATCH', json: patch, headers: { 'x-perch-desktop': DESKTOP_SECRET } });

async function metrics(): Promise<string> {
  const res = await perch.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series, e.g. value(text, 'perch_http_requests_total', {route: '/api/v1/chat'}). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = text
    .split('\n')
    .find((entry) =>
      entry.startsWith(`${name}{`) || entry.startsWith(`${name} `)
        ? Object.entries(labels).every(([key, wanted]) => entry.includes(`${key}="${wanted}"`))
        : false,
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('needs the token, like every API route', async () => {
    expect((await fetch(`${perch.url}/metrics`)).status).toBe(401);
  });

  it('counts requests by route pattern and status, calls to Claude by model and outcome, tokens and cost', async () => {
    expect((await chat('hello')).status).toBe(200);
    const session = (await (await chat('again')).json()) as { session_id: string };
    expect((await perch.request(`/api/v1/sessions/${session.session_id}`)).status).toBe(200);
    expect((await relay()).status).toBe(200);
    perch.upstream.enqueue({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    expect((await chat('fails')).status).toBeGreaterThanOrEqual(500);

    const text = await metrics();
    expect(value(text, 'perch_http_requests_total', { method: 'POST', route: '/api/v1/chat', status: '200' })).toBe(2);
    // Ids never become labels: the route's pattern does.
    expect(value(text, 'perch_http_requests_total', { route: '/api/v1/sessions/:id', status: '200' })).toBe(1);
    expect(text).not.toContain(session.session_id);
    expect(value(text, 'perch_upstream_requests_total', { path: 'messages', outcome: 'ok' })).toBe(2);
    expect(value(text, 'perch_upstream_requests_total', { path: 'messages', outcome: 'upstream_overloaded' })).toBeGreaterThan(0);
    expect(value(text, 'perch_upstream_requests_total', { path: 'relay', outcome: 'ok' })).toBe(1);
    expect(value(text, 'perch_upstream_time_to_first_token_seconds_count', { path: 'messages' })).toBe(2);
    expect(value(text, 'perch_tokens_total', { source: 'chat', kind: 'output' })).toBeGreaterThan(0);
    expect(value(text, 'perch_tokens_total', { source: 'anthropic', kind: 'input' })).toBeGreaterThan(0);
    expect(value(text, 'perch_cost_usd_total', { source: 'chat' })).toBeGreaterThan(0);
    expect(value(text, 'perch_http_request_duration_seconds_count', { route: '/api/v1/chat' })).toBe(3);
    expect(value(text, 'perch_active_streams')).toBe(0);
    expect(value(text, 'perch_upstream_in_flight')).toBe(0);
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).not.toContain(perch.token);
  });

  it('counts scheduled runs by outcome', async () => {
    const created = (await (
      await perch.request('/api/v1/jobs', { json: { name: 'Check', prompt: 'ping', interval_seconds: 3600 } })
    ).json()) as { id: string };
    expect((await perch.request(`/api/v1/jobs/${created.id}/run`, { method: 'POST' })).status).toBe(202);
    await expect.poll(async () => value(await metrics(), 'perch_scheduled_runs_total', { outcome: 'succeeded' })).toBe(1);
  });
});

describe('the request limit (rateLimit.requestsPerMinute)', () => {
  it('answers 429 with Retry-After and RateLimit headers once a client has used its minute', async () => {
    expect((await setSettings({ rateLimit: { requestsPerMinute: 2 } })).status).toBe(200);
    const first = await chat('one');
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('2;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^limit=2, remaining=1, reset=\d+$/);
    expect((await chat('two')).status).toBe(200);
    const refused = await chat('three');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { type: string; message: string } }).error).toMatchObject({
      type: 'rate_limit_error',
      message: expect.stringContaining('rateLimit.requestsPerMinute'),
    });
    // The relay is limited too, and answers in Anthropic's shape.
    const relayed = await relay();
    expect(relayed.status).toBe(429);
    expect(await relayed.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    // Reads and the UI's own polling are not counted.
    for (let i = 0; i < 5; i += 1) expect((await perch.request('/api/v1/sessions')).status).toBe(200);
    expect(value(await metrics(), 'perch_refused_requests_total', { reason: 'rate_limited' })).toBe(2);
  });

  it('is off at 0', async () => {
    await setSettings({ rateLimit: { requestsPerMinute: 0 } });
    for (let i = 0; i < 4; i += 1) expect((await chat(`n${i}`)).status).toBe(200);
  });

  it('limits webhook deliveries apart from the API', async () => {
    await setSettings({ rateLimit: { requestsPerMinute: 1, webhooksPerMinute: 2 } });
    expect((await chat('one')).status).toBe(200);
    const deliver = () => fetch(`${perch.url}/webhook/slack`, { method: 'POST', body: 'text=hi' });
    // Unsigned deliveries are refused (401) and never use up the real sender's allowance.
    for (let i = 0; i < 5; i += 1) expect((await deliver()).status).toBe(401);
  });
});

describe('the daily budget (budget.dailyUsd)', () => {
  it('refuses calls to Claude with 429 until midnight once today’s spend reaches it', async () => {
    expect((await chat('costs a little')).status).toBe(200);
    expect((await setSettings({ budget: { dailyUsd: 0.000001 } })).status).toBe(200);
    const refused = await chat('one more');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('daily_budget_reached');
    expect(body.error.message).toContain('budget.dailyUsd');
    expect((await relay()).status).toBe(429);
    expect(value(await metrics(), 'perch_refused_requests_total', { reason: 'daily_budget_reached' })).toBe(2);
    // Raising it lets answers through again.
    await setSettings({ budget: { dailyUsd: 100 } });
    expect((await chat('fine now')).status).toBe(200);
  });
});

describe('the bound on calls to Claude at once (claude.maxConcurrentRequests)', () => {
  it('makes extra requests wait in line instead of opening more upstream streams', async () => {
    await setSettings({ claude: { maxConcurrentRequests: 1 } });
    for (let i = 0; i < 3; i += 1) perch.upstream.enqueue({ kind: 'answer', text: 'slow answer', chunks: 5, delayMs: 60 });
    const answers = Promise.all([chat('a'), chat('b'), chat('c')]);
    await expect.poll(async () => value(await metrics(), 'perch_upstream_waiting')).toBe(2);
    expect(value(await metrics(), 'perch_upstream_in_flight')).toBe(1);
    expect((await answers).map((res) => res.status)).toEqual([200, 200, 200]);
    expect(value(await metrics(), 'perch_upstream_waiting')).toBe(0);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { usageSummary } from '../../main/api/response-schemas.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

type UsageSummary = z.infer<typeof usageSummary>;

interface ChatAnswer {
  session_id: string;
  model: string;
  usage: { input_tokens: number; output_tokens: number };
  cost_usd: number | null;
}

let perch: TestPerch;
afterEach(async () => {
  await perch.stop();
});

async function chat(message: string, extra: Record<string, unknown> = {}): Promise<ChatAnswer> {
  const res = await perch.request('/api/v1/chat', { json: { message, ...extra } });
  expect(res.status).toBe(200);
  return (await res.json()) as ChatAnswer;
}

/** The report, checked against the documented shape. */
async function usage(query = ''): Promise<UsageSummary> {
  const res = await perch.request(`/api/v1/usage${query}`);
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return usageSummary.parse(body);
}

async function refusal(query: string): Promise<{ status: number; message: string }> {
  const res = await perch.request(`/api/v1/usage${query}`);
  return { status: res.status, message: ((await res.json()) as { error: { message: string } }).error.message };
}

const sum = (answers: ChatAnswer[], pick: (answer: ChatAnswer) => number): number =>
  answers.reduce((total, answer) => total + pick(answer), 0);

const microDollars = (usd: number | null | undefined): number => Math.round((usd ?? 0) * 1_000_000);

describe('GET /api/v1/usage', () => {
  it('totals every answer in the period: requests, tokens and estimated cost', async () => {
    perch = await startTestPerch();
    const answers = [
      await chat('What is a monad?'),
      await chat('And a functor?'),
      await chat('Short answer please', { model: 'claude-haiku-4-5' }),
    ];
    const report = await usage();
    expect(report.totals).toEqual({
      requests: 3,
      input_tokens: sum(answers, (answer) => answer.usage.input_tokens),
      output_tokens: sum(answers, (answer) => answer.usage.output_tokens),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cost_usd: expect.any(Number) as number,
      unpriced_requests: 0,
      estimated_requests: 0,
    });
    expect(microDollars(report.totals.cost_usd)).toBe(sum(answers, (answer) => microDollars(answer.cost_usd)));
    expect(report.group_by).toBe('day');
    expect(report.time_zone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('groups by model, biggest spender first, with a null cost for a model whose price is unknown', async () => {
    perch = await startTestPerch();
    const sonnet = [await chat('one'), await chat('two')];
    const haiku = await chat('three', { model: 'claude-haiku-4-5' });
    const mystery = await chat('four', { model: 'mystery-model-1' });
    expect(mystery.cost_usd).toBeNull();

    const report = await usage('?group_by=model');
    expect(report.groups.map((group) => [group.key, group.requests])).toEqual([
      ['claude-sonnet-5-5', 2],
      ['claude-haiku-4-5', 1],
      ['mystery-model-1', 1],
    ]);
    const [sonnetRow, haikuRow, mysteryRow] = report.groups;
    expect(microDollars(sonnetRow?.cost_usd)).toBe(sum(sonnet, (answer) => microDollars(answer.cost_usd)));
    expect(haikuRow?.cost_usd).toBe(haiku.cost_usd);
    expect(mysteryRow).toMatchObject({ label: 'mystery-model-1', cost_usd: null, unpriced_requests: 1 });
    expect(mysteryRow?.output_tokens).toBe(mystery.usage.output_tokens);
    // The total counts what has a price and says how many requests it leaves out.
    expect(report.totals.unpriced_requests).toBe(1);
    expect(microDollars(report.totals.cost_usd)).toBe(sum([...sonnet, haiku], (answer) => microDollars(answer.cost_usd)));
  });

  it('groups by session with the session title, and other sources (and deleted chats) under their own name', async () => {
    perch = await startTestPerch();
    const first = await chat('Plan my week');
    await chat('Add a gym day', { session_id: first.session_id });
    const renamed = await chat('Translate hello');
    await perch.request(`/api/v1/sessions/${renamed.session_id}`, { method: 'PATCH', json: { title: 'Greetings' } });
    const gone = await chat('Something to forget');
    expect((await perch.request(`/api/v1/sessions/${gone.session_id}`, { method: 'DELETE' })).status).toBe(204);
    const relayed = await perch.request('/v1/messages', {
      json: { model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hello from an editor' }] },
    });
    expect(relayed.status).toBe(200);

    const report = await usage('?group_by=session');
    const rows = Object.fromEntries(report.groups.map((group) => [group.key, group]));
    expect(rows[first.session_id]).toMatchObject({ label: 'Plan my week', session_id: first.session_id, requests: 2 });
    expect(rows[renamed.session_id]).toMatchObject({ label: 'Greetings', session_id: renamed.session_id, requests: 1 });
    expect(rows.chat).toMatchObject({ label: 'Deleted chats', session_id: null, requests: 1 });
    expect(rows.anthropic).toMatchObject({ label: 'Anthropic relay', session_id: null, requests: 1 });
    expect(report.groups).toHaveLength(4);
    expect(report.totals.requests).toBe(5);
  });

  it('groups by source', async () => {
    perch = await startTestPerch();
    await chat('Hi');
    const completion = await perch.request('/v1/chat/completions', {
      json: { model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'Hello' }] },
    });
    expect(completion.status).toBe(200);
    const report = await usage('?group_by=source');
    expect(report.groups.map((group) => [group.key, group.label, group.requests]).sort()).toEqual([
      ['chat', 'Chat', 1],
      ['openai', 'OpenAI-compatible endpoint', 1],
    ]);
  });

  describe('by day', () => {
    // 2025-03-09 22:30 UTC: already the 10th in Tokyo, still the 9th in New York (whose
    // clocks went forward that morning, so its 9th lasts 23 hours).
    const chatsAcrossMidnight = async (): Promise<FakeClock> => {
      const clock = new FakeClock('2025-03-09T22:30:00Z');
      perch = await startTestPerch({ clock });
      await chat('late evening in London');
      clock.sleep(60 * 60_000); // 23:30 UTC
      await chat('just before midnight in London');
      clock.sleep(5.5 * 60 * 60_000); // 05:00 UTC on the 10th
      await chat('early morning in London');
      return clock;
    };
    const byDay = (report: UsageSummary): Array<[string, number]> => report.groups.map((group) => [group.key, group.requests]);

    it('lists every day of the period, the empty ones as zeros', async () => {
      await chatsAcrossMidnight();
      const report = await usage('?from=2025-03-07&to=2025-03-12&tz=UTC');
      expect(byDay(report)).toEqual([
        ['2025-03-07', 0],
        ['2025-03-08', 0],
        ['2025-03-09', 2],
        ['2025-03-10', 1],
        ['2025-03-11', 0],
      ]);
      expect(report.groups[0]).toEqual({
        key: '2025-03-07',
        label: '2025-03-07',
        requests: 0,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
        cost_usd: 0,
        unpriced_requests: 0,
        estimated_requests: 0,
      });
      expect(report).toMatchObject({ from: '2025-03-07T00:00:00.000Z', to: '2025-03-12T00:00:00.000Z', time_zone: 'UTC' });
      expect(report.totals.requests).toBe(3);
    });

    it('counts the calendar days of the time zone asked for', async () => {
      await chatsAcrossMidnight();
      const tokyo = await usage('?from=2025-03-09&to=2025-03-11&tz=Asia/Tokyo');
      expect(byDay(tokyo)).toEqual([
        ['2025-03-09', 0],
        ['2025-03-10', 3],
      ]);
      expect(tokyo.from).toBe('2025-03-08T15:00:00.000Z');
      const newYork = await usage('?from=2025-03-09&to=2025-03-11&tz=America/New_York');
      expect(byDay(newYork)).toEqual([
        ['2025-03-09', 2],
        ['2025-03-10', 1],
      ]);
      // Midnight before the clocks went forward, and after.
      expect(newYork).toMatchObject({ from: '2025-03-09T05:00:00.000Z', to: '2025-03-11T04:00:00.000Z' });
    });

    it('takes date-times with an offset as exact instants, and clips the first and last day to them', async () => {
      await chatsAcrossMidnight();
      const report = await usage('?from=2025-03-09T23:00:00Z&to=2025-03-10T07:00%2B01:00&tz=UTC');
      expect(byDay(report)).toEqual([
        ['2025-03-09', 1],
        ['2025-03-10', 1],
      ]);
      expect(report).toMatchObject({ from: '2025-03-09T23:00:00.000Z', to: '2025-03-10T06:00:00.000Z' });
    });

    it('covers the last 30 days up to now by default', async () => {
      const clock = await chatsAcrossMidnight();
      clock.sleep(60_000);
      const report = await usage('?tz=UTC');
      expect(report.groups).toHaveLength(30);
      expect(report.groups[0]?.key).toBe('2025-02-09');
      expect(report.groups.at(-1)?.key).toBe('2025-03-10');
      expect(report).toMatchObject({ from: '2025-02-09T00:00:00.000Z', to: '2025-03-10T05:01:00.000Z' });
      expect(report.totals.requests).toBe(3);
    });
  });

  describe('refuses a bad query with 400 naming the field', () => {
    it.each([
      ['?from=yesterday', "'from'"],
      ['?to=2025-02-30', "'to'"],
      ['?group_by=week', "'group_by'"],
      ['?tz=Mars/Olympus_Mons', "'tz'"],
      ['?from=2025-03-10&to=2025-03-10', "'from': it must be before 'to'"],
      ['?from=2024-01-01&to=2025-03-01', 'at most 366 days'],
    ])('%s', async (query, named) => {
      perch = await startTestPerch();
      const { status, message } = await refusal(query);
      expect(status).toBe(400);
      expect(message).toContain(named);
    });
  });

  it('needs the token', async () => {
    perch = await startTestPerch();
    expect((await fetch(`${perch.url}/api/v1/usage`)).status).toBe(401);
    expect((await perch.request('/api/v1/usage', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('only reads: other methods are 405', async () => {
    perch = await startTestPerch();
    const res = await perch.request('/api/v1/usage', { json: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

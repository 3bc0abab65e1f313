import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { message as messageShape, usageSummary } from '../../main/api/response-schemas.js';
import { estimateCostUsd, estimatedUsage, type TokenUsage } from '../../main/core/claude/pricing.js';
import type { UsageRow } from '../../main/core/storage/usage-store.js';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';

/**
 * Anthropic bills every token it generated, also for an answer that was stopped or cut before
 * its final count arrived (message_start reports 1 output token). Such answers are recorded with
 * an estimate from what arrived, about 4 characters a token, marked as estimated.
 */

let perch: TestPerch;
beforeEach(async () => {
  perch = await startTestPerch();
});
afterEach(async () => {
  await perch.stop();
});

/** About 600 words. */
const LONG_TEXT = 'word '.repeat(600);
const MODEL = 'claude-sonnet-5-5';

type SavedMessage = {
  role: string;
  status: string;
  content: string;
  usage: TokenUsage | null;
  cost_usd: number | null;
};

async function messagesOf(sessionId: string): Promise<SavedMessage[]> {
  const res = await perch.request(`/api/v1/sessions/${sessionId}`);
  return ((await res.json()) as { messages: SavedMessage[] }).messages;
}

const rowsFrom = (source: string): UsageRow[] =>
  perch.service.core.usage
    .recent(100)
    .filter((row) => row.source === source)
    .reverse();

/** The answer text an event carries: Perch's `delta`, the relay's text delta, or an OpenAI chunk. */
function textOf(event: ReturnType<typeof parseSse>[number]): string {
  const data = event.data as {
    text?: string;
    delta?: { text?: string };
    choices?: Array<{ delta?: { content?: string } }>;
  };
  if (event.event === 'delta') return data.text ?? '';
  return data.delta?.text ?? data.choices?.[0]?.delta?.content ?? '';
}

/**
 * POSTs a streaming request over raw HTTP and hangs up once `characters` of answer text have
 * arrived (what a person pressing Stop does); resolves with the events seen until then.
 */
function streamAndHangUp(pathname: string, body: unknown, characters: number): Promise<ReturnType<typeof parseSse>> {
  const url = new URL(pathname, perch.url);
  const json = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${perch.token}`,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'content-length': Buffer.byteLength(json),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          const events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
          const arrived = events.map(textOf).join('');
          if (arrived.length >= characters) {
            req.destroy();
            resolve(events);
          }
        });
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end(json);
  });
}

describe('an answer stopped by the person', () => {
  it('records the tokens of the text that arrived (≈ characters / 4), marked as estimated, in the message and the ledger', async () => {
    perch.upstream.enqueue({ kind: 'stall', textBefore: LONG_TEXT });
    const events = await streamAndHangUp('/api/v1/chat', { message: 'Tell me a long story', stream: true }, LONG_TEXT.length);
    const { session_id } = events[0]?.data as { session_id: string };
    await expect.poll(async () => (await messagesOf(session_id))[1]?.status).toBe('partial');

    const [, answer] = await messagesOf(session_id);
    expect(answer?.content).toBe(LONG_TEXT);
    expect(answer?.usage).toMatchObject({ output_tokens: LONG_TEXT.length / 4, estimated: true });
    expect(messageShape.safeParse(answer).success).toBe(true);
    const [row] = rowsFrom('chat');
    expect(row).toMatchObject({ output_tokens: LONG_TEXT.length / 4, estimated: 1 });
    // The cost follows the estimate.
    expect(answer?.cost_usd).toBe(estimateCostUsd(MODEL, answer?.usage as TokenUsage));
    expect(row?.cost_usd).toBe(answer?.cost_usd);

    const report = usageSummary.parse(await (await perch.request('/api/v1/usage')).json());
    expect(report.totals).toMatchObject({ requests: 1, output_tokens: LONG_TEXT.length / 4, estimated_requests: 1 });
  });
});

describe('an answer cut by the upstream', () => {
  it('records the estimate in chat too, never less than what the upstream had reported', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'Half an answer. '.repeat(5) });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    expect(res.status).toBe(502);
    const { session_id } = (await res.json()) as { session_id: string };
    const [, answer] = await messagesOf(session_id);
    expect(answer?.usage).toMatchObject({ output_tokens: 20, estimated: true });
    // message_start's 1 token is the floor: an answer cut before any text still counts it.
    expect(estimatedUsage({ input_tokens: 5, output_tokens: 1 }, 0)).toEqual({
      input_tokens: 5,
      output_tokens: 1,
      estimated: true,
    });
  });
});

describe('a complete answer', () => {
  it("keeps the upstream's exact count, not estimated", async () => {
    perch.upstream.enqueue({ kind: 'answer', text: LONG_TEXT, outputTokens: 437 });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const answer = (await res.json()) as { session_id: string; usage: Record<string, unknown> };
    expect(answer.usage.output_tokens).toBe(437);
    expect(answer.usage).not.toHaveProperty('estimated');
    const [, saved] = await messagesOf(answer.session_id);
    expect(saved?.usage).toMatchObject({ output_tokens: 437 });
    expect(saved?.usage).not.toHaveProperty('estimated');
    expect(rowsFrom('chat')[0]).toMatchObject({ output_tokens: 437, estimated: 0 });
  });

  it('through the relay keeps the exact count too', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: LONG_TEXT, outputTokens: 437 });
    const res = await perch.request('/v1/messages', {
      json: { model: MODEL, max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'x' }] },
      headers: { 'anthropic-version': '2023-06-01' },
    });
    await res.text();
    await expect.poll(() => rowsFrom('anthropic').length).toBe(1);
    expect(rowsFrom('anthropic')[0]).toMatchObject({ output_tokens: 437, estimated: 0 });
  });
});

describe('the Anthropic relay and the OpenAI-compatible endpoint', () => {
  const body = { model: MODEL, max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'x' }] };

  it('records an estimate for a stream its client cut', async () => {
    perch.upstream.enqueue({ kind: 'stall', textBefore: LONG_TEXT });
    await streamAndHangUp('/v1/messages', body, LONG_TEXT.length);
    await expect.poll(() => rowsFrom('anthropic').length).toBe(1);
    expect(rowsFrom('anthropic')[0]).toMatchObject({ model: MODEL, output_tokens: LONG_TEXT.length / 4, estimated: 1 });
  });

  it('records an estimate for an OpenAI-compatible stream its client cut', async () => {
    perch.upstream.enqueue({ kind: 'stall', textBefore: LONG_TEXT });
    await streamAndHangUp(
      '/v1/chat/completions',
      { model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] },
      LONG_TEXT.length,
    );
    await expect.poll(() => rowsFrom('openai').length).toBe(1);
    expect(rowsFrom('openai')[0]).toMatchObject({ output_tokens: LONG_TEXT.length / 4, estimated: 1 });
  });

  it('records an estimate for a stream the upstream cut', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: LONG_TEXT });
    const res = await perch.request('/v1/messages', { json: body, headers: { 'anthropic-version': '2023-06-01' } });
    const events = parseSse(await res.text());
    expect(events.at(-1)?.event).toBe('error');
    await expect.poll(() => rowsFrom('anthropic').length).toBe(1);
    expect(rowsFrom('anthropic')[0]).toMatchObject({ output_tokens: LONG_TEXT.length / 4, estimated: 1 });
  });
});

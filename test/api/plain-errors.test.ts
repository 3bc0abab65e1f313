import { afterEach, describe, expect, it } from 'vitest';
import { parseSse, startTestPerch, type TestPerch } from '../helpers/perch.js';
import { unusedPort } from '../helpers/ports.js';

/**
 * Errors people read — API error bodies, saved messages' errors — are plain sentences: no
 * system codes (UND_ERR_SOCKET, ECONNREFUSED), no "fetch failed", no Markdown backticks.
 */
const SYSTEM_TALK = /UND_ERR|\bE[A-Z]{4,}\b|fetch failed|`/;

const started: TestPerch[] = [];
afterEach(async () => {
  for (const perch of started.splice(0)) await perch.stop();
});

async function perchWith(options: Parameters<typeof startTestPerch>[0] = {}): Promise<TestPerch> {
  const perch = await startTestPerch(options);
  started.push(perch);
  return perch;
}

type SavedMessage = { role: string; status: string; error: { type: string; message: string } | null };

async function savedAnswer(perch: TestPerch, sessionId: string): Promise<SavedMessage | undefined> {
  const res = await perch.request(`/api/v1/sessions/${sessionId}`);
  return ((await res.json()) as { messages: SavedMessage[] }).messages[1];
}

describe('a chat answer the upstream breaks off', () => {
  it('says so in plain words when the connection is reset: no UND_ERR code, no backtick', async () => {
    const perch = await perchWith();
    perch.upstream.enqueue({ kind: 'reset', textBefore: 'The first half of' });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello', stream: true } });
    const events = parseSse(await res.text());
    const failure = events.at(-1)?.data as { error: { type: string; message: string }; session_id: string };
    expect(events.at(-1)?.event).toBe('error');
    // The type is the contract and stays; the message is for people.
    expect(failure.error.type).toBe('upstream_error');
    expect(failure.error.message).toBe('Anthropic reset the connection before the answer finished.');
    expect(failure.error.message).not.toMatch(SYSTEM_TALK);
    const saved = await savedAnswer(perch, failure.session_id);
    expect(saved).toMatchObject({ status: 'partial', error: { type: 'upstream_error', message: failure.error.message } });
  });

  it('says Anthropic closed the connection when it did', async () => {
    const perch = await perchWith();
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'Half an ans' });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error).toEqual({
      type: 'upstream_error',
      message: 'Anthropic closed the connection before the answer finished.',
    });
  });
});

describe('an upstream nobody answers at', () => {
  it('names the address and says the connection was refused', async () => {
    const upstreamUrl = `http://127.0.0.1:${await unusedPort()}`;
    const perch = await perchWith({ env: { PERCH_UPSTREAM_URL: upstreamUrl } });
    const chat = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const body = (await chat.json()) as { error: { type: string; message: string } };
    expect(chat.status).toBe(502);
    expect(body.error).toEqual({
      type: 'upstream_unreachable',
      message: `Could not connect to the Anthropic API at ${upstreamUrl}: connection refused (nothing is listening at that address). Check the network connection and the upstream URL setting.`,
    });
    // The relay says the same, in the Anthropic error shape.
    const relayed = await perch.request('/v1/messages', {
      json: { model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      headers: { 'anthropic-version': '2023-06-01' },
    });
    const relayedBody = (await relayed.json()) as { error: { type: string; message: string } };
    expect(relayedBody.error.type).toBe('upstream_unreachable');
    expect(relayedBody.error.message).toMatch(
      /^Could not connect to the Anthropic API at http:\/\/127\.0\.0\.1:\d+: connection refused/,
    );
  });
});

describe('errors that name a command', () => {
  it('name it without Markdown backticks', async () => {
    const keyless = await perchWith({ apiKey: null });
    const noKey = (await (await keyless.request('/api/v1/chat', { json: { message: 'hi' } })).json()) as {
      error: { type: string; message: string };
    };
    expect(noKey.error.type).toBe('no_api_key');
    expect(noKey.error.message).toContain('npx perch config set apiKey -');
    const noToken = (await (await fetch(`${keyless.url}/api/v1/sessions`)).json()) as { error: { message: string } };
    expect(noToken.error.message).toContain('npx perch token');
    const forbidden = (await (
      await keyless.request('/api/v1/settings', { method: 'PATCH', json: { api: { host: '0.0.0.0' } } })
    ).json()) as { error: { message: string } };
    expect(forbidden.error.message).toContain('npx perch config set api.host <value>');
    for (const message of [noKey.error.message, noToken.error.message, forbidden.error.message]) {
      expect(message).not.toMatch(SYSTEM_TALK);
    }
  });
});

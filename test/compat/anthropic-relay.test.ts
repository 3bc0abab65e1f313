import http from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

/** The official SDK pointed at Perch, holding Perch's token (as ANTHROPIC_AUTH_TOKEN would). */
const sdkWithAuthToken = (): Anthropic => new Anthropic({ baseURL: perch.url, authToken: perch.token, maxRetries: 0 });
/** …or as ANTHROPIC_API_KEY would (sent as x-api-key). */
const sdkWithApiKey = (): Anthropic => new Anthropic({ baseURL: perch.url, apiKey: perch.token, maxRetries: 0 });

const usageRows = () => perch.service.core.usage.recent(1000).reverse();

describe('POST /v1/messages through the Anthropic SDK', () => {
  it('answers with ANTHROPIC_AUTH_TOKEN-style auth (Authorization: Bearer <perch token>)', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Hello from Claude.' });
    const message = await sdkWithAuthToken().messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Claude.' }]);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('answers with ANTHROPIC_API_KEY-style auth (x-api-key: <perch token>)', async () => {
    const message = await sdkWithApiKey().messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'You said: ping' });
  });

  it('swaps the token for the real key: the upstream never sees the token', async () => {
    await sdkWithAuthToken().messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    const request = perch.upstream.messageRequests.at(-1);
    expect(request?.headers['x-api-key']).toBe(TEST_API_KEY);
    expect(request?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(request?.headers)).not.toContain(perch.token);
  });

  it('streams events as they arrive, and the SDK assembles the message', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Streaming through Perch works nicely.', chunks: 6, delayMs: 40 });
    const started = Date.now();
    let firstTextAt = 0;
    const stream = sdkWithAuthToken().messages.stream({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'stream please' }],
    });
    stream.on('text', () => {
      firstTextAt ||= Date.now() - started;
    });
    const message = await stream.finalMessage();
    const total = Date.now() - started;
    expect(message.content).toEqual([{ type: 'text', text: 'Streaming through Perch works nicely.' }]);
    // Six pieces 40 ms apart: the first arrives long before the last (no buffering).
    expect(firstTextAt).toBeLessThan(total - 100);
  });

  it('passes the body through byte for byte, with the query string and anthropic-* headers', async () => {
    const body = JSON.stringify({
      model: 'claude-sonnet-5-5',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      system: [{ type: 'text', text: 'Long cached system prompt', cache_control: { type: 'ephemeral' } }],
      tools: [
        {
          name: 'get_weather',
          description: 'Weather',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Weather in Paris?  ' }] }],
      metadata: { user_id: 'u-1' },
      some_future_field: { nested: [1, 2, 3] },
    });
    const res = await fetch(`${perch.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${perch.token}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'interleaved-thinking-2025-05-14,prompt-caching-2024-07-31',
      },
      body,
    });
    expect(res.status).toBe(200);
    const request = perch.upstream.messageRequests.at(-1);
    expect(request?.path).toBe('/v1/messages?beta=true');
    expect(request?.rawBody).toBe(body);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,prompt-caching-2024-07-31');
    expect(request?.headers.origin).toBeUndefined();
  });

  it('relays upstream errors with their status and Anthropic error shape', async () => {
    perch.upstream.enqueue({
      kind: 'http-error',
      status: 429,
      type: 'rate_limit_error',
      message: 'Number of requests exceeded',
      retryAfter: 12,
    });
    const error = await sdkWithAuthToken()
      .messages.create({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const apiError = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(apiError.status).toBe(429);
    expect(apiError.error).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of requests exceeded' },
    });
    expect(apiError.headers.get('retry-after')).toBe('12');
  });

  it('refuses a wrong token with the SDK’s AuthenticationError', async () => {
    const client = new Anthropic({ baseURL: perch.url, authToken: 'perch_wrong', maxRetries: 0 });
    await expect(
      client.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('records the usage of relayed answers, streamed or not', async () => {
    const before = usageRows().filter((row) => row.source === 'anthropic').length;
    await sdkWithAuthToken().messages.create({
      model: 'claude-haiku-5-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'one' }],
    });
    await sdkWithAuthToken()
      .messages.stream({ model: 'claude-haiku-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'two' }] })
      .finalMessage();
    const rows = usageRows().filter((row) => row.source === 'anthropic');
    expect(rows.length - before).toBe(2);
    for (const row of rows.slice(-2)) {
      expect(row.model).toBe('claude-haiku-5-5');
      expect(row.input_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBeGreaterThan(0);
    }
  });

  it('ends a stream the upstream cut with an error event the SDK raises', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'Half' });
    const stream = sdkWithAuthToken().messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    await expect(stream.finalMessage()).rejects.toThrow('Anthropic closed the connection before the answer finished.');
  });

  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'a'.repeat(200), chunks: 40, delayMs: 20 });
    const aborts = perch.upstream.clientAborts;
    const url = new URL(`${perch.url}/v1/messages`);
    const body = JSON.stringify({ model: 'm', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          headers: { 'x-api-key': perch.token, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end(body);
    });
    await perch.upstream.waitForClientAbort(aborts + 1);
  });

  it('answers 503 without retrying when no API key is configured', async () => {
    const keyless = await startTestPerch({ apiKey: null, upstream: perch.upstream });
    try {
      const calls = perch.upstream.messageRequests.length;
      const client = new Anthropic({ baseURL: keyless.url, authToken: keyless.token, maxRetries: 2 });
      const error = (await client.messages
        .create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
      expect(error.status).toBe(503);
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'no_api_key' } });
      expect(error.headers?.get('x-should-retry')).toBe('false');
      expect(perch.upstream.messageRequests.length).toBe(calls);
    } finally {
      await keyless.stop();
    }
  });

  it('answers 502 in the Anthropic shape when the upstream is unreachable', async () => {
    const offline = await startTestPerch({ env: { PERCH_UPSTREAM_URL: 'http://127.0.0.1:9' } });
    try {
      const client = new Anthropic({ baseURL: offline.url, authToken: offline.token, maxRetries: 0 });
      const error = (await client.messages
        .create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught)) as InstanceType<typeof Anthropic.APIError>;
      expect(error.status).toBe(502);
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'upstream_unreachable' } });
    } finally {
      await offline.stop();
    }
  });
});

describe('token counting and models', () => {
  it('relays POST /v1/messages/count_tokens', async () => {
    const counted = await sdkWithAuthToken().messages.countTokens({
      model: 'claude-sonnet-5-5',
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it('lists and retrieves models with the Anthropic SDK', async () => {
    const client = sdkWithAuthToken();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-sonnet-5-5', 'claude-haiku-5-5']);
    const model = await client.models.retrieve('claude-haiku-5-5');
    expect(model).toMatchObject({ id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', type: 'model' });
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('never sends the Anthropic key to the client', async () => {
    const res = await fetch(`${perch.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${perch.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await res.text();
    expect(text).not.toContain(TEST_API_KEY);
    expect(JSON.stringify([...res.headers])).not.toContain(TEST_API_KEY);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

interface ErrorBody {
  error: { type: string; message: string; fields?: Array<{ field: string; message: string }> };
  session_id?: string;
  message_id?: string;
}

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});
afterEach(() => {
  perch.service.core.settings.reset('api');
});

async function expectError(res: Response, status: number, type: string): Promise<ErrorBody> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.type).toBe(type);
  expect(body.error.message).not.toMatch(/\n\s+at /); // never a stack trace
  return body;
}

describe('malformed requests', () => {
  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const res = await perch.request('/api/v1/chat', {
      method: 'POST',
      body: '{"message": "hi"',
      headers: { 'content-type': 'application/json' },
    });
    const body = await expectError(res, 400, 'invalid_json');
    expect(body.error.message).toContain('not valid JSON');
  });

  it('names the field with the wrong type, in plain words, and lists it in fields', async () => {
    const res = await perch.request('/api/v1/chat', { json: { message: 42 } });
    const body = await expectError(res, 400, 'invalid_request_error');
    expect(body.error.message).toBe("Invalid field 'message': must be text.");
    expect(body.error.fields).toEqual([{ field: 'message', message: 'Must be text.' }]);
  });

  it('names every bad field at once', async () => {
    const res = await perch.request('/api/v1/chat', { json: { message: 'hi', max_tokens: 'lots', stream: 'yes' } });
    const body = await expectError(res, 400, 'invalid_request_error');
    expect(body.error.message).toContain("'max_tokens'");
    expect(body.error.message).toContain("'stream'");
    expect(body.error.fields).toEqual([
      { field: 'max_tokens', message: 'Must be a number.' },
      { field: 'stream', message: 'Must be true or false.' },
    ]);
  });

  it('says what is wrong with a key that has no name (no field to put it by)', async () => {
    // Found by the fuzz suite: this answered 400 with an empty message.
    const res = await perch.request('/api/v1/settings', { method: 'PATCH', json: { '': 'true' } });
    const body = await expectError(res, 400, 'invalid_request_error');
    expect(body.error.message).toMatch(/^Invalid field '': must be /);
    expect(body.error.fields).toBeUndefined();
  });

  it('says the body must be an object when it is not', async () => {
    const res = await perch.request('/api/v1/chat', { json: ['hi'] });
    const body = await expectError(res, 400, 'invalid_request_error');
    expect(body.error.message).toBe('The request body must be a JSON object.');
  });

  it('refuses an empty message', async () => {
    await expectError(await perch.request('/api/v1/chat', { json: { message: '   ' } }), 400, 'invalid_request_error');
    expect(perch.upstream.messageRequests).toHaveLength(0);
  });

  it('answers 404 with the JSON error shape for unknown routes', async () => {
    const res = await perch.request('/api/v1/does-not-exist');
    const body = await expectError(res, 404, 'not_found_error');
    expect(body.error.message).toContain('/api/v1/does-not-exist');
  });

  it('answers 405 naming the method to use', async () => {
    const res = await perch.request('/api/v1/chat');
    const body = await expectError(res, 405, 'method_not_allowed');
    expect(body.error.message).toContain('POST');
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('size limits', () => {
  it('refuses a JSON body over api.maxBodyMb with 413 from its declared length, before authentication', async () => {
    perch.service.core.settings.set('api.maxBodyMb', 1);
    const res = await fetch(`${perch.url}/api/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'x'.repeat(1024 * 1024 + 10) }),
    });
    const body = await expectError(res, 413, 'request_too_large');
    expect(body.error.message).toContain('api.maxBodyMb');
  });

  it('refuses a chunked JSON body over the limit with 413 while reading it', async () => {
    perch.service.core.settings.set('api.maxBodyMb', 1);
    const big = new TextEncoder().encode(JSON.stringify({ message: 'y'.repeat(1024 * 1024 + 10) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(big);
        controller.close();
      },
    });
    const res = await perch.request('/api/v1/chat', {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    });
    await expectError(res, 413, 'request_too_large');
    expect(perch.service.core.conversations.counts().messages).toBe(0);
  });
});

describe('no API key', () => {
  it('answers 503 no_api_key with what to do, and saves nothing', async () => {
    const keyless = await startTestPerch({ apiKey: null });
    try {
      const res = await keyless.request('/api/v1/chat', { json: { message: 'hello' } });
      const body = await expectError(res, 503, 'no_api_key');
      expect(body.error.message).toContain('ANTHROPIC_API_KEY');
      expect(body.error.message).toContain('perch config set apiKey');
      expect(keyless.service.core.conversations.counts()).toEqual({ sessions: 0, messages: 0 });
      const models = await keyless.request('/api/v1/models');
      await expectError(models, 503, 'no_api_key');
    } finally {
      await keyless.stop();
    }
  });

  it('starts answering as soon as a key is set, without a restart', async () => {
    const keyless = await startTestPerch({ apiKey: null, upstream: perch.upstream });
    try {
      expect((await keyless.request('/api/v1/chat', { json: { message: 'hello' } })).status).toBe(503);
      keyless.service.core.apiKeys.set('sk-ant-test-key-0123456789abcdef');
      expect((await keyless.request('/api/v1/chat', { json: { message: 'hello' } })).status).toBe(200);
    } finally {
      await keyless.stop();
    }
  });
});

describe('upstream failures', () => {
  const cases = [
    { status: 500, type: 'api_error', expected: [502, 'upstream_error'] },
    { status: 529, type: 'overloaded_error', expected: [503, 'upstream_overloaded'] },
    { status: 429, type: 'rate_limit_error', expected: [429, 'rate_limit_error'] },
    { status: 400, type: 'invalid_request_error', expected: [400, 'invalid_request_error'] },
    { status: 401, type: 'authentication_error', expected: [502, 'upstream_auth_error'] },
  ] as const;

  it.each(cases)('maps an upstream $status to $expected', async ({ status, type, expected }) => {
    perch.upstream.enqueue({ kind: 'http-error', status, type, message: `upstream says ${type}`, retryAfter: 7 });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const body = await expectError(res, expected[0], expected[1]);
    expect(body.error.message).toContain(`upstream says ${type}`);
    if (status === 429) expect(res.headers.get('retry-after')).toBe('7');
    // The question is kept, and the failed answer says what happened.
    const session = (await (await perch.request(`/api/v1/sessions/${body.session_id}`)).json()) as {
      messages: Array<{ role: string; status: string; error: { type: string } | null }>;
    };
    expect(session.messages.map((message) => [message.role, message.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'error'],
    ]);
    expect(session.messages[1]?.error?.type).toBe(expected[1]);
  });

  it('answers 502 upstream_unreachable when nothing listens at the upstream URL', async () => {
    const offline = await startTestPerch({ env: { PERCH_UPSTREAM_URL: 'http://127.0.0.1:9' } });
    try {
      const res = await offline.request('/api/v1/chat', { json: { message: 'hello' } });
      const body = await expectError(res, 502, 'upstream_unreachable');
      expect(body.error.message).toContain('127.0.0.1:9');
      const health = (await (await fetch(`${offline.url}/api/v1/health`)).json()) as {
        status: string;
        checks: { upstream: string };
      };
      expect(health).toMatchObject({ status: 'degraded', checks: { upstream: 'unreachable' } });
    } finally {
      await offline.stop();
    }
  });

  it('retries through the SDK when asked to, and then succeeds', async () => {
    const retrying = await startTestPerch({ maxRetries: 1, upstream: perch.upstream });
    try {
      perch.upstream.enqueue({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'busy', retryAfter: 0 });
      const res = await retrying.request('/api/v1/chat', { json: { message: 'hello' } });
      expect(res.status).toBe(200);
    } finally {
      await retrying.stop();
    }
  });
});

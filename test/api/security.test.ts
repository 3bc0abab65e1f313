import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

/** A raw request, so Host and other headers fetch would fix up can be set freely. */
function rawRequest(options: {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(perch.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: options.method ?? 'GET', path: options.path, headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorType = (body: string): string => (JSON.parse(body) as { error: { type: string } }).error.type;

describe('authentication', () => {
  it('answers 401 with a hint when the token is missing', async () => {
    const res = await fetch(`${perch.url}/api/v1/sessions`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('authentication_error');
    expect(body.error.message).toContain('npx perch token');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('answers 401 for a wrong token', async () => {
    const res = await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: 'Bearer perch_wrong' } });
    expect(res.status).toBe(401);
  });

  it('accepts the token as Authorization: Bearer and as x-api-key', async () => {
    const bearer = await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${perch.token}` } });
    const apiKey = await fetch(`${perch.url}/api/v1/sessions`, { headers: { 'x-api-key': perch.token } });
    expect(bearer.status).toBe(200);
    expect(apiKey.status).toBe(200);
  });

  it('does not accept the Anthropic API key as a Perch token', async () => {
    const res = await fetch(`${perch.url}/api/v1/sessions`, { headers: { 'x-api-key': TEST_API_KEY } });
    expect(res.status).toBe(401);
  });

  it('honours a regenerated token at once and refuses the old one', async () => {
    const old = perch.token;
    const fresh = perch.service.core.tokens.regenerate();
    expect(fresh).not.toBe(old);
    expect((await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
    expect((await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
  });

  it('refuses the old token after a regeneration even on a kept-alive connection that proved it before', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(perch.url);
    const send = (token: string): Promise<{ status: number; reusedSocket: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: '/v1/messages/count_tokens',
            method: 'POST',
            agent,
            headers: { 'x-api-key': token },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reusedSocket: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end('{');
      });
    try {
      const old = perch.service.core.tokens.get();
      // Any answer but 401 means the token was taken (the upstream decides on this broken body).
      expect((await send(old)).status).not.toBe(401);
      expect((await send(old)).status).not.toBe(401);
      const fresh = perch.service.core.tokens.regenerate();
      const refused = await send(old);
      expect(refused).toEqual({ status: 401, reusedSocket: true });
      expect((await send(fresh)).status).not.toBe(401);
    } finally {
      agent.destroy();
    }
  });

  it('needs no token for health', async () => {
    const res = await fetch(`${perch.url}/api/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', version: expect.any(String) });
  });

  it('requires the token on unknown API paths too (routes are not revealed)', async () => {
    const res = await fetch(`${perch.url}/api/v1/nope`);
    expect(res.status).toBe(401);
  });
});

describe('Host header (DNS rebinding)', () => {
  it.each(['localhost', '127.0.0.1', '[::1]'])('accepts the loopback name %s', async (name) => {
    const res = await rawRequest({ path: '/api/v1/health', headers: { host: `${name}:${new URL(perch.url).port}` } });
    expect(res.status).toBe(200);
  });

  it('refuses a foreign host name with 403 before authentication', async () => {
    const res = await rawRequest({
      path: '/api/v1/sessions',
      headers: { host: 'evil.example:8080', authorization: `Bearer ${perch.token}` },
    });
    expect(res.status).toBe(403);
    expect(errorType(res.body)).toBe('forbidden_host');
  });

  it('accepts a host name the person added to api.allowedHosts', async () => {
    perch.service.core.settings.set('api.allowedHosts', ['perch.lan']);
    try {
      const res = await rawRequest({ path: '/api/v1/health', headers: { host: 'perch.lan:8080' } });
      expect(res.status).toBe(200);
    } finally {
      perch.service.core.settings.reset('api.allowedHosts');
    }
  });
});

describe('Origin and CORS', () => {
  it('refuses a foreign Origin with 403, even with a valid token', async () => {
    const res = await perch.request('/api/v1/sessions', { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('forbidden_origin');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a preflight from a foreign Origin', async () => {
    const res = await fetch(`${perch.url}/api/v1/chat`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(403);
  });

  it("accepts the service's own origin", async () => {
    const res = await perch.request('/api/v1/sessions', { headers: { origin: perch.url } });
    expect(res.status).toBe(200);
  });

  it('echoes an allowed origin (never a wildcard) and answers its preflight', async () => {
    perch.service.core.settings.set('api.allowedOrigins', ['https://editor.example']);
    try {
      const preflight = await fetch(`${perch.url}/api/v1/chat`, {
        method: 'OPTIONS',
        headers: { origin: 'https://editor.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://editor.example');
      expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
      const res = await perch.request('/api/v1/sessions', { headers: { origin: 'https://editor.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('https://editor.example');
    } finally {
      perch.service.core.settings.reset('api.allowedOrigins');
    }
  });
});

describe('cross-site simple requests', () => {
  it('refuses text/plain bodies with 415 before any handler runs', async () => {
    const res = await perch.request('/api/v1/chat', {
      method: 'POST',
      body: JSON.stringify({ message: 'hi' }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(perch.upstream.messageRequests).toHaveLength(0);
  });

  it('refuses form posts with 415', async () => {
    const res = await perch.request('/api/v1/chat', {
      method: 'POST',
      body: 'message=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('application/json');
  });
});

describe('response hygiene', () => {
  it('sends no wildcard CORS and no X-Powered-By, and marks API answers no-store', async () => {
    const res = await perch.request('/api/v1/sessions');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('gives answers from the relay the same headers as every other: failed, streamed, refused and JSON', async () => {
    const body = { model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };
    perch.upstream.enqueue({ kind: 'http-error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    const answers = [
      await perch.request('/v1/messages', { json: body }),
      await perch.request('/v1/messages', { json: { ...body, stream: true } }),
      await fetch(`${perch.url}/v1/messages`, { method: 'POST', body: JSON.stringify(body) }),
      await perch.request('/v1/messages', { json: body }),
    ];
    expect(answers.map((res) => res.status)).toEqual([529, 200, 401, 200]);
    for (const res of answers) {
      await res.arrayBuffer();
      expect(res.headers.get('x-request-id')).toMatch(/^[\w-]{36}$/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('never returns or logs the Anthropic API key', async () => {
    await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const status = await (await perch.request('/api/v1/status')).text();
    const config = JSON.stringify(perch.service.core.currentSettings());
    expect(status).not.toContain(TEST_API_KEY);
    expect(config).not.toContain(TEST_API_KEY);
    expect(perch.logs.join('')).not.toContain(TEST_API_KEY);
    expect(perch.logs.join('')).not.toContain(perch.token);
  });

  it('redacts the key when an upstream error message echoes it', async () => {
    perch.upstream.enqueue({
      kind: 'http-error',
      status: 400,
      type: 'invalid_request_error',
      message: `bad key ${TEST_API_KEY}`,
    });
    const res = await perch.request('/api/v1/chat', { json: { message: 'hello' } });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain(TEST_API_KEY);
    expect(text).toContain('[redacted]');
  });
});

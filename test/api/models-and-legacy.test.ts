import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

describe('GET /api/v1/models', () => {
  it("lists the upstream's models and the default model", async () => {
    const res = await perch.request('/api/v1/models');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      models: [
        { id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5', created_at: '2026-09-01T00:00:00Z' },
        { id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', created_at: '2026-09-01T00:00:00Z' },
      ],
      default_model: 'claude-sonnet-5-5',
    });
  });

  it('caches the list instead of asking the upstream every time', async () => {
    const before = perch.upstream.modelListCalls;
    await perch.request('/api/v1/models');
    await perch.request('/api/v1/models');
    expect(perch.upstream.modelListCalls - before).toBeLessThanOrEqual(1);
  });
});

describe('status', () => {
  it('reports details to an authenticated client without revealing the key', async () => {
    const res = await perch.request('/api/v1/status');
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      version: expect.any(String),
      model: 'claude-sonnet-5-5',
      listening: { host: '127.0.0.1', port: Number(new URL(perch.url).port), url: perch.url },
      api_key: { configured: true, source: 'environment' },
      upstream: { url: perch.upstream.url },
      history: { sessions: expect.any(Number), messages: expect.any(Number) },
    });
  });

  it('requires the token', async () => {
    expect((await fetch(`${perch.url}/api/v1/status`)).status).toBe(401);
  });
});

describe("the seed's client paths", () => {
  it('GET /health answers like /api/v1/health, without a token', async () => {
    const res = await fetch(`${perch.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: 'ok' } });
  });

  it('POST /api/chat answers {response, status: "success"} and keeps the session', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Legacy hello.' });
    const res = await perch.request('/api/chat', { json: { message: 'hello', context: 'from the seed client' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response: string; status: string; session_id: string; tokens_used: number };
    expect(body).toMatchObject({ response: 'Legacy hello.', status: 'success', tokens_used: expect.any(Number) });
    expect((await perch.request(`/api/v1/sessions/${body.session_id}`)).status).toBe(200);
  });

  it('POST /api/file/upload analyzes an uploaded file', async () => {
    const form = new FormData();
    form.set('file', new Blob(['print("hi")\n']), 'hello.py');
    const res = await perch.request('/api/file/upload', { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success', filename: 'hello.py', size: 12, analysis: expect.any(String) });
  });

  it('GET /api/status reports the service as running', async () => {
    const res = await perch.request('/api/status');
    expect(await res.json()).toMatchObject({ status: 'running', model: 'claude-sonnet-5-5', api_key_configured: true });
  });

  it('the legacy paths require the token like the rest', async () => {
    const res = await fetch(`${perch.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hi' }),
    });
    expect(res.status).toBe(401);
  });
});

describe('health when Perch itself cannot serve', () => {
  it('answers 503 when the history database cannot be written, without details', async () => {
    const broken = await startTestPerch({ upstream: perch.upstream });
    try {
      broken.service.core.db.close();
      const res = await fetch(`${broken.url}/api/v1/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        status: 'error',
        version: expect.any(String),
        checks: { database: 'error', disk: expect.any(String), upstream: expect.any(String) },
      });
    } finally {
      await broken.stop();
    }
  });
});

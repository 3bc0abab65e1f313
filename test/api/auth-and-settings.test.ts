import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyState } from '../../main/api/response-schemas.js';
import { startTestPerch, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';
import { unusedPort } from '../helpers/ports.js';

const DESKTOP_SECRET = 'desktop-launch-secret-0123456789';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch({ desktopSecret: DESKTOP_SECRET });
});
afterAll(async () => {
  await perch.stop();
});
afterEach(() => {
  perch.service.core.settings.reset('claude');
  perch.service.core.settings.reset('api');
  perch.service.core.settings.reset('desktop');
});

async function signIn(token = perch.token): Promise<Response> {
  return fetch(`${perch.url}/api/v1/auth/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
}

const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

describe('signing a browser in', () => {
  it('exchanges the token for an HttpOnly, SameSite=Strict session cookie', async () => {
    const res = await signIn();
    expect(res.status).toBe(204);
    const header = res.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/^perch_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(header).not.toContain(perch.token);
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const res = await signIn('perch_wrong');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('lets the cookie in on same-origin requests', async () => {
    const cookie = cookieOf(await signIn());
    const plain = await fetch(`${perch.url}/api/v1/sessions`, { headers: { cookie } });
    const sameOrigin = await fetch(`${perch.url}/api/v1/sessions`, {
      headers: { cookie, origin: perch.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(plain.status).toBe(200);
    expect(sameOrigin.status).toBe(200);
  });

  it('ignores the cookie on cross-site requests', async () => {
    const cookie = cookieOf(await signIn());
    const crossSite = await fetch(`${perch.url}/api/v1/sessions`, { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(401);
  });

  it('stops accepting every cookie when the token is regenerated', async () => {
    const cookie = cookieOf(await signIn());
    perch.service.core.tokens.regenerate();
    expect((await fetch(`${perch.url}/api/v1/sessions`, { headers: { cookie } })).status).toBe(401);
  });

  it('signs out by clearing the cookie', async () => {
    const res = await fetch(`${perch.url}/api/v1/auth/session`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toContain('perch_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('refuses a sign-in that is not JSON (a cross-site form cannot sign in)', async () => {
    const res = await fetch(`${perch.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=x',
    });
    expect(res.status).toBe(415);
  });
});

describe('GET /api/v1/settings', () => {
  it('shows settings, overrides and what this client may change, never the key', async () => {
    const res = await perch.request('/api/v1/settings');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      settings: { claude: { model: 'claude-sonnet-5-5' }, ui: { theme: 'system' } },
      api_key: { configured: true, source: 'environment' },
      overridden: { 'claude.upstreamUrl': 'PERCH_UPSTREAM_URL' },
      editable: { security: false, desktop: false },
      cli: { 'api.port': 'npx perch config set api.port <value>' },
    });
    expect(JSON.stringify(body)).not.toContain(TEST_API_KEY);
  });

  it("lets the desktop app's windows edit security settings", async () => {
    const res = await perch.request('/api/v1/settings', { headers: { 'x-perch-desktop': DESKTOP_SECRET } });
    expect(((await res.json()) as { editable: unknown }).editable).toEqual({ security: true, desktop: true });
  });
});

describe('PATCH /api/v1/settings', () => {
  const patch = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    perch.request('/api/v1/settings', { method: 'PATCH', json: body, headers });

  it('changes several settings at once and applies them', async () => {
    const res = await patch({ claude: { maxTokens: 2048, model: 'claude-haiku-5-5' }, ui: { theme: 'dark' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { settings: unknown }).settings).toMatchObject({
      claude: { maxTokens: 2048, model: 'claude-haiku-5-5' },
      ui: { theme: 'dark' },
    });
    await perch.request('/api/v1/chat', { json: { message: 'x' } });
    expect(perch.upstream.messageRequests.at(-1)?.body).toMatchObject({ model: 'claude-haiku-5-5', max_tokens: 2048 });
    perch.service.core.settings.reset('ui');
  });

  it('changes nothing when one value is invalid, and names it in plain words and in fields', async () => {
    const res = await patch({ claude: { maxTokens: 0, model: 'claude-opus-5-5' } });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; fields: unknown } };
    expect(error.message).toBe("Invalid value 0 for 'claude.maxTokens': must be at least 1.");
    expect(error.fields).toEqual([{ field: 'claude.maxTokens', message: 'Must be at least 1.' }]);
    expect(perch.service.core.settings.get('claude.model')).toBe('claude-sonnet-5-5');
  });

  it('refuses unknown settings', async () => {
    const res = await patch({ claude: { colour: 'blue' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('unknown_setting');
  });

  it('refuses security settings from a token or browser client, with the CLI command', async () => {
    const res = await patch({ api: { host: '0.0.0.0' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('npx perch config set api.host');
    expect(perch.service.core.settings.get('api.host')).toBe('127.0.0.1');
  });

  it('names every refused setting at once, each in fields with the command that changes it', async () => {
    const res = await patch({ api: { host: '0.0.0.0', port: 9999 }, ui: { theme: 'dark' } });
    expect(res.status).toBe(403);
    const { error } = (await res.json()) as { error: { type: string; fields: Array<{ field: string; message: string }> } };
    expect(error.type).toBe('forbidden_setting');
    expect(error.fields.map((problem) => problem.field)).toEqual(['api.host', 'api.port']);
    expect(error.fields[0]?.message).toMatch(/^This setting .* npx perch config set api\.host <value> on this machine\.$/);
    expect(error.fields[1]?.message).toContain('npx perch config set api.port <value>');
    expect(perch.service.core.settings.get('ui.theme')).not.toBe('dark');
  });

  it('accepts security and desktop settings from the desktop app', async () => {
    const res = await patch(
      { api: { allowedOrigins: ['https://tool.example'] }, desktop: { startHidden: true } },
      { 'x-perch-desktop': DESKTOP_SECRET },
    );
    expect(res.status).toBe(200);
    expect(perch.service.core.settings.get('api.allowedOrigins')).toEqual(['https://tool.example']);
  });

  it('does not take a forged desktop secret', async () => {
    const res = await patch({ desktop: { startHidden: true } }, { 'x-perch-desktop': 'guess' });
    expect(res.status).toBe(403);
  });
});

describe('the API key through the API', () => {
  const WRONG_KEY = 'sk-ant-wrong-key-0123456789';

  async function putKey(
    target: TestPerch,
    apiKey: string,
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
    const res = await target.request('/api/v1/settings/api-key', { method: 'PUT', json: { api_key: apiKey } });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
  }

  const modelListRequests = (): number =>
    perch.upstream.requests.filter((request) => request.path.startsWith('/v1/models')).length;

  it('is checked with Anthropic, saved once accepted, and never read back', async () => {
    const keyless = await startTestPerch({ apiKey: null, upstream: perch.upstream });
    try {
      const asked = modelListRequests();
      const set = await putKey(keyless, TEST_API_KEY);
      expect(set.status).toBe(200);
      expect(set.body).toEqual({ configured: true, source: 'stored', verified: true });
      expect(apiKeyState.safeParse(set.body).success).toBe(true);
      // One cheap call: the first model of the list.
      expect(modelListRequests()).toBe(asked + 1);
      expect(perch.upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models?limit=1' });
      expect(keyless.service.core.apiKeys.get()).toBe(TEST_API_KEY);
      const settings = await (await keyless.request('/api/v1/settings')).text();
      expect(settings).not.toContain(TEST_API_KEY);
      expect(keyless.logs.join('')).not.toContain(TEST_API_KEY);
      const removed = await keyless.request('/api/v1/settings/api-key', { method: 'DELETE' });
      expect(await removed.json()).toEqual({ configured: false, source: null });
    } finally {
      await keyless.stop();
    }
  });

  it('is refused with 400 invalid_api_key when Anthropic does not accept it, and the key before stays', async () => {
    const keyless = await startTestPerch({ apiKey: null, upstream: perch.upstream });
    try {
      expect((await putKey(keyless, TEST_API_KEY)).status).toBe(200);
      const refused = await putKey(keyless, WRONG_KEY);
      expect(refused.status).toBe(400);
      const refusal =
        'Anthropic did not accept this key: the key is not valid. Check that you copied the whole key (it starts with sk-ant-).';
      expect(refused.body).toEqual({
        error: { type: 'invalid_api_key', message: refusal, fields: [{ field: 'api_key', message: refusal }] },
      });
      expect(refused.text).not.toContain(WRONG_KEY);
      expect(keyless.service.core.apiKeys.get()).toBe(TEST_API_KEY);
      expect(keyless.logs.join('')).not.toContain(WRONG_KEY);
    } finally {
      await keyless.stop();
    }
  });

  it('is saved with a warning when Anthropic cannot be reached to check it', async () => {
    const keyless = await startTestPerch({
      apiKey: null,
      upstream: perch.upstream,
      env: { PERCH_UPSTREAM_URL: `http://127.0.0.1:${await unusedPort()}` },
    });
    try {
      const set = await putKey(keyless, TEST_API_KEY);
      expect(set.status).toBe(200);
      expect(set.body).toEqual({
        configured: true,
        source: 'stored',
        verified: false,
        warning:
          'Saved, but Perch could not reach Anthropic to check it: connection refused (nothing is listening at that address).',
      });
      expect(apiKeyState.safeParse(set.body).success).toBe(true);
      expect(keyless.service.core.apiKeys.get()).toBe(TEST_API_KEY);
    } finally {
      await keyless.stop();
    }
  });

  it('is saved with a warning when Anthropic is overloaded or rate-limited, without retrying', async () => {
    const keyless = await startTestPerch({ apiKey: null, upstream: perch.upstream });
    try {
      const asked = modelListRequests();
      perch.upstream.failNextModelList(529, 'overloaded_error', 'Overloaded');
      expect((await putKey(keyless, TEST_API_KEY)).body).toMatchObject({
        verified: false,
        warning: 'Saved, but Perch could not reach Anthropic to check it: Anthropic is overloaded right now.',
      });
      perch.upstream.failNextModelList(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit');
      expect((await putKey(keyless, TEST_API_KEY)).body).toMatchObject({
        verified: false,
        warning: 'Saved, but Perch could not reach Anthropic to check it: Anthropic’s rate limit was reached.',
      });
      expect(modelListRequests()).toBe(asked + 2);
      expect(keyless.service.core.apiKeys.get()).toBe(TEST_API_KEY);
    } finally {
      await keyless.stop();
    }
  });
});

describe('the token in Settings', () => {
  it('is shown to a client that is already in', async () => {
    const cookie = cookieOf(await signIn());
    const res = await fetch(`${perch.url}/api/v1/auth/token`, { headers: { cookie } });
    expect(await res.json()).toEqual({ token: perch.token });
  });

  it('is regenerated only by the desktop app', async () => {
    expect((await perch.request('/api/v1/auth/token/regenerate', { method: 'POST' })).status).toBe(403);
    const old = perch.token;
    const res = await perch.request('/api/v1/auth/token/regenerate', {
      method: 'POST',
      headers: { 'x-perch-desktop': DESKTOP_SECRET },
    });
    const { token } = (await res.json()) as { token: string };
    expect(token).not.toBe(old);
    expect((await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
  });
});

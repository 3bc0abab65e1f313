import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { parseSse, temporaryDataDir, TEST_API_KEY } from '../helpers/perch.js';
import { cliEnv, requireBuild, runPerch, startServe } from './run-perch.js';

beforeAll(() => requireBuild());

describe('perch token', () => {
  it('prints the token alone on stdout, creating it once', async () => {
    const dir = temporaryDataDir();
    const first = await runPerch(['token', '--data-dir', dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^perch_[A-Za-z0-9_-]+\n$/);
    expect(first.stderr).toBe('');
    const again = await runPerch(['token', '--data-dir', dir]);
    expect(again.stdout).toBe(first.stdout);
  });

  it('--regenerate replaces it', async () => {
    const dir = temporaryDataDir();
    const first = await runPerch(['token', '--data-dir', dir]);
    const regenerated = await runPerch(['token', '--regenerate', '--data-dir', dir]);
    expect(regenerated.stdout).not.toBe(first.stdout);
    expect(readFileSync(path.join(dir, 'token'), 'utf8')).toBe(regenerated.stdout);
  });

  it('honours PERCH_DATA_DIR', async () => {
    const dir = temporaryDataDir();
    const result = await runPerch(['token'], { env: cliEnv({ PERCH_DATA_DIR: dir }) });
    expect(readFileSync(path.join(dir, 'token'), 'utf8')).toBe(result.stdout);
  });
});

describe('perch config', () => {
  it('sets and gets a dotted key, parsing the value by the schema', async () => {
    const dir = temporaryDataDir();
    const set = await runPerch(['config', 'set', 'claude.maxTokens', '20', '--data-dir', dir]);
    expect(set.code).toBe(0);
    expect(set.stdout.trim()).toBe('claude.maxTokens = 20');
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))).toEqual({ claude: { maxTokens: 20 } });
    const get = await runPerch(['config', 'get', 'claude.maxTokens', '--data-dir', dir]);
    expect(get.stdout).toBe('20\n');
  });

  it('prints all settings as JSON, the API key only as set or not set', async () => {
    const dir = temporaryDataDir();
    const all = await runPerch(['config', 'get', '--data-dir', dir]);
    expect(JSON.parse(all.stdout)).toMatchObject({ apiKey: 'not set', api: { port: 8080 } });
  });

  it('refuses a bad value with a clear error, a non-zero exit, and no change', async () => {
    const dir = temporaryDataDir();
    await runPerch(['config', 'set', 'api.port', '9000', '--data-dir', dir]);
    const bad = await runPerch(['config', 'set', 'api.port', 'lots', '--data-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`perch: Invalid value "lots" for 'api.port': expected a number.\n`);
    expect((await runPerch(['config', 'get', 'api.port', '--data-dir', dir])).stdout).toBe('9000\n');
  });

  it('refuses an unknown key', async () => {
    const result = await runPerch(['config', 'set', 'nope', '1', '--data-dir', temporaryDataDir()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unknown setting 'nope'");
  });

  it('stores the API key from stdin in its own owner-only file, never in config.json, never echoed', async () => {
    const dir = temporaryDataDir();
    // The key is checked with the upstream before it is saved: a fake that takes it.
    const upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
    try {
      const env = cliEnv({ PERCH_UPSTREAM_URL: upstream.url });
      const set = await runPerch(['config', 'set', 'apiKey', '-', '--data-dir', dir], { env, stdin: `${TEST_API_KEY}\n` });
      expect(set.code).toBe(0);
      expect(set.stdout + set.stderr).not.toContain(TEST_API_KEY);
      expect(readFileSync(path.join(dir, 'api-key'), 'utf8').trim()).toBe(TEST_API_KEY);
      expect((await runPerch(['config', 'get', 'apiKey', '--data-dir', dir])).stdout).toBe('set\n');
      const all = await runPerch(['config', 'get', '--data-dir', dir]);
      expect(all.stdout).not.toContain(TEST_API_KEY);
    } finally {
      await upstream.stop();
    }
  });
});

describe('perch serve', () => {
  let upstream: FakeAnthropic;
  beforeAll(async () => {
    upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
  });
  afterAll(async () => {
    await upstream.stop();
  });

  const serveEnv = (dir: string): NodeJS.ProcessEnv =>
    cliEnv({ PERCH_DATA_DIR: dir, PERCH_UPSTREAM_URL: upstream.url, ANTHROPIC_API_KEY: TEST_API_KEY });

  it('serves the API, creates the token at start, logs each request, and stops cleanly on SIGTERM', async () => {
    const dir = temporaryDataDir();
    const serve = await startServe(['--port', '0'], serveEnv(dir));
    try {
      const token = readFileSync(path.join(dir, 'token'), 'utf8').trim();
      expect(token).toMatch(/^perch_/);
      const health = await fetch(`${serve.url}/api/v1/health`);
      expect(health.status).toBe(200);
      const chat = await fetch(`${serve.url}/api/v1/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'ping' }),
      });
      expect(await chat.json()).toMatchObject({ response: 'You said: ping' });
      await expect.poll(() => serve.output()).toMatch(/POST \/api\/v1\/chat 200/);
      expect(serve.output()).not.toContain(TEST_API_KEY);
      expect(serve.output()).not.toContain(token);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exited).toBe(0);
  });

  it('lets an answer in flight finish on SIGTERM before exiting', async () => {
    const dir = temporaryDataDir();
    const serve = await startServe(['--port', '0'], serveEnv(dir));
    const token = readFileSync(path.join(dir, 'token'), 'utf8').trim();
    upstream.enqueue({ kind: 'answer', text: 'A slow but complete answer.', chunks: 10, delayMs: 60 });
    const response = await fetch(`${serve.url}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'slow', stream: true }),
    });
    serve.child.kill('SIGTERM');
    const events = parseSse(await response.text());
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { response: 'A slow but complete answer.' } });
    expect(await serve.exited).toBe(0);
    // New connections are refused once stopping began.
    await expect(fetch(`${serve.url}/api/v1/health`)).rejects.toThrow();
  });

  it('exits non-zero with one clear line when the port is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const result = await runPerch(['serve', '--port', String(port)], { env: serveEnv(temporaryDataDir()) });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `perch: Port ${port} on 127.0.0.1 is already in use by another program. Stop that program or choose another port: for this run, npx perch serve --port ${port + 1}; to keep it, npx perch config set api.port ${port + 1}.\n`,
      );
      // Plain words: the commands are not wrapped in Markdown backticks.
      expect(result.stderr).not.toContain('`');
    } finally {
      blocker.close();
    }
  });

  it('refuses a port that is not a number', async () => {
    const result = await runPerch(['serve', '--port', 'http'], { env: serveEnv(temporaryDataDir()) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected a port number');
  });

  it('serves the web UI at / without a token', async () => {
    const serve = await startServe(['--port', '0'], serveEnv(temporaryDataDir()));
    try {
      const page = await fetch(`${serve.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  });
});

import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { logFilePath, logsDir, openLogFile, type LogFileOptions, type RotatingLogFile } from '../../main/core/log-files.js';
import { createLogger, redactSecretsOf } from '../../main/core/logger.js';
import { startTestPerch, temporaryDataDir, TEST_API_KEY, type TestPerch } from '../helpers/perch.js';

const posix = process.platform !== 'win32';
const root = path.resolve(import.meta.dirname, '../..');

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function tempDir(): string {
  const dir = temporaryDataDir();
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function logFile(dataDir: string, options: LogFileOptions = {}): RotatingLogFile {
  const file = openLogFile(dataDir, options);
  cleanup.push(() => file.close());
  return file;
}

/** A JSON record line of exactly `bytes` bytes (newline included), numbered. */
const record = (n: number, bytes = 100): string => {
  const head = `{"n":${n},"pad":"`;
  const tail = '"}\n';
  return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
};

const numbersIn = (text: string): number[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { n: number }).n);

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('the rotating log file', () => {
  it('lives at <dataDir>/logs/perch.log', () => {
    expect(logFilePath('/data')).toBe(path.join('/data', 'logs', 'perch.log'));
    expect(logsDir('/data')).toBe(path.join('/data', 'logs'));
  });

  it('rotates by size into perch.1.log, perch.2.log … and keeps only maxFiles files', async () => {
    const dataDir = tempDir();
    const file = logFile(dataDir, { maxBytes: 1_000, maxFiles: 3 });
    // Some lines one at a time, some in large batches, across several rotations.
    for (let n = 0; n < 95; n += 1) {
      file.write(record(n));
      if (n % 7 === 0) await file.flush();
    }
    await file.flush();

    expect(readdirSync(logsDir(dataDir)).sort()).toEqual(['perch.1.log', 'perch.2.log', 'perch.log']);
    const [current, previous, oldest] = [0, 1, 2].map((index) => readFileSync(file.pathAt(index), 'utf8'));
    for (const text of [current, previous, oldest]) expect(Buffer.byteLength(text ?? '')).toBeLessThanOrEqual(1_000);
    // Whole lines only, newest in perch.log, and nothing missing between the files.
    const kept = numbersIn(`${oldest}${previous}${current}`);
    expect(kept.at(-1)).toBe(94);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, index) => 95 - kept.length + index));
    expect(numbersIn(previous ?? '')).toHaveLength(10);
  });

  it('keeps a single file when maxFiles is 1, starting it afresh', async () => {
    const dataDir = tempDir();
    const file = logFile(dataDir, { maxBytes: 500, maxFiles: 1 });
    for (let n = 0; n < 12; n += 1) file.write(record(n));
    await file.flush();
    expect(readdirSync(logsDir(dataDir))).toEqual(['perch.log']);
    expect(numbersIn(readFileSync(logFilePath(dataDir), 'utf8'))).toEqual([10, 11]);
  });

  it('continues the existing file after a restart and rotates it when full', async () => {
    const dataDir = tempDir();
    const first = openLogFile(dataDir, { maxBytes: 1_000, maxFiles: 2 });
    for (let n = 0; n < 8; n += 1) first.write(record(n));
    await first.close();
    const second = logFile(dataDir, { maxBytes: 1_000, maxFiles: 2 });
    for (let n = 8; n < 12; n += 1) second.write(record(n));
    await second.flush();
    expect(numbersIn(readFileSync(second.pathAt(1), 'utf8'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(numbersIn(readFileSync(second.pathAt(0), 'utf8'))).toEqual([10, 11]);
  });

  it.runIf(posix)('makes the folder and every file owner-only, tightening ones that were not', async () => {
    const dataDir = tempDir();
    mkdirSync(logsDir(dataDir), { mode: 0o755 });
    chmodSync(logsDir(dataDir), 0o755);
    writeFileSync(logFilePath(dataDir), '', { mode: 0o644 });
    chmodSync(logFilePath(dataDir), 0o644);
    const file = logFile(dataDir, { maxBytes: 300, maxFiles: 3 });
    for (let n = 0; n < 8; n += 1) file.write(record(n));
    await file.flush();
    expect(mode(logsDir(dataDir))).toBe(0o700);
    for (const name of readdirSync(logsDir(dataDir))) expect(mode(path.join(logsDir(dataDir), name)), name).toBe(0o600);
    expect(readdirSync(logsDir(dataDir))).toHaveLength(3);
  });

  it('writes nothing until the interval or a flush, then one batch', async () => {
    const dataDir = tempDir();
    const file = logFile(dataDir, { flushIntervalMs: 60_000 });
    for (let n = 0; n < 50; n += 1) file.write(record(n));
    expect(readFileSync(logFilePath(dataDir), 'utf8')).toBe('');
    await file.flush();
    expect(numbersIn(readFileSync(logFilePath(dataDir), 'utf8'))).toHaveLength(50);
  });

  it('starts a new file when the file, or the whole logs folder, is deleted', async () => {
    const dataDir = tempDir();
    const file = logFile(dataDir, { checkFileEveryMs: 0 });
    file.write(record(1));
    await file.flush();
    unlinkSync(logFilePath(dataDir));
    file.write(record(2));
    await file.flush();
    expect(numbersIn(readFileSync(logFilePath(dataDir), 'utf8'))).toEqual([2]);
    rmSync(logsDir(dataDir), { recursive: true });
    file.write(record(3));
    await file.flush();
    expect(numbersIn(readFileSync(logFilePath(dataDir), 'utf8'))).toEqual([3]);
    if (posix) expect(mode(logsDir(dataDir))).toBe(0o700);
  });

  it.runIf(process.platform === 'linux' && existsSync('/dev/full'))(
    'on a full disk drops records with one warning, never throws, and says what it dropped once it can write again',
    async () => {
      const dataDir = tempDir();
      mkdirSync(logsDir(dataDir), { recursive: true });
      // Every write to /dev/full fails with ENOSPC, like a full disk.
      symlinkSync('/dev/full', logFilePath(dataDir));
      const warnings: string[] = [];
      const file = logFile(dataDir, { retryAfterMs: 0, checkFileEveryMs: 0, warn: (message) => warnings.push(message) });
      for (let round = 0; round < 5; round += 1) {
        for (let n = 0; n < 20; n += 1) expect(() => file.write(record(n))).not.toThrow();
        await file.flush();
      }
      file.flushSync();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('ENOSPC');
      expect(warnings[0]).toContain(logFilePath(dataDir));

      // Space again: the next records land in a real file, after a note of the loss.
      unlinkSync(logFilePath(dataDir));
      file.write(record(100));
      await file.flush();
      const lines = readFileSync(logFilePath(dataDir), 'utf8').trim().split('\n');
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({
        level: 40,
        msg: expect.stringMatching(/^\d+ log records were dropped/),
      });
      expect(JSON.parse(lines[1] ?? '')).toMatchObject({ n: 100 });
      expect(warnings).toHaveLength(1);
    },
  );

  it.runIf(posix)('drops records with one warning when the folder cannot be created', async () => {
    const dataDir = tempDir();
    writeFileSync(logsDir(dataDir), 'a file where the folder should be');
    const warnings: string[] = [];
    const file = logFile(dataDir, { warn: (message) => warnings.push(message) });
    file.write(record(1));
    await file.flush();
    file.write(record(2));
    await file.flush();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/EEXIST|ENOTDIR/);
  });

  it('writes what is still queued when the process exits without stopping', async () => {
    const dataDir = tempDir();
    const script = path.join(dataDir, 'exit.mts');
    writeFileSync(
      script,
      [
        `import { openLogFile } from ${JSON.stringify(path.join(root, 'main/core/log-files.ts'))};`,
        `const file = openLogFile(${JSON.stringify(dataDir)}, { flushIntervalMs: 60_000, maxBytes: 100_000 });`,
        // Past 64 KB a write starts at once: some records are on their way to the disk, the rest queued.
        `for (let n = 0; n < 20_000; n += 1) file.write(JSON.stringify({ n }) + '\\n');`,
        `setImmediate(() => process.exit(0));`,
      ].join('\n'),
    );
    await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: root });
    const file = openLogFile(dataDir);
    await file.close();
    const text = [4, 3, 2, 1, 0]
      .map((index) => (existsSync(file.pathAt(index)) ? readFileSync(file.pathAt(index), 'utf8') : ''))
      .join('');
    expect(existsSync(file.pathAt(2))).toBe(true);
    expect(numbersIn(text)).toEqual(Array.from({ length: 20_000 }, (_, n) => n));
  });
});

describe('logger redaction', () => {
  const capture = () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    return { lines, destination };
  };

  const holder = {
    apiKeys: { get: () => 'sk-ant-api03-secret-key-material' },
    tokens: { get: () => 'perch_client-token-material-0123' },
    desktopSecret: 'desktop-secret-material-4567',
    currentSettings: () => ({
      github: { token: 'ghp_github-token-material-89ab', webhookSecret: 'webhook-secret-material-cdef' },
      slack: { signingSecret: 'slack-signing-material-0246' },
    }),
  };
  const values = [
    holder.apiKeys.get(),
    holder.tokens.get(),
    holder.desktopSecret,
    'ghp_github-token-material-89ab',
    'webhook-secret-material-cdef',
    'slack-signing-material-0246',
  ];

  it('censors secret headers and fields by name', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer abc',
            'x-api-key': 'abc',
            cookie: 'perch_session=abc',
            'x-perch-desktop': 'abc',
            'x-hub-signature-256': 'sha256=abc',
            'x-slack-signature': 'v0=abc',
            'user-agent': 'curl',
          },
        },
        github: { token: 'abc', webhookSecret: 'abc' },
        slack: { signingSecret: 'abc' },
      },
      'hello',
    );
    const logged = JSON.parse(lines.join('')) as { req: { headers: Record<string, string> } } & Record<string, unknown>;
    expect(logged.req.headers).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      cookie: '[redacted]',
      'x-perch-desktop': '[redacted]',
      'x-hub-signature-256': '[redacted]',
      'x-slack-signature': '[redacted]',
      'user-agent': 'curl',
    });
    expect(logged.github).toEqual({ token: '[redacted]', webhookSecret: '[redacted]' });
    expect(logged.slack).toEqual({ signingSecret: '[redacted]' });
  });

  it('replaces known secret values anywhere: messages, errors, stack traces, and in the file', async () => {
    const dataDir = tempDir();
    const { lines, destination } = capture();
    const file = logFile(dataDir);
    const logger = createLogger({ destination, file });
    redactSecretsOf(logger, holder);
    const child = logger.child({ component: 'test' });
    for (const value of values) {
      child.error({ err: new Error(`upstream said: invalid key ${value}`), detail: { nested: [value] } }, `failed with ${value}`);
      child.warn(`a "quoted" ${JSON.stringify({ value })}`);
    }
    await file.flush();
    const everything = `${lines.join('')}${readFileSync(logFilePath(dataDir), 'utf8')}`;
    expect(everything).toContain('[redacted]');
    expect(everything).toContain('upstream said: invalid key');
    for (const value of values) expect(everything).not.toContain(value);
  });

  it('also scrubs values given when the logger is made (a key from the environment)', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination, secrets: () => ['env-key-material-1357', 'short'] });
    logger.info('env-key-material-1357 and short');
    expect(lines.join('')).toContain('[redacted] and short');
  });
});

/** Every file in <dataDir>/logs, concatenated. */
const allLogFiles = (dataDir: string): string =>
  readdirSync(logsDir(dataDir))
    .map((name) => readFileSync(path.join(logsDir(dataDir), name), 'utf8'))
    .join('');

interface RequestRecord {
  req_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  msg: string;
}

const requestRecords = (text: string): RequestRecord[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Partial<RequestRecord>)
    .filter((entry): entry is RequestRecord => typeof entry.req_id === 'string');

async function startPerchWithLogFile(options: Parameters<typeof startTestPerch>[0] = {}): Promise<TestPerch> {
  const dataDir = tempDir();
  const perch = await startTestPerch({ ...options, dataDir, logFile: true });
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await perch.stop();
  });
  const stop = perch.stop.bind(perch);
  perch.stop = async () => {
    stopped = true;
    await stop();
  };
  return perch;
}

describe('the service log file', () => {
  it('logs every request with method, path (no query), status, duration and request id; X-Request-Id round-trips', async () => {
    const perch = await startPerchWithLogFile();
    const health = await fetch(`${perch.url}/api/v1/health`, { headers: { 'x-request-id': 'client-req.42:a_b-c' } });
    expect(health.headers.get('x-request-id')).toBe('client-req.42:a_b-c');
    const odd = await fetch(`${perch.url}/api/v1/health`, { headers: { 'x-request-id': 'has spaces and "quotes"' } });
    const generated = odd.headers.get('x-request-id') ?? '';
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const long = await fetch(`${perch.url}/api/v1/health`, { headers: { 'x-request-id': 'a'.repeat(200) } });
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const sessions = await perch.request('/api/v1/sessions?limit=5&secret=query-material-0001');
    expect(sessions.status).toBe(200);
    const relayed = await fetch(`${perch.url}/v1/messages?beta=query-material-0002`, {
      method: 'POST',
      headers: { 'x-api-key': perch.token, 'content-type': 'application/json', 'x-request-id': 'relay-1' },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(relayed.status).toBe(200);
    expect(relayed.headers.get('x-request-id')).toBe('relay-1');
    await relayed.text();
    const missing = await perch.request('/api/v1/nothing-here');
    expect(missing.status).toBe(404);
    await perch.stop();

    const text = allLogFiles(perch.dataDir);
    const records = requestRecords(text);
    const byId = (id: string) => records.find((entry) => entry.req_id === id);
    expect(byId('client-req.42:a_b-c')).toMatchObject({ method: 'GET', path: '/api/v1/health', status: 200 });
    expect(byId(generated)).toMatchObject({ method: 'GET', path: '/api/v1/health', status: 200 });
    expect(byId('relay-1')).toMatchObject({ method: 'POST', path: '/v1/messages', status: 200 });
    expect(records.find((entry) => entry.path === '/api/v1/sessions')).toMatchObject({ method: 'GET', status: 200 });
    expect(records.find((entry) => entry.path === '/api/v1/nothing-here')).toMatchObject({ status: 404 });
    for (const entry of records) {
      expect(entry.duration_ms).toBeGreaterThanOrEqual(0);
      expect(entry.msg.startsWith(`${entry.method} ${entry.path} ${entry.status} `)).toBe(true);
      expect(entry.msg).toMatch(/ \d+\.\d ms$/);
    }
    expect(text).not.toContain('query-material');
    // Every record is pino JSON, flushed by the time stop() returned.
    for (const line of text.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(records.length).toBeGreaterThanOrEqual(6);
  });

  it('never writes the API key, the token, the session cookie, the desktop secret or webhook secrets to any log file', async () => {
    const DESKTOP_SECRET = 'desktop-secret-for-the-log-test-0123';
    const WEBHOOK_SECRET = 'gh-webhook-secret-for-the-log-test';
    const GITHUB_TOKEN = 'ghp_github-token-for-the-log-test-4567';
    const SLACK_SECRET = 'slack-signing-secret-for-the-log-test';
    const perch = await startPerchWithLogFile({ desktopSecret: DESKTOP_SECRET });
    const { core } = perch.service;
    core.settings.set('github.webhookSecret', WEBHOOK_SECRET);
    core.settings.set('github.token', GITHUB_TOKEN);
    core.settings.set('slack.signingSecret', SLACK_SECRET);
    const token = perch.token;
    const json = { 'content-type': 'application/json' };
    const ask = { model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

    // The API key travels upstream on chats and relayed requests.
    expect((await perch.request('/api/v1/chat', { json: { message: 'hello' } })).status).toBe(200);
    const relay = await fetch(`${perch.url}/v1/messages`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${token}` },
      body: JSON.stringify(ask),
    });
    expect(relay.status).toBe(200);
    await relay.text();
    // An upstream error that echoes the key, through the API and through the relay.
    for (const pathname of ['/api/v1/chat', '/v1/messages']) {
      perch.upstream.enqueue({
        kind: 'http-error',
        status: 400,
        type: 'invalid_request_error',
        message: `bad key ${TEST_API_KEY}`,
      });
      const body = pathname === '/v1/messages' ? ask : { message: 'hello' };
      const res = await fetch(`${perch.url}${pathname}`, {
        method: 'POST',
        headers: { ...json, 'x-api-key': token },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      await res.text();
    }
    // A refused wrong token, and a browser session by cookie.
    expect(
      (await fetch(`${perch.url}/api/v1/sessions`, { headers: { authorization: 'Bearer perch_wrong-token-0000000' } })).status,
    ).toBe(401);
    const signIn = await fetch(`${perch.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const cookieValue = cookie.split('=')[1] ?? '';
    expect(cookieValue.length).toBeGreaterThan(10);
    const withCookie = await fetch(`${perch.url}/api/v1/sessions`, {
      headers: { cookie, origin: perch.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(withCookie.status).toBe(200);
    // The desktop app's secret header.
    expect((await perch.request('/api/v1/settings', { headers: { 'x-perch-desktop': DESKTOP_SECRET } })).status).toBe(200);
    // A signed GitHub webhook, and a badly signed one.
    const payload = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const signature = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(payload).digest('hex')}`;
    for (const sig of [signature, 'sha256=00']) {
      const res = await fetch(`${perch.url}/webhook/github`, {
        method: 'POST',
        headers: { ...json, 'x-github-event': 'ping', 'x-github-delivery': 'delivery-1', 'x-hub-signature-256': sig },
        body: payload,
      });
      expect(res.status).toBe(sig === signature ? 200 : 401);
    }
    // Secrets where a careless client put them: the request id, the path, the query.
    expect((await perch.request('/api/v1/status', { headers: { 'x-request-id': token } })).headers.get('x-request-id')).toBe(
      token,
    );
    for (const secret of [TEST_API_KEY, WEBHOOK_SECRET, GITHUB_TOKEN, SLACK_SECRET, DESKTOP_SECRET]) {
      expect((await perch.request(`/api/v1/sessions/${secret}?again=${secret}`)).status).toBe(404);
    }
    await perch.stop();

    const text = allLogFiles(perch.dataDir);
    expect(requestRecords(text).length).toBeGreaterThanOrEqual(15);
    expect(text).toContain('/webhook/github');
    expect(text).toContain('[redacted]');
    for (const secret of [
      TEST_API_KEY,
      token,
      cookieValue,
      DESKTOP_SECRET,
      WEBHOOK_SECRET,
      GITHUB_TOKEN,
      SLACK_SECRET,
      signature,
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    // The terminal-side copy of the log is scrubbed the same way.
    for (const secret of [TEST_API_KEY, token, DESKTOP_SECRET, WEBHOOK_SECRET]) expect(perch.logs.join('')).not.toContain(secret);
  });
});

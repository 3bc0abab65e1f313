import net from 'node:net';
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

/** Writes bytes no HTTP library would send and reads the answer until the server closes. */
function rawAnswer(baseUrl: string, request: string, then: 'end' | 'wait' = 'wait'): Promise<{ status: number; body: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(request);
      if (then === 'end') socket.end();
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const received = Buffer.concat(chunks).toString('utf8');
      const split = received.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), body: received.slice(split + 4) });
    });
  });
}

describe('requests that are not valid HTTP', () => {
  const HOST = 'Host: 127.0.0.1\r\n';
  it.each([
    ['a header name with a space', `GET /api/v1/health HTTP/1.1\r\n${HOST}Bad Header: x\r\n\r\n`, 'a header is malformed'],
    [
      'a control character in a header value',
      `GET /api/v1/health HTTP/1.1\r\n${HOST}X-A: a\u0001b\r\n\r\n`,
      'a header is malformed',
    ],
    ['an unknown method', `BR@W /api/v1/health HTTP/1.1\r\n${HOST}\r\n`, 'its method is not an HTTP method'],
    ['a NUL in the path', `GET /api/v1/\u0000health HTTP/1.1\r\n${HOST}\r\n`, 'its path holds characters a URL cannot'],
    ['a space in the path', `GET /api/v1/a b HTTP/1.1\r\n${HOST}\r\n`, 'its first line is not of the form METHOD PATH HTTP/1.1'],
    ['HTTP/3.0', `GET /api/v1/health HTTP/3.0\r\n${HOST}\r\n`, 'it is neither HTTP/1.1 nor HTTP/1.0'],
    [
      'a chunk size that is not hexadecimal',
      `POST /api/v1/chat HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      'its body does not match its Content-Length or Transfer-Encoding header',
    ],
    [
      'a chunk longer than it claims',
      `POST /api/v1/chat HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n2\r\n{"message": 1}\r\n0\r\n\r\n`,
      'its body does not match its Content-Length or Transfer-Encoding header',
    ],
    [
      'both Content-Length and Transfer-Encoding',
      `POST /api/v1/chat HTTP/1.1\r\n${HOST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'its body does not match its Content-Length or Transfer-Encoding header',
    ],
    [
      'a Content-Length that is not a number',
      `POST /api/v1/chat HTTP/1.1\r\n${HOST}Content-Length: abc\r\n\r\n`,
      'its body does not match its Content-Length or Transfer-Encoding header',
    ],
    ['bare LF line endings', 'GET /api/v1/health HTTP/1.1\nHost: 127.0.0.1\n\n', 'its lines do not end in CR LF (\\r\\n)'],
    [
      'a CR without its LF',
      `GET /api/v1/health HTTP/1.1\r\n${HOST}X-A: a\rX-B: b\r\n\r\n`,
      'its lines do not end in CR LF (\\r\\n)',
    ],
  ])('with %s are a 400 that says what is wrong in words, not a parser code', async (_case, request, problem) => {
    const perch = await perchWith();
    const answer = await rawAnswer(perch.url, request);
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body) as { type: string; error: { type: string; message: string } };
    expect(body).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: `The request is not valid HTTP: ${problem}. Correct it and send it again.`,
      },
    });
    expect(body.error.message).not.toMatch(/HPE_|Parse Error/);
    expect(body.error.message).not.toMatch(SYSTEM_TALK);
  });

  it('that end before they are complete say so', async () => {
    const perch = await perchWith();
    const answer = await rawAnswer(perch.url, `GET /api/v1/health HTTP/1.1\r\n${HOST}`, 'end');
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.body) as { error: { message: string } };
    expect(body.error.message).toBe(
      'The request is not valid HTTP: it ended before it was complete. Correct it and send it again.',
    );
  });

  it('with headers over 16 KB keep their 431, in words', async () => {
    const perch = await perchWith();
    const answer = await rawAnswer(perch.url, `GET /api/v1/health HTTP/1.1\r\n${HOST}X-Padding: ${'p'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    const body = JSON.parse(answer.body) as { error: { type: string; message: string } };
    expect(body.error).toEqual({
      type: 'headers_too_large',
      message: 'The request headers are too large (at most 16 KB in all); send fewer or shorter headers.',
    });
    expect(body.error.message).not.toMatch(/HPE_/);
  });
});

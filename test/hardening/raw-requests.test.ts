import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';
import { deeplyNestedText } from './arbitraries.js';
import { DatabaseWatch, errorShapeProblems, expectHealthy, rawExchange, type RawExchange, type RawOptions } from './harness.js';

/**
 * Requests no HTTP library would send, written byte by byte on a raw socket: truncated and
 * undecodable bodies, oversized headers, broken chunking, smuggling attempts. Whatever
 * happens, the service answers (if it can) with a JSON 4xx, writes nothing, logs no error,
 * and serves the next request.
 */

let perch: TestPerch;
let watch: DatabaseWatch;
beforeAll(async () => {
  perch = await startTestPerch();
  watch = new DatabaseWatch(perch.dataDir);
});
afterAll(async () => {
  watch.close();
  await perch.stop();
});

let version = 0;
let errorLines = 0;
beforeEach(() => {
  perch.service.core.usage.flush();
  version = watch.version();
  errorLines = perch.logs.filter((line) => line.includes('"level":50')).length;
});

/** The request head, with the token and Host a good client would send plus `extra` lines (one request per connection unless kept alive). */
function head(method: string, path: string, extra: string[], keepAlive = false): string {
  const { host } = new URL(perch.url);
  const connection = keepAlive || extra.some((line) => line.startsWith('Connection:')) ? [] : ['Connection: close'];
  return [
    `${method} ${path} HTTP/1.1`,
    `Host: ${host}`,
    `Authorization: Bearer ${perch.token}`,
    ...extra,
    ...connection,
    '',
    '',
  ].join('\r\n');
}

const exchange = (options: RawOptions): Promise<RawExchange> => rawExchange(perch.url, options);

/** The service answered (or only closed), wrote nothing, logged no error, and still serves. */
async function expectRefusedCleanly(result: RawExchange, options: { statuses: number[]; compat?: boolean }): Promise<void> {
  if (result.status !== undefined) {
    expect(options.statuses, result.received.slice(0, 400)).toContain(result.status);
    const headerEnd = result.received.indexOf('\r\n\r\n');
    const contentType = /content-type: ([^\r\n]+)/i.exec(result.received.slice(0, headerEnd))?.[1];
    const problems = errorShapeProblems(
      { status: result.status, headers: { 'content-type': contentType }, text: result.body },
      options.compat ?? false,
    );
    expect(problems, result.received.slice(0, 400)).toEqual([]);
  }
  perch.service.core.usage.flush();
  expect(watch.version(), 'the database was written').toBe(version);
  expect(perch.logs.filter((line) => line.includes('"level":50')).length, 'an error was logged').toBe(errorLines);
  await expectHealthy(perch);
}

const TRUNCATING_ROUTES: Array<[string, string, string]> = [
  ['/api/v1/chat', 'application/json', '{"message": "a question that never ends'],
  ['/v1/messages', 'application/json', '{"model": "claude-sonnet-5-5", "max_tokens": 5, "messages": [{"role": "us'],
  [
    '/api/v1/file/analyze',
    'multipart/form-data; boundary=b',
    '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhal',
  ],
  ['/webhook/github', 'application/json', '{"zen": "Half'],
  ['/api/v1/sessions', 'application/json', '{"title": "cut'],
];

describe('a body shorter than its Content-Length', () => {
  it.each(TRUNCATING_ROUTES)('on %s, ends in a 400 or a close when the client half-closes', async (path, type, body) => {
    const result = await exchange({
      pieces: [head('POST', path, [`Content-Type: ${type}`, `Content-Length: ${body.length + 500}`]), body],
      then: 'end',
    });
    await expectRefusedCleanly(result, { statuses: [400], compat: path.startsWith('/v1/') });
  });

  it.each(TRUNCATING_ROUTES)('on %s, leaves nothing behind when the client hangs up', async (path, type, body) => {
    const result = await exchange({
      pieces: [head('POST', path, [`Content-Type: ${type}`, `Content-Length: ${body.length + 500}`]), body],
      then: 'destroy',
    });
    expect(result.status).toBeUndefined();
    await expectRefusedCleanly(result, { statuses: [] });
  });
});

describe('bytes that are not UTF-8', () => {
  it('inside a JSON string become replacement characters, and the question is kept as received', async () => {
    const body = Buffer.concat([Buffer.from('{"message": "caf'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]);
    const result = await exchange({
      pieces: [head('POST', '/api/v1/chat', ['Content-Type: application/json', `Content-Length: ${body.length}`]), body],
      waitMs: 5_000,
    });
    expect(result.status, result.received).toBe(200);
    const answer = JSON.parse(result.body) as { session_id: string };
    const session = (await (await perch.request(`/api/v1/sessions/${answer.session_id}`)).json()) as {
      messages: Array<{ content: string }>;
    };
    expect(session.messages[0]?.content).toBe('caf\ufffd(\ufffd\ufffd');
    await expectHealthy(perch);
  });

  it('in the path are refused with a JSON 4xx', async () => {
    const line = Buffer.concat([
      Buffer.from('GET /api/v1/sessions/'),
      Buffer.from([0xff, 0xc3, 0x28]),
      Buffer.from(' HTTP/1.1\r\n'),
    ]);
    const result = await exchange({ pieces: [line, head('GET', '/', []).split('\r\n').slice(1).join('\r\n')] });
    await expectRefusedCleanly(result, { statuses: [400, 404] });
  });

  it('in the token header are a 401', async () => {
    const { host } = new URL(perch.url);
    const request = Buffer.concat([
      Buffer.from(`GET /api/v1/sessions HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer `),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    await expectRefusedCleanly(await exchange({ pieces: [request] }), { statuses: [400, 401] });
  });
});

describe('headers', () => {
  it('over 16 KB are refused with 431 in the JSON error shape', async () => {
    const result = await exchange({ pieces: [head('GET', '/api/v1/sessions', [`X-Padding: ${'p'.repeat(20_000)}`])] });
    expect(result.status).toBe(431);
    await expectRefusedCleanly(result, { statuses: [431] });
  });

  it('by the thousand are refused with 431 in the JSON error shape', async () => {
    const many = Array.from({ length: 3_000 }, (_, index) => `X-H${index}: v`);
    const result = await exchange({ pieces: [head('GET', '/api/v1/sessions', many)] });
    await expectRefusedCleanly(result, { statuses: [431] });
  });

  it('folded over several lines (obsolete line folding) are refused', async () => {
    const result = await exchange({ pieces: [head('GET', '/api/v1/sessions', ['X-Folded: one', ' two'])] });
    await expectRefusedCleanly(result, { statuses: [400] });
  });

  it('without Host (HTTP/1.0) are refused as a foreign host', async () => {
    const result = await exchange({ pieces: ['GET /api/v1/sessions HTTP/1.0\r\n\r\n'] });
    expect(result.status).toBe(403);
    await expectRefusedCleanly(result, { statuses: [403] });
  });

  it('with a NUL in the request line are refused', async () => {
    const result = await exchange({ pieces: ['GET /api/v1/\0sessions HTTP/1.1\r\n\r\n'] });
    await expectRefusedCleanly(result, { statuses: [400] });
  });
});

describe('bodies in the wrong form', () => {
  it.each([
    ['text/plain', 415],
    ['', 415],
    ['application/x-www-form-urlencoded', 415],
  ])("with Content-Type '%s' are refused with %i before any handler", async (type, status) => {
    const body = '{"message": "hello"}';
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', [...(type ? [`Content-Type: ${type}`] : []), `Content-Length: ${body.length}`]),
        body,
      ],
    });
    expect(result.status).toBe(status);
    await expectRefusedCleanly(result, { statuses: [status] });
  });

  it('claiming gzip without being gzip are refused', async () => {
    const body = '{"message": "hello"}';
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', [
          'Content-Type: application/json',
          'Content-Encoding: gzip',
          `Content-Length: ${body.length}`,
        ]),
        body,
      ],
    });
    await expectRefusedCleanly(result, { statuses: [400, 415] });
  });

  it('in a charset JSON is never sent in are read as such, and refused when that makes them malformed', async () => {
    const body = '{"message": "hello"}';
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', ['Content-Type: application/json; charset=utf-16', `Content-Length: ${body.length}`]),
        body,
      ],
    });
    await expectRefusedCleanly(result, { statuses: [400, 415] });
  });

  it.each([
    ['arrays', deeplyNestedText(20_000, 'array')],
    ['objects', `{"message": "hi", "context": ${deeplyNestedText(6_000, 'object')}}`],
  ])('nested thousands of levels deep (%s) are a 400, not a stack overflow', async (_kind, body) => {
    const result = await exchange({
      pieces: [head('POST', '/api/v1/chat', ['Content-Type: application/json', `Content-Length: ${body.length}`]), body],
    });
    expect(result.status).toBe(400);
    await expectRefusedCleanly(result, { statuses: [400] });
  });
});

describe('chunked transfer encoding', () => {
  it('with a chunk size that is not hexadecimal is refused', async () => {
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', ['Content-Type: application/json', 'Transfer-Encoding: chunked']),
        'zz\r\n{"message"\r\n0\r\n\r\n',
      ],
    });
    await expectRefusedCleanly(result, { statuses: [400] });
  });

  it('with chunks longer than they claim is refused', async () => {
    const result = await exchange({
      pieces: [
        head('POST', '/v1/messages', ['Content-Type: application/json', 'Transfer-Encoding: chunked']),
        '2\r\n{"model": "m", "messages": []}\r\n0\r\n\r\n',
      ],
    });
    await expectRefusedCleanly(result, { statuses: [400], compat: true });
  });

  it('that never ends is a 400 or a close once the client half-closes', async () => {
    const result = await exchange({
      pieces: [head('POST', '/api/v1/chat', ['Content-Type: application/json', 'Transfer-Encoding: chunked']), '5\r\n{"mes\r\n'],
      then: 'end',
    });
    await expectRefusedCleanly(result, { statuses: [400] });
  });

  it('together with a Content-Length (request smuggling) is refused', async () => {
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', ['Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked']),
        '0\r\n\r\nGET /api/v1/sessions HTTP/1.1\r\n\r\n',
      ],
    });
    await expectRefusedCleanly(result, { statuses: [400] });
  });

  it('with a valid body in many tiny chunks is read whole', async () => {
    const body = JSON.stringify({ message: 'in pieces' });
    const chunks = Array.from({ length: body.length }, (_, index) => `1\r\n${body.charAt(index)}\r\n`);
    const result = await exchange({
      pieces: [
        head('POST', '/api/v1/chat', ['Content-Type: application/json', 'Transfer-Encoding: chunked', 'Connection: close']),
        ...chunks,
        '0\r\n\r\n',
      ],
      waitMs: 5_000,
    });
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ response: 'You said: in pieces' });
  });
});

describe('request framing', () => {
  it.each(['-1', 'abc', '1, 2', '99999999999999999999'])("refuses Content-Length '%s'", async (length) => {
    const result = await exchange({
      pieces: [head('POST', '/api/v1/chat', ['Content-Type: application/json', `Content-Length: ${length}`]), '{}'],
    });
    await expectRefusedCleanly(result, { statuses: [400, 413] });
  });

  it('answers pipelined requests in order', async () => {
    const result = await exchange({
      pieces: [`${head('GET', '/api/v1/sessions?limit=1', [], true)}${head('GET', '/api/v1/nowhere', [])}`],
    });
    const statuses = [...result.received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]));
    expect(statuses).toEqual([200, 404]);
    await expectHealthy(perch);
  });
});

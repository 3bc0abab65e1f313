import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { startTestPerch } from '../helpers/perch.js';
import {
  contentType,
  encodedJson,
  encodeUrlPart,
  fromSchema,
  mutated,
  nastyString,
  pathSegment,
  queryString,
  type JsonSchema,
} from './arbitraries.js';
import { DatabaseWatch, errorShapeProblems, expectHealthy, isCompat, send, type PlainRequest } from './harness.js';

/**
 * Property-based fuzzing of every route the service documents, plus the compatible (/v1),
 * webhook and seed routes (all of which the OpenAPI document lists).
 *
 * The fake upstream answers every well-formed call, so a request that gets past validation
 * really runs (history is written, answers stream) and no 5xx is acceptable at all: the
 * documented upstream-dependent 502/503/504 cannot happen when the upstream is fine. (Running
 * without an API key would stop every valid request at the same 503 and leave the code behind
 * validation unexercised.) Every refusal (4xx) must be the JSON error shape and must leave the
 * database exactly as it was: a second, read-only connection watches `PRAGMA data_version`,
 * which changes on any commit. Requests go one at a time, so each write is attributable.
 *
 * Scheduled jobs run on a clock that never moves, so no job fires in the middle; limits are
 * set small (rate limit off, 50 KB bodies) so oversized cases are cheap.
 */

const RUNS = Number(process.env.PERCH_FUZZ_RUNS ?? 60);
const MAX_BODY_MB = 0.05;
const OVERSIZED = Math.ceil(MAX_BODY_MB * 1024 * 1024) + 1024;
const GITHUB_SECRET = 'fuzz-github-secret';
const SLACK_SECRET = 'fuzz-slack-secret';

const perch = await startTestPerch({ clock: new FakeClock(Date.now()) });
const core = perch.service.core;
const watch = new DatabaseWatch(perch.dataDir);

const BASELINE: Array<[string, unknown]> = [
  ['rateLimit.requestsPerMinute', 0],
  ['rateLimit.webhooksPerMinute', 0],
  ['api.maxBodyMb', MAX_BODY_MB],
  ['api.maxUploadMb', MAX_BODY_MB],
  ['github.webhookSecret', GITHUB_SECRET],
  ['slack.signingSecret', SLACK_SECRET],
  // Nothing may leave the machine: GitHub calls go to a closed local port.
  ['github.apiUrl', 'http://127.0.0.1:9'],
];
const GROUPS = ['claude', 'rateLimit', 'budget', 'api', 'ui', 'jobs', 'github', 'slack', 'desktop'];
function applyBaseline(): void {
  for (const group of GROUPS) core.settings.reset(group);
  core.settings.setMany(BASELINE);
}
applyBaseline();

// Things that exist, so ids in paths sometimes hit real records.
const seededSessions: string[] = [];
const seededJobs: string[] = [];
for (let index = 0; index < 3; index += 1) {
  const chat = (await (await perch.request('/api/v1/chat', { json: { message: `seed ${index}` } })).json()) as {
    session_id: string;
  };
  seededSessions.push(chat.session_id);
  const job = (await (
    await perch.request('/api/v1/jobs', { json: { name: `seed ${index}`, prompt: 'Say hi.', interval_seconds: 3600 } })
  ).json()) as { id: string };
  seededJobs.push(job.id);
}

type Document = {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ name: string; in: string }>;
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
};
const openapi = (await (await perch.request('/api/v1/openapi.json')).json()) as Document;

interface Operation {
  method: string;
  path: string;
  query: string[];
  bodySchema: JsonSchema | undefined;
  multipart: boolean;
}
const operations: Operation[] = Object.entries(openapi.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => {
    const content = operation.requestBody?.content ?? {};
    return {
      method: method.toUpperCase(),
      path,
      query: (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
      bodySchema: content['application/json']?.schema ?? content['multipart/form-data']?.schema,
      multipart: 'multipart/form-data' in content,
    };
  }),
);

afterAll(async () => {
  watch.close();
  await perch.stop();
});

const isWebhook = (path: string): boolean => path.startsWith('/webhook/');

/** Credentials: mostly the right token (to reach validation), sometimes none or a wrong one. */
const authHeaders = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Record<string, string>>({ authorization: 'TOKEN' }) },
  { weight: 1, arbitrary: fc.constant<Record<string, string>>({ 'x-api-key': 'TOKEN' }) },
  { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer sk-ant-test-key-0123456789abcdef', 'bearer x'.repeat(300))
      .map((value) => ({ authorization: value })),
  },
);

/** The odd extra header: streaming, foreign origins and hosts, encodings, request ids. */
const extraHeaders = fc.record(
  {
    accept: fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/event-stream;q=0, */*'),
    origin: fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1'),
    host: fc.constantFrom('evil.example', 'localhost', '[::1]', '127.0.0.1:1', ''),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'),
    'x-request-id': fc.stringMatching(/^[\x21-\x7e]{0,300}$/),
    'anthropic-version': fc.constantFrom('2023-06-01', 'garbage', ''),
    'x-perch-desktop': fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
  },
  { requiredKeys: [] },
);

const multipartBody = fc
  .record({
    boundary: fc.oneof(fc.constant('----perchfuzz'), fc.stringMatching(/^[\x21-\x7e]{1,20}$/)),
    declared: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[\x21-\x7e]{0,20}$/)),
    parts: fc.array(
      fc.record({
        name: fc.oneof(fc.constantFrom('file', 'prompt', 'stream', 'session_id', 'model', 'file'), nastyString(10)),
        filename: fc.option(nastyString(20), { nil: undefined }),
        type: fc.option(fc.constantFrom('text/plain', 'image/png', 'application/pdf', 'application/x-evil', ''), {
          nil: undefined,
        }),
        data: fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
          nastyString(60).map((text) => Buffer.from(text)),
          fc.constantFrom(
            Buffer.from('true'),
            Buffer.from('%PDF-1.4\n'),
            Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
          ),
          fc.constant(Buffer.alloc(OVERSIZED, 'z')),
        ),
      }),
      { maxLength: 4 },
    ),
    terminated: fc.boolean(),
  })
  .map(({ boundary, declared, parts, terminated }) => {
    const pieces: Buffer[] = parts.map((part) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}\r\n${part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`}\r\n`,
        ),
        part.data,
        Buffer.from('\r\n'),
      ]),
    );
    if (terminated) pieces.push(Buffer.from(`--${boundary}--\r\n`));
    return { body: Buffer.concat(pieces), type: `multipart/form-data; boundary=${declared ?? boundary}` };
  });

/** Bodies the schema in the document leaves open (the relay passes them on as they are). */
const anthropicMessages = fc.record(
  {
    model: fc.constantFrom('claude-sonnet-5-5', 'claude-haiku-5-5', 'x'),
    max_tokens: fc.integer({ min: 1, max: 4096 }),
    messages: fc.array(
      fc.record({
        role: fc.constantFrom('user', 'assistant'),
        content: fc.oneof(
          nastyString(80),
          fc.array(fc.record({ type: fc.constant('text'), text: nastyString(40) }), { maxLength: 2 }),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    stream: fc.boolean(),
    system: nastyString(40),
  },
  { requiredKeys: ['model', 'max_tokens', 'messages'] },
);
const PLAUSIBLE: Record<string, fc.Arbitrary<unknown>> = {
  '/v1/messages': anthropicMessages,
  '/v1/messages/count_tokens': anthropicMessages,
  '/v1/chat/completions': fc.record(
    {
      model: fc.constantFrom('claude-sonnet-5-5', 'gpt-4o'),
      messages: fc.array(fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: nastyString(80) }), {
        minLength: 1,
        maxLength: 3,
      }),
      stream: fc.boolean(),
      max_tokens: fc.integer({ min: 1, max: 4096 }),
    },
    { requiredKeys: ['model', 'messages'] },
  ),
};

/** An upload that is well formed but for its hostile content: a file with unicode names and text, and fields. */
const plausibleUpload = fc
  .record({
    filename: nastyString(20),
    data: fc.oneof(nastyString(200), fc.string({ maxLength: 200 })),
    prompt: fc.option(nastyString(60), { nil: undefined }),
    stream: fc.option(fc.constantFrom('true', 'false', 'yes', ''), { nil: undefined }),
    model: fc.option(fc.constantFrom('claude-haiku-5-5', '', ' '), { nil: undefined }),
  })
  .map(({ filename, data, prompt, stream, model }) => {
    const boundary = '----perchupload';
    const field = (name: string, value: string): string =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const text =
      (prompt === undefined ? '' : field('prompt', prompt)) +
      (stream === undefined ? '' : field('stream', stream)) +
      (model === undefined ? '' : field('model', model)) +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename.replace(/["\r\n]/g, '_') || 'notes.txt'}"\r\nContent-Type: text/plain\r\n\r\n${data}\r\n--${boundary}--\r\n`;
    return { body: Buffer.from(text), type: `multipart/form-data; boundary=${boundary}` };
  });

const githubSignature = (body: Buffer): string => `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
const slackSignature = (timestamp: string, body: Buffer): string =>
  `v0=${createHmac('sha256', SLACK_SECRET).update(`v0:${timestamp}:`).update(body).digest('hex')}`;

/** Signature headers for a webhook body: right, wrong, stale or missing. */
function webhookHeaders(path: string, body: Buffer): fc.Arbitrary<Record<string, string>> {
  if (path === '/webhook/github') {
    return fc
      .record({
        signature: fc.oneof(
          fc.constant(githubSignature(body)),
          fc.constantFrom('', 'sha256=00', 'sha1=abc', githubSignature(Buffer.from('x'))),
        ),
        event: fc.oneof(
          fc.constantFrom('ping', 'pull_request', 'issue_comment', 'push'),
          fc.stringMatching(/^[\x21-\x7e]{0,30}$/),
        ),
        delivery: fc.stringMatching(/^[\x21-\x7e]{0,60}$/),
      })
      .map(({ signature, event, delivery }) => ({
        'x-hub-signature-256': signature,
        'x-github-event': event,
        'x-github-delivery': delivery,
      }));
  }
  const now = String(Math.floor(Date.now() / 1000));
  return fc
    .record({
      timestamp: fc.oneof(fc.constant(now), fc.constantFrom('0', '-1', '99999999999999', 'abc', String(Number(now) - 3600))),
      valid: fc.boolean(),
    })
    .map(({ timestamp, valid }) => ({
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': valid ? slackSignature(timestamp, body) : 'v0=deadbeef',
    }));
}

/** A form body (Slack's shape) from hostile fields; never a response_url Perch could call. */
const formBody = fc
  .dictionary(fc.oneof(fc.constantFrom('text', 'command', 'response_url', 'user_id'), nastyString(8)), nastyString(40), {
    maxKeys: 4,
  })
  .map((fields) => {
    const form = new URLSearchParams(fields);
    if (form.has('response_url')) form.set('response_url', `not a url ${form.get('response_url') ?? ''}`);
    return Buffer.from(form.toString());
  });

interface FuzzCase {
  request: PlainRequest;
  label: string;
  [fc.toStringMethod]: () => string;
}

/** A case that fast-check reports by its short label (bodies can be long). */
const fuzzCase = (request: PlainRequest, label: string): FuzzCase => ({
  request,
  label,
  [fc.toStringMethod]: () => label.slice(0, 600),
});

function requestsFor(operation: Operation): fc.Arbitrary<FuzzCase> {
  const known = operation.path.includes('/jobs/') ? seededJobs : seededSessions;
  // A manual run goes on in the background: fuzz it with ids that exist only sometimes.
  const path = operation.path.replace(/\{id\}/g, () => 'ID');
  const segment = pathSegment(operation.path.endsWith('/run') ? [] : known);
  const valid = PLAUSIBLE[operation.path] ?? fromSchema(operation.bodySchema);
  const jsonBody = encodedJson(fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: mutated(valid, OVERSIZED) }));
  const body: fc.Arbitrary<{ body: Buffer | undefined; type: string | undefined }> = operation.multipart
    ? fc.oneof(
        { weight: 3, arbitrary: plausibleUpload },
        { weight: 3, arbitrary: multipartBody },
        { weight: 1, arbitrary: fc.tuple(jsonBody, contentType).map(([bytes, type]) => ({ body: bytes, type })) },
      )
    : isWebhook(operation.path)
      ? fc.tuple(fc.oneof(jsonBody, formBody), contentType).map(([bytes, type]) => ({ body: bytes, type }))
      : operation.bodySchema
        ? fc
            .tuple(
              jsonBody,
              fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }),
              fc.boolean(),
            )
            .map(([bytes, type, typed]) => ({ body: bytes, type: typed || bytes.length > 0 ? type : undefined }))
        : fc.oneof(
            { weight: 4, arbitrary: fc.constant({ body: undefined, type: undefined }) },
            { weight: 1, arbitrary: fc.tuple(jsonBody, contentType).map(([bytes, type]) => ({ body: bytes, type })) },
          );

  return fc
    .record({
      segment,
      query: queryString(operation.query),
      body,
      auth: authHeaders,
      extra: fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraHeaders }),
    })
    .chain(({ segment: id, query, body: { body: bytes, type }, auth, extra }) => {
      const headers: Record<string, string> = { ...auth, ...extra };
      if (type !== undefined) headers['content-type'] = type;
      if (bytes !== undefined) headers['content-length'] = String(bytes.length);
      const request: PlainRequest = {
        method: operation.method,
        path: `${path.replace(/ID/g, id)}${query}`,
        headers,
        ...(bytes === undefined ? {} : { body: bytes }),
      };
      const label = `${operation.method} ${request.path} ${JSON.stringify(headers)} body=${JSON.stringify(bytes?.subarray(0, 300).toString('utf8') ?? '')}`;
      if (!isWebhook(operation.path) || bytes === undefined) return fc.constant(fuzzCase(request, label));
      return webhookHeaders(operation.path, bytes).map((signed) =>
        fuzzCase({ ...request, headers: { ...headers, ...signed } }, `${label} ${JSON.stringify(signed)}`),
      );
    });
}

/** Sends one fuzzed request and checks the rules; returns what broke (empty when nothing did). */
async function check(fuzz: FuzzCase): Promise<string[]> {
  const headers = { ...fuzz.request.headers } as Record<string, string>;
  const token = core.tokens.get();
  if (headers.authorization === 'TOKEN') headers.authorization = `Bearer ${token}`;
  if (headers['x-api-key'] === 'TOKEN') headers['x-api-key'] = token;
  // Usage rows are written in batches: settle earlier ones so only this request's writes count.
  core.usage.flush();
  const before = watch.version();
  const countsBefore = watch.counts();
  const res = await send(perch.url, { ...fuzz.request, headers });
  const problems: string[] = [];
  if (res.status >= 500) {
    const cause = perch.logs.findLast((line) => line.includes('unexpected error')) ?? '';
    problems.push(`answered ${res.status}; the log says: ${cause.slice(0, 600)}`);
  }
  const pathname = fuzz.request.path.split('?')[0] ?? '';
  if (res.status >= 400 && fuzz.request.method !== 'HEAD') problems.push(...errorShapeProblems(res, isCompat(pathname)));
  core.usage.flush();
  if (res.status >= 400 && watch.version() !== before) {
    problems.push(
      `a refused request (${res.status}) wrote to the database: ${JSON.stringify(countsBefore)} → ${JSON.stringify(watch.counts())}`,
    );
  }
  if (res.status < 300) await afterSuccess(fuzz.request.method, pathname);
  return problems.map((problem) => `${problem}\n  request: ${fuzz.label}\n  answer: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Undoes what an accepted request changed that would skew the following ones. */
async function afterSuccess(method: string, pathname: string): Promise<void> {
  if (pathname.startsWith('/api/v1/settings')) {
    applyBaseline();
    core.apiKeys.clear();
  }
  const run = /^\/api\/v1\/jobs\/([^/]+)\/run$/.exec(pathname);
  if (method === 'POST' && run?.[1]) await core.jobs.settled(decodeURIComponent(run[1]));
}

async function fuzz(cases: fc.Arbitrary<FuzzCase>, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(cases, async (fuzzCase) => {
      const problems = await check(fuzzCase);
      if (problems.length > 0) throw new Error(problems.join('\n'));
    }),
    { numRuns, endOnFailure: process.env.PERCH_FUZZ_SHRINK === undefined },
  );
  await expectHealthy(perch);
}

describe('the fuzz covers every route', () => {
  it('takes its routes from the served OpenAPI document, which lists the /v1, webhook and seed routes too', () => {
    const listed = operations.map((operation) => `${operation.method} ${operation.path}`);
    for (const route of [
      'POST /api/v1/chat',
      'POST /v1/messages',
      'POST /v1/chat/completions',
      'POST /webhook/github',
      'POST /webhook/slack',
      'POST /api/chat',
      'POST /api/file/upload',
      'GET /health',
    ]) {
      expect(listed).toContain(route);
    }
    expect(operations.length).toBeGreaterThan(40);
  });
});

describe.each(operations)('$method $path under fuzzed input', (operation) => {
  it('never answers 5xx, refuses with the JSON error shape, and a refusal writes nothing', async () => {
    await fuzz(requestsFor(operation), RUNS);
  });
});

describe('methods and paths that do not exist', () => {
  it('answers a wrong method on any documented path with a JSON 4xx that writes nothing', async () => {
    const paths = [...new Set(operations.map((operation) => operation.path))];
    const cases = fc
      .record({
        path: fc.constantFrom(...paths),
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE'),
        segment: pathSegment(seededSessions),
        auth: authHeaders,
      })
      .filter(({ path, method }) => !(method.toLowerCase() in (openapi.paths[path] ?? {})))
      .map(({ path, method, segment, auth }) =>
        fuzzCase({ method, path: path.replace(/\{id\}/g, segment), headers: auth }, `${method} ${path} (${segment})`),
      );
    await fuzz(cases, RUNS * 4);
  });

  it('answers unknown paths, however strange, with a JSON 4xx that writes nothing', async () => {
    const cases = fc
      .record({
        prefix: fc.constantFrom('/api/v1/', '/api/', '/v1/', '/webhook/', '/', '/api/v1/sessions/x/', '//api/v1/chat/'),
        rest: fc.oneof(
          nastyString(30).map(encodeUrlPart),
          fc.constantFrom('%FF%FE', '..%2f..%2f', 'chat%00', '%', 'a'.repeat(4000)),
        ),
        method: fc.constantFrom('GET', 'POST', 'DELETE'),
        auth: authHeaders,
      })
      .map(({ prefix, rest, method, auth }) =>
        fuzzCase({ method, path: `${prefix}${rest}`, headers: auth }, `${method} ${prefix}${rest.slice(0, 200)}`),
      );
    await fuzz(cases, RUNS * 4);
  });
});

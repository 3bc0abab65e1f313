import { z } from 'zod';
import { OPERATIONS_ROUTES } from './openapi-operations.js';
import { TASK_ROUTES } from './openapi-tasks.js';
import { USAGE_ROUTES } from './openapi-usage.js';
import { WEBHOOK_ROUTES } from './openapi-webhooks.js';
import * as request from './schemas.js';
import * as response from './response-schemas.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  /** Also (or only) answers as Server-Sent Events. */
  events?: string;
  /** Answers as plain text, in this format. */
  text?: string;
}

/** One route of the API, as the OpenAPI document describes it. */
export interface RouteDoc {
  method: Method;
  /** Express-style path: `/api/v1/sessions/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Health and the web UI need no token; everything else does. */
  public?: boolean;
  body?: z.ZodType;
  /** A multipart upload: the file in `file`, plus these text fields. */
  upload?: z.ZodObject;
  query?: z.ZodObject;
  responses: Record<number, ResponseDoc>;
}

const ANSWER_EVENTS =
  'With `stream: true` (or `Accept: text/event-stream`): `event: start` {session_id, message_id, model}, `event: delta` {text} per piece, then `event: done` with the JSON answer, or `event: error` {error}.';

const errors = (...statuses: number[]): Record<number, ResponseDoc> =>
  Object.fromEntries(
    statuses.map((status) => [status, { description: ERROR_MEANINGS[status] ?? 'Error', schema: response.errorResponse }]),
  );

const ERROR_MEANINGS: Record<number, string> = {
  400: 'Malformed JSON or an invalid field (the message names it)',
  401: 'Missing or wrong API token',
  404: 'No such session',
  413: 'Body or upload over the limit',
  409: 'The job is running already',
  415: 'Not JSON (or not multipart for uploads), or an unsupported file type',
  429: "Too many requests (rateLimit.requestsPerMinute), the daily budget reached (budget.dailyUsd), or Anthropic's rate limit; see Retry-After",
  502: 'Anthropic failed, is unreachable, or rejected the API key',
  503: 'No API key configured, or Claude overloaded',
  504: 'Claude went silent for longer than claude.timeoutSeconds',
};

const HEALTH_RESPONSES: Record<number, ResponseDoc> = {
  200: { description: 'Up (ok or degraded)', schema: response.publicHealth },
  503: { description: 'Cannot serve', schema: response.publicHealth },
};

const answerErrors = errors(400, 401, 404, 413, 415, 429, 502, 503, 504);
const passthrough = z.looseObject({}).meta({ description: 'Passed to Anthropic unchanged; see the Messages API reference.' });

/** Every route Perch serves. A test checks this list against the routes express really has. */
export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/health',
    summary: 'Is Perch able to serve? (no token; nothing secret). 503 only when it cannot save answers.',
    tag: 'Service',
    public: true,
    responses: HEALTH_RESPONSES,
  },
  {
    method: 'get',
    path: '/api/v1/status',
    summary: 'Details for an authenticated client: port, model, upstream state, history size.',
    tag: 'Service',
    responses: { 200: { description: 'Status', schema: response.serviceStatus }, ...errors(401) },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    summary: 'This document.',
    tag: 'Service',
    responses: { 200: { description: 'OpenAPI 3.1 document' }, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/v1/auth/session',
    summary: 'Sign a browser in: exchanges the token for an HttpOnly, SameSite=Strict session cookie.',
    tag: 'Sign-in and settings',
    public: true,
    body: request.signInRequest,
    responses: { 204: { description: 'Signed in (Set-Cookie: perch_session)' }, ...errors(400, 401, 415) },
  },
  {
    method: 'get',
    path: '/api/v1/auth/session',
    summary: 'Whether this request is signed in (by token or cookie); never 401.',
    tag: 'Sign-in and settings',
    public: true,
    responses: { 200: { description: 'Signed in or not', schema: response.signInState } },
  },
  {
    method: 'delete',
    path: '/api/v1/auth/session',
    summary: 'Sign the browser out (clears the cookie).',
    tag: 'Sign-in and settings',
    public: true,
    responses: { 204: { description: 'Signed out' } },
  },
  {
    method: 'get',
    path: '/api/v1/auth/proof',
    summary:
      'Proof that this service holds the token, without sending it: base64url HMAC-SHA256 keyed with the token of "perch-proof:v1:<port>:<nonce>". Clients check it before they send the token.',
    tag: 'Sign-in and settings',
    public: true,
    query: request.proofQuery,
    responses: { 200: { description: 'The proof, and the port it covers', schema: response.tokenProof }, ...errors(400) },
  },
  {
    method: 'get',
    path: '/api/v1/auth/token',
    summary: 'The API token, for a client that is already signed in (Settings shows it for copying).',
    tag: 'Sign-in and settings',
    responses: { 200: { description: 'The token', schema: response.tokenResponse }, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/v1/auth/token/regenerate',
    summary: 'Replace the token (desktop app only; the CLI has `npx perch token --regenerate`).',
    tag: 'Sign-in and settings',
    responses: { 200: { description: 'The new token', schema: response.tokenResponse }, ...errors(401, 403) },
  },
  {
    method: 'get',
    path: '/api/v1/settings',
    summary:
      'Settings, what overrides them, and which this client may change. Never the API key. Security settings change only from the desktop app or the CLI; spending limits may be lowered by any client.',
    tag: 'Sign-in and settings',
    responses: { 200: { description: 'Settings', schema: response.settingsResponse }, ...errors(401) },
  },
  {
    method: 'patch',
    path: '/api/v1/settings',
    summary:
      'Change settings, all or none: {"claude": {"maxTokens": 2048}}. Security and desktop settings only from the desktop app.',
    tag: 'Sign-in and settings',
    body: request.settingsPatch,
    responses: { 200: { description: 'The settings now', schema: response.settingsResponse }, ...errors(400, 401, 403) },
  },
  {
    method: 'put',
    path: '/api/v1/settings/api-key',
    summary:
      'Set the Anthropic API key (write-only: it can never be read back). Perch first checks it with one cheap call to the upstream (within about 5 seconds): a key Anthropic refuses is not saved (400 invalid_api_key, any previous key stays); a key that could not be checked (offline, a timeout, a 5xx or 429) is saved with verified: false and a warning.',
    tag: 'Sign-in and settings',
    body: request.apiKeyRequest,
    responses: {
      200: { description: 'Saved: verified, or saved unchecked with a warning', schema: response.apiKeyState },
      400: {
        description: 'An invalid field, or invalid_api_key: Anthropic did not accept the key (nothing was saved)',
        schema: response.errorResponse,
      },
      ...errors(401),
    },
  },
  {
    method: 'delete',
    path: '/api/v1/settings/api-key',
    summary: 'Remove the stored API key.',
    tag: 'Sign-in and settings',
    responses: { 200: { description: 'Whether a key is configured now', schema: response.apiKeyState }, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/v1/chat',
    summary: 'Ask Claude; continue a session with session_id. JSON, or SSE when streaming.',
    tag: 'Chat',
    body: request.chatRequest,
    responses: { 200: { description: 'The answer', schema: response.chatAnswer, events: ANSWER_EVENTS }, ...answerErrors },
  },
  {
    method: 'get',
    path: '/api/v1/sessions',
    summary: 'Saved sessions, newest first; page with limit and before (the id of the last one you have).',
    tag: 'Sessions',
    query: request.listSessionsQuery,
    responses: { 200: { description: 'A page of sessions', schema: response.sessionList }, ...errors(400, 401, 404) },
  },
  {
    method: 'post',
    path: '/api/v1/sessions',
    summary: 'Create an empty session.',
    tag: 'Sessions',
    body: request.createSessionRequest,
    responses: { 201: { description: 'The new session', schema: response.session }, ...errors(400, 401) },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/search',
    summary: 'Full-text search over every message, newest first; the last word matches as a prefix.',
    tag: 'Sessions',
    query: request.searchQuery,
    responses: { 200: { description: 'Matching messages', schema: response.searchResults }, ...errors(400, 401) },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/:id',
    summary: 'A session with all its messages.',
    tag: 'Sessions',
    responses: { 200: { description: 'The session', schema: response.sessionWithMessages }, ...errors(401, 404) },
  },
  {
    method: 'patch',
    path: '/api/v1/sessions/:id',
    summary: 'Rename a session (an empty title returns to the automatic one), or change its system prompt or model.',
    tag: 'Sessions',
    body: request.updateSessionRequest,
    responses: { 200: { description: 'The updated session', schema: response.session }, ...errors(400, 401, 404) },
  },
  {
    method: 'delete',
    path: '/api/v1/sessions/:id',
    summary: 'Delete a session and its messages.',
    tag: 'Sessions',
    responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/:id/export',
    summary: 'Download a conversation: Markdown to read, or JSON with every message.',
    tag: 'Sessions',
    query: request.exportQuery,
    responses: {
      200: { description: 'The conversation, as an attachment (text/markdown or application/json)' },
      ...errors(400, 401, 404),
    },
  },
  {
    method: 'get',
    path: '/api/v1/sessions/:id/attachments/:attachmentId',
    summary: "A file attached to one of the session's messages: images inline (for thumbnails), anything else as a download.",
    tag: 'Sessions',
    responses: { 200: { description: 'The file as it was sent' }, ...errors(401, 404) },
  },

  {
    method: 'post',
    path: '/api/v1/file/analyze',
    summary: 'Analyze an uploaded file: text or code, PNG/JPEG/GIF/WebP images, PDFs (api.maxUploadMb, 10 MB by default).',
    tag: 'Files and code',
    upload: request.analyzeFields,
    responses: { 200: { description: 'The analysis', schema: response.fileAnalysis, events: ANSWER_EVENTS }, ...answerErrors },
  },
  {
    method: 'post',
    path: '/api/v1/code/review',
    summary: 'Review code: bugs and risks first, then readability.',
    tag: 'Files and code',
    body: request.codeReviewRequest,
    responses: { 200: { description: 'The review', schema: response.codeReview, events: ANSWER_EVENTS }, ...answerErrors },
  },
  {
    method: 'get',
    path: '/api/v1/jobs',
    summary: 'Scheduled prompts, with their next run.',
    tag: 'Scheduled prompts',
    responses: { 200: { description: 'Jobs', schema: response.jobList }, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/v1/jobs',
    summary:
      "Schedule a prompt: exactly one of cron (with timezone) or interval_seconds. Through the API, output.file stays inside Perch's outputs folder and output.url reaches only public addresses (403 otherwise).",
    tag: 'Scheduled prompts',
    body: request.createJobRequest,
    responses: { 201: { description: 'The job, with its id and next_run_at', schema: response.job }, ...errors(400, 401, 403) },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/:id',
    summary: 'One job.',
    tag: 'Scheduled prompts',
    responses: { 200: { description: 'The job', schema: response.job }, ...errors(401, 404) },
  },
  {
    method: 'patch',
    path: '/api/v1/jobs/:id',
    summary: 'Change a job (enable, disable, reschedule…); its next run is recomputed.',
    tag: 'Scheduled prompts',
    body: request.updateJobRequest,
    responses: { 200: { description: 'The job', schema: response.job }, ...errors(400, 401, 403, 404) },
  },
  {
    method: 'delete',
    path: '/api/v1/jobs/:id',
    summary: 'Delete a job and its history.',
    tag: 'Scheduled prompts',
    responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
  },
  {
    method: 'post',
    path: '/api/v1/jobs/:id/run',
    summary: 'Run a job now (in the background); 409 while it is already running.',
    tag: 'Scheduled prompts',
    responses: { 202: { description: 'The run, started', schema: response.startedRun }, ...errors(401, 404, 409) },
  },
  {
    method: 'get',
    path: '/api/v1/jobs/:id/runs',
    summary: "A job's runs, newest first, with their output or error, usage and cost.",
    tag: 'Scheduled prompts',
    query: request.runsQuery,
    responses: { 200: { description: 'Runs', schema: response.jobRunList }, ...errors(400, 401, 404) },
  },
  {
    method: 'get',
    path: '/api/v1/models',
    summary: "Claude's models (from Anthropic, cached ten minutes) and Perch's default.",
    tag: 'Chat',
    responses: { 200: { description: 'Models', schema: response.modelList }, ...errors(401, 502, 503) },
  },
  {
    method: 'post',
    path: '/v1/messages',
    summary:
      'Anthropic Messages API, relayed unchanged (JSON or SSE) with the real key. Point Anthropic SDKs and Claude Code here.',
    tag: 'Anthropic-compatible',
    body: passthrough,
    responses: {
      200: { description: "Anthropic's answer, unchanged", events: "Anthropic's stream events, as they arrive." },
      ...errors(401, 413, 502, 503, 504),
    },
  },
  {
    method: 'post',
    path: '/v1/messages/count_tokens',
    summary: 'Anthropic token counting, relayed unchanged.',
    tag: 'Anthropic-compatible',
    body: passthrough,
    responses: { 200: { description: "Anthropic's answer, unchanged" }, ...errors(401, 502, 503) },
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: 'The model list in a shape both the Anthropic and the OpenAI SDKs read.',
    tag: 'Anthropic-compatible',
    responses: { 200: { description: 'Models', schema: response.compatModelList }, ...errors(401, 502, 503) },
  },
  {
    method: 'get',
    path: '/v1/models/:id',
    summary: 'One model, in the same shape.',
    tag: 'Anthropic-compatible',
    responses: { 200: { description: 'The model', schema: response.compatModel }, ...errors(401, 404) },
  },
  {
    method: 'post',
    path: '/v1/chat/completions',
    summary: 'OpenAI Chat Completions, translated to Claude: system/developer messages, images, tools, streaming with [DONE].',
    tag: 'OpenAI-compatible',
    body: request.chatCompletionRequest,
    responses: {
      200: { description: 'A chat.completion', events: '`data: {chat.completion.chunk}` lines, then `data: [DONE]`.' },
      ...errors(400, 401, 429, 502, 503, 504),
    },
  },
  {
    method: 'get',
    path: '/health',
    summary: "The seed's health path (same as /api/v1/health).",
    tag: 'Seed paths',
    public: true,
    responses: HEALTH_RESPONSES,
  },
  {
    method: 'get',
    path: '/api/status',
    summary: "The seed's status path.",
    tag: 'Seed paths',
    responses: { 200: { description: 'Running', schema: response.legacyStatus }, ...errors(401) },
  },
  {
    method: 'post',
    path: '/api/chat',
    summary: 'The seed\'s chat path: {response, status: "success", …}.',
    tag: 'Seed paths',
    body: request.legacyChatRequest,
    responses: { 200: { description: 'The answer', schema: response.legacyChatAnswer }, ...answerErrors },
  },
  {
    method: 'post',
    path: '/api/file/upload',
    summary: "The seed's upload path: analyzes the file.",
    tag: 'Seed paths',
    upload: request.analyzeFields,
    responses: { 200: { description: 'The analysis', schema: response.legacyUpload }, ...answerErrors },
  },
  ...WEBHOOK_ROUTES,
  ...USAGE_ROUTES,
  ...TASK_ROUTES,
  ...OPERATIONS_ROUTES,
];

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  // OpenAPI 3.1 schemas are JSON Schema 2020-12 already; the $schema marker is noise inside it.
  const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema'));
};

const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

function operation(route: RouteDoc): Record<string, unknown> {
  const parameters: unknown[] = [...route.path.matchAll(/:(\w+)/g)].map((match) => ({
    name: match[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) {
    const query = jsonSchema(route.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  let requestBody: Record<string, unknown> | undefined;
  if (route.body) requestBody = { required: false, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } };
  if (route.upload) {
    const fields = jsonSchema(route.upload, 'input') as { properties?: Record<string, unknown> };
    requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            required: ['file'],
            properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' }, ...fields.properties },
          },
        },
      },
    };
  }
  const responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, doc]) => {
      const content: Record<string, unknown> = {};
      if (doc.schema) content['application/json'] = { schema: jsonSchema(doc.schema, 'output') };
      if (doc.events) content['text/event-stream'] = { schema: { type: 'string', description: doc.events } };
      if (doc.text) content['text/plain'] = { schema: { type: 'string', description: doc.text } };
      return [status, { description: doc.description, ...(Object.keys(content).length ? { content } : {}) }];
    }),
  );
  return {
    summary: route.summary,
    tags: [route.tag],
    operationId: `${route.method}${openApiPath(route.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(route.public ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the whole API, generated from the zod schemas that validate it. */
export function openApiDocument(version: string, serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const entry = (paths[openApiPath(route.path)] ??= {});
    entry[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Perch local API',
      version,
      description:
        'Claude, always at hand. Authenticate with `Authorization: Bearer <token>` or `x-api-key: <token>` (print it with `npx perch token`).',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerToken: [] }, { apiKeyHeader: [] }],
    components: {
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: "Perch's local API token" },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: "Perch's local API token" },
      },
    },
    paths,
  };
}

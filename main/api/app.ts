import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { PerchError } from '../core/errors.js';
import { redactSecretsOf } from '../core/logger.js';
import type { PerchCore } from '../core/perch-core.js';
import { AnthropicRelay } from './anthropic-relay.js';
import { bodyTooLarge, errorHandler, isCompatPath, MB, uploadTooLarge, writeError } from './errors.js';
import { setHeaders } from './headers.js';
import { createRateLimits } from './limits.js';
import {
  applyCors,
  checkContentType,
  checkDeclaredSize,
  checkHost,
  checkOrigin,
  guard,
  isWebhookPath,
  ownOrigins,
  uploadRequestLimitBytes,
  type GuardContext,
} from './guards.js';
import { checkCredentials, isDesktopRequest, presentedToken, type CredentialContext } from './credentials.js';
import { anthropicRoutes, RELAY_PATHS } from './routes/anthropic.js';
import { authRoutes } from './routes/auth.js';
import { jobRoutes } from './routes/jobs.js';
import { settingsRoutes } from './routes/settings.js';
import { reviewRoutes, webhookRoutes } from './routes/webhooks.js';
import { chatRoutes } from './routes/chat.js';
import type { RouteContext } from './routes/context.js';
import { fileRoutes, UPLOAD_PATHS } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { openAiRoutes } from './routes/openai.js';
import { sessionRoutes } from './routes/sessions.js';
import { taskRoutes, workspaceRoutes } from './routes/tasks.js';
import { usageRoutes } from './routes/usage.js';

export interface AppOptions {
  core: PerchCore;
  logger: Logger;
  /** Where the service actually listens (known once the socket is bound). */
  listening: () => { host: string; port: number; url: string };
  /** The built web UI, served at `/` when present. */
  staticDir?: string | undefined;
}

export interface PerchApp {
  /** The Node request listener: the relay's fast path, and express for everything else. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  app: Express;
  /** Every method and path the routers serve (for the OpenAPI coverage check). */
  routes: () => Array<{ method: string; path: string }>;
  close: () => void;
}

/** The web UI may load only its own scripts and talk only to this service. */
const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A caller's own request id is reused when it is a short plain token (it goes into logs and headers). */
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Headers every answer carries besides its request id, as name-value pairs. */
const SECURITY_HEADERS: readonly string[] = [
  'X-Content-Type-Options',
  'nosniff',
  'Referrer-Policy',
  'no-referrer',
  'X-Frame-Options',
  'DENY',
  'Cross-Origin-Resource-Policy',
  'same-origin',
];

/** What the relay's answers carry of Perch's own, besides the request id (lower case, to spot the upstream's). */
const RELAY_HEADERS = [...SECURITY_HEADERS, 'Cache-Control', 'no-store'];
const RELAY_HEADER_NAMES: ReadonlySet<string> = new Set(
  ['X-Request-Id', ...RELAY_HEADERS.filter((_, index) => index % 2 === 0)].map((name) => name.toLowerCase()),
);

/** One log line per request once it ends. */
function logRequest(logger: Logger, requestId: string, method: string, path: string, status: number, durationMs: number): void {
  const record = { req_id: requestId, method, path, status, duration_ms: Math.round(durationMs * 10) / 10 };
  const line = `${method} ${path} ${status} ${durationMs.toFixed(1)} ms`;
  if (status >= 500) logger.error(record, line);
  else logger.info(record, line);
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

function listRoutes(routers: express.Router[]): Array<{ method: string; path: string }> {
  return routers.flatMap((router) =>
    (router.stack as RouterLayer[]).flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods)
            .filter((method) => method !== '_all')
            .map((method) => ({ method, path: (layer.route as { path: string }).path }))
        : [],
    ),
  );
}

const isApiPath = (path: string): boolean => path.startsWith('/api/') || path.startsWith('/v1/') || path === '/metrics';

/**
 * The route a request matched, as its pattern (`/api/v1/sessions/:id`), so metrics stay a
 * handful of series however many ids and paths clients send.
 */
function routeLabel(req: IncomingMessage, path: string): string {
  const matched = (req as { route?: { path?: unknown } }).route?.path;
  if (typeof matched === 'string') return matched;
  if (RELAY_PATHS.has(path)) return path;
  return isApiPath(path) || isWebhookPath(path) ? 'unmatched' : 'static';
}

const pathOf = (url: string | undefined): string => {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
};

/**
 * The local HTTP API. Every request passes the guards in this order — Host, Origin, declared
 * size, then (for API paths) the token and the content type — before any route sees it.
 */
export function createApp(options: AppOptions): PerchApp {
  const { core, logger } = options;
  const settings = () => core.currentSettings();
  const secrets = (): ReadonlyArray<string | undefined> => [core.apiKeys.get(), core.tokens.get()];
  // No log line may carry the key, the token or a webhook secret, wherever it slipped in.
  redactSecretsOf(logger, core);
  /**
   * The request lines: their fields (req_id, method, path, status, duration_ms) are none that
   * the path-based redaction (REDACTED_PATHS) censors, and running it anyway cost ~10 µs a line,
   * a twentieth of a relayed request. The stream's scrubbing of secret values still applies.
   */
  const requestLogger = logger.child({}, { redact: { paths: [] } });
  const guardContext: GuardContext = {
    port: () => options.listening().port,
    bindHost: () => options.listening().host,
    allowedHosts: () => settings().api.allowedHosts,
    allowedOrigins: () => settings().api.allowedOrigins,
  };
  const credentials: CredentialContext = {
    tokens: core.tokens,
    sessions: core.browserSessions,
    ownOrigins: () => ownOrigins(guardContext),
  };
  const routeContext: RouteContext = { core, secrets, listening: options.listening, credentials };
  const isUpload = (path: string): boolean => UPLOAD_PATHS.has(path);
  const bodyLimit = (path: string): number =>
    isUpload(path) ? uploadRequestLimitBytes(settings().api.maxUploadMb) : settings().api.maxBodyMb * MB;
  const tooLarge = (path: string) => (): PerchError =>
    isUpload(path) ? uploadTooLarge(settings().api.maxUploadMb) : bodyTooLarge(settings().api.maxBodyMb);
  const relay = new AnthropicRelay({
    apiKey: () => core.apiKeys.get(),
    upstreamUrl: () => settings().claude.upstreamUrl,
    timeoutSeconds: () => settings().claude.timeoutSeconds,
    maxBodyMb: () => settings().api.maxBodyMb,
    recordUsage: (model, usage, taskId) =>
      core.usage.record(taskId ? { source: 'task', model, usage, taskId } : { source: 'anthropic', model, usage }),
    sendError: (res, error) => writeError(res, error, secrets(), true),
    refusal: () => core.refusal(),
    gate: core.upstreamGate,
    observe: (call) => core.metrics.upstream(call),
    streamStarted: () => core.metrics.streamStarted(),
  });
  const limits = createRateLimits(core, secrets, isCompatPath);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(guard((req) => checkHost(guardContext, req, req.path)));
  app.use((req, res, next) => {
    const origin = checkOrigin(guardContext, req, req.path);
    if (origin instanceof PerchError) {
      next(origin);
      return;
    }
    applyCors(res, origin.allowOrigin, req.method === 'OPTIONS');
    if (req.method !== 'OPTIONS') next();
  });
  app.use(guard((req) => checkDeclaredSize(req, bodyLimit(req.path), tooLarge(req.path))));

  const health = healthRoutes(routeContext);
  const auth = authRoutes(routeContext);
  const webhooks = webhookRoutes(routeContext, limits.webhooks as RequestHandler);
  const routers = [
    health.publicRouter,
    auth.publicRouter,
    webhooks,
    health.privateRouter,
    metricsRoutes(routeContext),
    auth.privateRouter,
    settingsRoutes(routeContext),
    jobRoutes(routeContext),
    workspaceRoutes(routeContext),
    taskRoutes(routeContext),
    usageRoutes(routeContext),
    reviewRoutes(routeContext),
    chatRoutes(routeContext),
    sessionRoutes(routeContext),
    fileRoutes(routeContext),
    modelRoutes(routeContext),
    anthropicRoutes(routeContext, relay),
    openAiRoutes(routeContext),
  ];
  app.use(health.publicRouter);
  app.use(auth.publicRouter);
  // Webhooks come through tunnels under other names; each proves itself with a signature.
  app.use(webhooks);

  const api = express.Router();
  const noStore: RequestHandler = (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  api.use(noStore);
  api.use((req, res, next) => {
    const credential = checkCredentials(credentials, req);
    if (credential instanceof PerchError) {
      next(credential);
      return;
    }
    res.locals.credential = credential;
    res.locals.desktop = isDesktopRequest(req, core.desktopSecret);
    next();
  });
  api.use(limits.claude);
  api.use(guard((req) => checkContentType(req, isUpload(req.path))));
  const jsonParsers = new Map<number, RequestHandler>();
  api.use((req, res, next) => {
    // The relay reads bodies itself and passes them upstream untouched, so nothing may read them first.
    if (RELAY_PATHS.has(req.path)) {
      next();
      return;
    }
    const limit = settings().api.maxBodyMb;
    let parser = jsonParsers.get(limit);
    if (!parser) {
      parser = express.json({ limit: limit * MB, strict: false });
      jsonParsers.set(limit, parser);
    }
    parser(req, res, next);
  });
  for (const router of routers.slice(3)) api.use(router);
  app.use((req, res, next) => (isApiPath(req.path) ? api(req, res, next) : next()));

  if (options.staticDir && existsSync(options.staticDir)) {
    app.use(
      express.static(options.staticDir, {
        index: 'index.html',
        setHeaders: (res, filePath) => {
          if (filePath.endsWith('.html')) {
            res.setHeader('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY);
            res.setHeader('Cache-Control', 'no-cache');
          }
        },
      }),
    );
  }

  app.use((req, _res, next) => {
    next(new PerchError('not_found_error', 404, `No such endpoint: ${req.method} ${req.path}. The README lists the API.`));
  });
  app.use(errorHandler(logger, () => settings().api, secrets));

  /**
   * The Messages relay is the hot path between editors and Claude: it takes the same guards
   * without express's routing, and streams straight through. Its headers go out in the one
   * writeHead of the answer (each setHeader before it costs a validation twice).
   */
  const relayFastPath = (req: IncomingMessage, res: ServerResponse, path: string, requestId: string): void => {
    const headers = { pairs: ['X-Request-Id', requestId, ...RELAY_HEADERS], names: RELAY_HEADER_NAMES };
    const origin = checkOrigin(guardContext, req, path);
    // A running task's agent holds a credential for this relay alone; what it spends is its task's.
    const presented = presentedToken(req);
    const taskId = presented === undefined ? undefined : core.tasks.agentTokens.taskOf(presented);
    const refusal =
      checkHost(guardContext, req, path) ??
      (origin instanceof PerchError ? origin : undefined) ??
      checkDeclaredSize(req, bodyLimit(path), tooLarge(path)) ??
      (() => {
        if (taskId !== undefined) return undefined;
        const credential = checkCredentials(credentials, req);
        return credential instanceof PerchError ? credential : undefined;
      })() ??
      checkContentType(req, false);
    if (refusal) {
      setHeaders(res, headers.pairs);
      writeError(res, refusal, secrets(), true);
      req.resume();
      return;
    }
    if (!(origin instanceof PerchError)) applyCors(res, origin.allowOrigin, false);
    const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    limits.claude(req, res, () =>
      relay.forward(req, res, path, query, { recordUsage: path === '/v1/messages', headers, taskId }),
    );
  };

  /** Every request: its id, its metrics and log line once it ends, then the relay or express. */
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req.url);
    const started = performance.now();
    const requestId = requestIdOf(req);
    res.once('close', () => {
      const durationMs = performance.now() - started;
      const status = res.writableFinished ? res.statusCode : 499;
      const method = req.method ?? 'GET';
      core.metrics.http(method, routeLabel(req, path), status, durationMs / 1000);
      logRequest(requestLogger, requestId, method, path, status, durationMs);
    });
    if (req.method === 'POST' && RELAY_PATHS.has(path)) {
      relayFastPath(req, res, path, requestId);
      return;
    }
    res.setHeader('X-Request-Id', requestId);
    setHeaders(res, SECURITY_HEADERS);
    app(req, res);
  };

  return { handle, app, routes: () => listRoutes(routers), close: () => relay.close() };
}

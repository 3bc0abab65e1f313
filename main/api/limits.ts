import type { IncomingMessage, ServerResponse } from 'node:http';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Request, Response } from 'express';
import { PerchError } from '../core/errors.js';
import type { PerchCore } from '../core/perch-core.js';
import { writeError } from './errors.js';

/** The routes that ask Claude (and so spend money): the only ones the request limit counts. */
const CLAUDE_PATHS = new Set(['/api/v1/chat', '/api/chat', '/api/v1/file/analyze', '/api/file/upload', '/api/v1/code/review']);

export const callsClaude = (method: string | undefined, path: string): boolean =>
  method === 'POST' && (CLAUDE_PATHS.has(path) || path.startsWith('/v1/'));

/** One bucket per client address (all local tools share 127.0.0.1; a remote client has its own). */
const clientKey = (req: IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

type PlainMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface RateLimits {
  /** Counts requests that call Claude, per client, per minute (rateLimit.requestsPerMinute). */
  claude: PlainMiddleware;
  /** Counts webhook deliveries per sender address (rateLimit.webhooksPerMinute). */
  webhooks: PlainMiddleware;
}

/**
 * Request limits with express-rate-limit, in memory, one-minute windows. Limits are read per
 * request, so changing a setting applies at once; 0 turns a limit off. A refused request gets
 * 429 with Retry-After and the RateLimit headers, in the shape its API speaks.
 */
export function createRateLimits(
  core: PerchCore,
  secrets: () => ReadonlyArray<string | undefined>,
  isCompatPath: (path: string) => boolean,
): RateLimits {
  const make = (
    limit: () => number,
    describe: (limit: number) => string,
    count: (req: IncomingMessage) => boolean,
  ): RateLimitRequestHandler =>
    rateLimit({
      windowMs: 60_000,
      limit: () => limit(),
      skip: (req) => limit() === 0 || !count(req),
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: (req) => clientKey(req),
      // The relay's fast path hands plain Node requests: express-only checks do not apply.
      validate: false,
      handler: (req, res) => {
        core.metrics.refused('rate_limited');
        const retryAfter = Number(res.getHeader('Retry-After') ?? 60);
        const error = new PerchError('rate_limit_error', 429, describe(limit()), { retryAfterSeconds: retryAfter });
        writeError(res, error, secrets(), isCompatPath(pathOf(req)));
      },
    });
  /**
   * A limit that is off (0), or a request it does not count, passes at once: express-rate-limit
   * would otherwise run (and answer through a promise) for every request only to skip it.
   */
  const plain = (
    limit: () => number,
    describe: (limit: number) => string,
    count: (req: IncomingMessage) => boolean,
  ): PlainMiddleware => {
    const handler = make(limit, describe, count);
    return (req, res, next) => {
      if (limit() === 0 || !count(req)) next();
      else void handler(req as Request, res as Response, next);
    };
  };
  const claude = plain(
    () => core.currentSettings().rateLimit.requestsPerMinute,
    (limit) =>
      `Too many requests to Claude: at most ${limit} a minute from one client (setting rateLimit.requestsPerMinute). Wait for Retry-After seconds.`,
    (req) => callsClaude(req.method, pathOf(req)),
  );
  const webhooks = plain(
    () => core.currentSettings().rateLimit.webhooksPerMinute,
    (limit) => `Too many webhook deliveries: at most ${limit} a minute (setting rateLimit.webhooksPerMinute).`,
    () => true,
  );
  return { claude, webhooks };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PerchError } from '../core/errors.js';
import type { TokenStore } from '../core/secrets.js';
import { MB } from './errors.js';

/** The origin of the desktop app's own pages (its custom protocol). */
export const DESKTOP_APP_ORIGIN = 'perch://app';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface GuardContext {
  /** The port the service actually listens on. */
  port: () => number;
  bindHost: () => string;
  allowedHosts: () => readonly string[];
  allowedOrigins: () => readonly string[];
}

/** Webhooks arrive through tunnels under other names and are authenticated by signature. */
export const isWebhookPath = (path: string): boolean => path.startsWith('/webhook/');

function hostNameOf(hostHeader: string): string {
  // "[::1]:8080" → "[::1]", "localhost:8080" → "localhost", "example.com" → "example.com"
  const bracketed = /^(\[[^\]]+\])(?::\d+)?$/.exec(hostHeader);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  const colon = hostHeader.lastIndexOf(':');
  return (colon === -1 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

const asHostName = (host: string): string => (isIP(host) === 6 ? `[${host}]` : host.toLowerCase());

export function allowedHostNames(context: GuardContext): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, ...context.allowedHosts().map(asHostName)]);
  const bind = context.bindHost();
  // A specific non-wildcard bind address is reachable by that address.
  if (bind !== '0.0.0.0' && bind !== '::') names.add(asHostName(bind));
  return names;
}

/** The service's own origins, plus the desktop app's and any the person added. */
export function allowedOriginSet(context: GuardContext): Set<string> {
  const port = context.port();
  const origins = new Set<string>([DESKTOP_APP_ORIGIN, ...context.allowedOrigins().map((origin) => origin.replace(/\/$/, ''))]);
  for (const name of allowedHostNames(context)) origins.add(`http://${name}:${port}`);
  return origins;
}

/**
 * Host check against DNS rebinding: a page on evil.example that resolves its name to
 * 127.0.0.1 still sends `Host: evil.example`, which is refused here.
 */
export function hostGuard(context: GuardContext): RequestHandler {
  return (req, _res, next) => {
    if (isWebhookPath(req.path)) {
      next();
      return;
    }
    const header = req.headers.host;
    if (!header) {
      next(new PerchError('forbidden_host', 403, 'The request has no Host header.'));
      return;
    }
    const name = hostNameOf(header);
    if (allowedHostNames(context).has(name)) {
      next();
      return;
    }
    next(
      new PerchError(
        'forbidden_host',
        403,
        `Host '${name}' is not allowed. Use http://127.0.0.1:${context.port()}, or add the name with \`npx perch config set api.allowedHosts ${name}\`.`,
      ),
    );
  };
}

const ALLOWED_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, X-Api-Key, Content-Type, Accept, Anthropic-Version, Anthropic-Beta';

/**
 * Refuses any request whose Origin is not allowed (403), and answers CORS for allowed
 * origins by echoing that origin — never a wildcard.
 */
export function originGuard(context: GuardContext): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || isWebhookPath(req.path)) {
      if (req.method === 'OPTIONS') return void res.status(204).end();
      next();
      return;
    }
    if (!allowedOriginSet(context).has(origin)) {
      next(
        new PerchError(
          'forbidden_origin',
          403,
          `Requests from origin '${origin}' are not allowed. Add it with \`npx perch config set api.allowedOrigins ${origin}\` if you trust it.`,
        ),
      );
      return;
    }
    // Tokens only across origins: no Allow-Credentials, so the UI's cookie stays same-origin.
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.append('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      return void res.status(204).end();
    }
    next();
  };
}

/**
 * A declared body over the limit is refused from its headers alone, before authentication or
 * parsing read a byte of it. (Bodies without a length are cut off by the parsers.)
 */
export function declaredSizeGuard(limitBytes: (req: Request) => number, describe: (req: Request) => string): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limitBytes(req)) {
      next(new PerchError('request_too_large', 413, describe(req)));
      return;
    }
    next();
  };
}

function presentedToken(req: Request): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]?.trim();
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}

/** Token check: `Authorization: Bearer <token>` or `x-api-key: <token>`, compared in constant time. */
export function authGuard(tokens: TokenStore): RequestHandler {
  return (req, _res, next) => {
    const token = presentedToken(req);
    if (!token) {
      next(
        new PerchError(
          'authentication_error',
          401,
          'Missing API token. Send it as `Authorization: Bearer <token>` or `x-api-key: <token>`; print it with `npx perch token`.',
        ),
      );
      return;
    }
    if (!tokens.verify(token)) {
      next(new PerchError('authentication_error', 401, 'Invalid API token. Print the current one with `npx perch token`.'));
      return;
    }
    next();
  };
}

const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Authenticated routes take JSON (or multipart where a file is uploaded) and nothing else,
 * so a cross-site "simple" request (text/plain, a form post) never reaches a handler.
 */
export function contentTypeGuard(isUploadRoute: (req: Request) => boolean): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !hasBody(req)) {
      next();
      return;
    }
    const upload = isUploadRoute(req);
    if (req.is(upload ? 'multipart/form-data' : 'application/json')) {
      next();
      return;
    }
    const hint = upload
      ? "Upload the file as multipart/form-data in the field 'file' (curl -F file=@path)."
      : `Send the body as JSON with \`Content-Type: application/json\` (got '${req.headers['content-type'] ?? 'none'}').`;
    next(new PerchError('unsupported_media_type', 415, hint));
  };
}

/** Upload allowance: the file limit plus room for the multipart framing and small fields. */
export const uploadRequestLimitBytes = (maxUploadMb: number): number => maxUploadMb * MB + 256 * 1024;

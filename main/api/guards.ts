import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { PerchError } from '../core/errors.js';
import { MB } from './errors.js';

/**
 * The checks every request passes before a route sees it. Each is a plain function of the
 * request that returns the refusal (or nothing), so the express app and the relay's fast path
 * apply exactly the same rules.
 */

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

/** The origins of the service's own pages (the web UI), under every name it answers to. */
export function ownOrigins(context: GuardContext): Set<string> {
  const port = context.port();
  // Either scheme: the service serves one of them (HTTPS with --tls-cert), never both.
  return new Set([...allowedHostNames(context)].flatMap((name) => [`http://${name}:${port}`, `https://${name}:${port}`]));
}

/** The service's own origins, plus the desktop app's and any the person added. */
export function allowedOriginSet(context: GuardContext): Set<string> {
  return new Set([
    ...ownOrigins(context),
    DESKTOP_APP_ORIGIN,
    ...context.allowedOrigins().map((origin) => origin.replace(/\/$/, '')),
  ]);
}

/**
 * Host check against DNS rebinding: a page on evil.example that resolves its name to
 * 127.0.0.1 still sends `Host: evil.example`, which is refused.
 */
export function checkHost(context: GuardContext, req: IncomingMessage, path: string): PerchError | undefined {
  if (isWebhookPath(path)) return undefined;
  const header = req.headers.host;
  if (!header) return new PerchError('forbidden_host', 403, 'The request has no Host header.');
  const name = hostNameOf(header);
  // Loopback names are always allowed: the everyday case needs no set built from settings.
  if (LOOPBACK_NAMES.includes(name) || allowedHostNames(context).has(name)) return undefined;
  return new PerchError(
    'forbidden_host',
    403,
    `Host '${name}' is not allowed. Use http://127.0.0.1:${context.port()}, or allow the name with npx perch config set api.allowedHosts ${name} on this machine.`,
  );
}

/** A foreign Origin is refused; an allowed one is answered by echoing it (never a wildcard). */
export function checkOrigin(context: GuardContext, req: IncomingMessage, path: string): PerchError | { allowOrigin?: string } {
  const origin = req.headers.origin;
  if (origin === undefined || isWebhookPath(path)) return {};
  if (!allowedOriginSet(context).has(origin)) {
    return new PerchError(
      'forbidden_origin',
      403,
      `Requests from origin '${origin}' are not allowed. If you trust it, allow it with npx perch config set api.allowedOrigins ${origin} on this machine.`,
    );
  }
  return { allowOrigin: origin };
}

/**
 * A declared body over the limit is refused from its headers alone, before authentication or
 * parsing read a byte of it. (Bodies without a length are cut off while they are read.)
 */
export function checkDeclaredSize(req: IncomingMessage, limitBytes: number, tooLarge: () => PerchError): PerchError | undefined {
  const declared = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(declared) && declared > limitBytes ? tooLarge() : undefined;
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

const mediaType = (req: IncomingMessage): string => (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/**
 * Authenticated routes take JSON (or multipart where a file is uploaded) and nothing else,
 * so a cross-site "simple" request (text/plain, a form post) never reaches a handler.
 */
export function checkContentType(req: IncomingMessage, upload: boolean): PerchError | undefined {
  if (!['POST', 'PUT', 'PATCH'].includes(req.method ?? '') || !hasBody(req)) return undefined;
  const type = mediaType(req);
  if (upload ? type === 'multipart/form-data' : type === 'application/json' || type.endsWith('+json')) return undefined;
  const hint = upload
    ? "Upload the file as multipart/form-data in the field 'file' (curl -F file=@path)."
    : `Send the body as JSON, with the header Content-Type: application/json (got '${req.headers['content-type'] ?? 'none'}').`;
  return new PerchError('unsupported_media_type', 415, hint);
}

/** Upload allowance: the file limit plus room for the multipart framing and small fields. */
export const uploadRequestLimitBytes = (maxUploadMb: number): number => maxUploadMb * MB + 256 * 1024;

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, X-Api-Key, X-Perch-Desktop, Content-Type, Accept, Anthropic-Version, Anthropic-Beta';

/** Answers CORS for an allowed origin; a preflight is answered here and goes no further. */
export function applyCors(res: ServerResponse, allowOrigin: string | undefined, preflight: boolean): void {
  if (allowOrigin) {
    // Tokens only across origins: no Allow-Credentials, so the UI's cookie stays same-origin.
    res.setHeader('Access-Control-Allow-Origin', allowOrigin);
    res.appendHeader('Vary', 'Origin');
  }
  if (preflight) {
    if (allowOrigin) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.statusCode = 204;
    res.end();
  }
}

/** Turns a check into express middleware: a refusal goes to the error handler. */
export const guard =
  (check: (req: Parameters<RequestHandler>[0]) => PerchError | undefined): RequestHandler =>
  (req, _res, next) => {
    next(check(req));
  };

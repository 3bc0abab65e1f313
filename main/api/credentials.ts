import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { cookieValue, SESSION_COOKIE, type BrowserSessions } from '../core/browser-sessions.js';
import { PerchError } from '../core/errors.js';
import { secretsMatch, type TokenStore } from '../core/secrets.js';

/** How a request proved who it is. */
export type Credential = 'token' | 'cookie';

/** The token a request presents, as `Authorization: Bearer` or `x-api-key`. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]?.trim();
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}

/**
 * The cookie only counts on same-origin requests: browsers mark cross-site ones with
 * Sec-Fetch-Site, and an Origin, when sent, must be one of the service's own.
 */
function sameOrigin(req: IncomingMessage, ownOrigins: () => ReadonlySet<string>): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  return origin === undefined || ownOrigins().has(origin);
}

export interface CredentialContext {
  tokens: TokenStore;
  sessions: BrowserSessions;
  ownOrigins: () => ReadonlySet<string>;
}

/**
 * The token each connection last proved, and the service token it matched then. A keep-alive
 * client sends the same token on every request, so those skip the hashing; a comparison with
 * what this very connection sent before tells nothing to anyone else, and a regenerated token
 * no longer matches `current`.
 */
const provenOn = new WeakMap<Socket, { presented: string; current: string }>();

function tokenIsValid(tokens: TokenStore, req: IncomingMessage, presented: string): boolean {
  const proven = provenOn.get(req.socket);
  if (proven !== undefined && proven.presented === presented && proven.current === tokens.get()) return true;
  if (!tokens.verify(presented)) return false;
  provenOn.set(req.socket, { presented, current: tokens.get() });
  return true;
}

/**
 * Three ways in: the token as `Authorization: Bearer` or `x-api-key` (compared in constant
 * time), or the web UI's session cookie on a same-origin request. Returns how, or the refusal.
 */
export function checkCredentials(context: CredentialContext, req: IncomingMessage): Credential | PerchError {
  const token = presentedToken(req);
  if (token) {
    return tokenIsValid(context.tokens, req, token)
      ? 'token'
      : new PerchError(
          'authentication_error',
          401,
          'Invalid API token. Print the current one with npx perch token on this machine.',
        );
  }
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (cookie && context.sessions.verify(cookie) && sameOrigin(req, context.ownOrigins)) return 'cookie';
  return new PerchError(
    'authentication_error',
    401,
    'Missing API token. Send it in an Authorization: Bearer <token> header or an x-api-key: <token> header; print it with npx perch token on this machine.',
  );
}

/** Whether a request comes from the desktop app's own windows (they carry its per-launch secret). */
export function isDesktopRequest(req: IncomingMessage, desktopSecret: string | undefined): boolean {
  const presented = req.headers['x-perch-desktop'];
  return Boolean(desktopSecret) && typeof presented === 'string' && secretsMatch(presented, desktopSecret as string);
}

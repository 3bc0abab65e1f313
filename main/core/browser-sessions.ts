import { createHmac } from 'node:crypto';
import { secretsMatch, type TokenStore } from './secrets.js';

export const SESSION_COOKIE = 'perch_session';
export const SESSION_DAYS = 30;
const SESSION_MS = SESSION_DAYS * 24 * 60 * 60 * 1000;

/**
 * The web UI's sign-in: a browser shows the token once and gets a cookie that proves it did.
 * The cookie is `issuedAt.signature`, signed with the current token, so it survives restarts,
 * expires after 30 days, and every cookie dies the moment the token is regenerated.
 */
export class BrowserSessions {
  constructor(
    private readonly tokens: TokenStore,
    private readonly now: () => number = Date.now,
  ) {}

  private sign(issuedAt: string): string {
    return createHmac('sha256', this.tokens.get()).update(`perch-session:${issuedAt}`).digest('base64url');
  }

  /** A new cookie value, or undefined when the presented token is wrong. */
  signIn(presentedToken: string): string | undefined {
    if (!this.tokens.verify(presentedToken)) return undefined;
    const issuedAt = this.now().toString(36);
    return `${issuedAt}.${this.sign(issuedAt)}`;
  }

  verify(cookieValue: string | undefined): boolean {
    if (!cookieValue) return false;
    const [issuedAt, signature] = cookieValue.split('.');
    if (!issuedAt || !signature) return false;
    const issued = Number.parseInt(issuedAt, 36);
    const age = this.now() - issued;
    if (!Number.isFinite(issued) || age < 0 || age > SESSION_MS) return false;
    return secretsMatch(signature, this.sign(issuedAt));
  }
}

/** The value of one cookie from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator !== -1 && part.slice(0, separator).trim() === name) {
      // Any page on another localhost port can set cookies here: a malformed one is skipped.
      try {
        return decodeURIComponent(part.slice(separator + 1).trim());
      } catch {
        continue;
      }
    }
  }
  return undefined;
}

export const sessionCookieHeader = (value: string, secure: boolean): string =>
  `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}`;

export const clearedSessionCookieHeader = (secure: boolean): string =>
  `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;

/**
 * What a failed connection (or file write) was, in words a person can act on. Node, undici
 * and fetch describe failures with system codes (ECONNREFUSED, UND_ERR_SOCKET) and wrappers
 * that say nothing ("fetch failed", "terminated"); messages that reach people never carry
 * those: every place that reports a network or file failure describes it here.
 */

/** Broad kinds, for callers that word a sentence differently (a cut answer, a refused connection). */
export type FailureKind = 'closed' | 'refused' | 'not_found' | 'timeout' | 'unreachable' | 'tls' | 'cancelled' | 'file' | 'other';

export interface DescribedFailure {
  kind: FailureKind;
  /** Plain words, lower case unless they start with a name, no final period: "connection refused". */
  reason: string;
}

export interface DescribeOptions {
  /** Who was on the other end, as the subject of a sentence ("Anthropic", "GitHub"); default "the server". */
  peer?: string;
}

type Words = (peer: string, error: ErrorWithCode) => DescribedFailure;

interface ErrorWithCode extends Error {
  code?: unknown;
  hostname?: unknown;
  path?: unknown;
}

const closed: Words = (peer) => ({ kind: 'closed', reason: `${peer} closed the connection` });
const untrusted: Words = () => ({ kind: 'tls', reason: 'its security certificate is not trusted' });
const timedOut: Words = (peer) => ({ kind: 'timeout', reason: `${peer} did not answer in time` });
const connectTimedOut: Words = () => ({ kind: 'timeout', reason: 'the connection timed out' });
const notSecure: Words = () => ({
  kind: 'tls',
  reason: 'a secure connection could not be set up (should the address start with http://?)',
});
const cancelled: Words = () => ({ kind: 'cancelled', reason: 'the request was cancelled' });
const noAccess: Words = () => ({ kind: 'file', reason: 'permission denied' });
const hostOf = (error: ErrorWithCode): string => (typeof error.hostname === 'string' ? ` ${error.hostname}` : '');

/** System and undici codes, by what they mean to a person. */
const BY_CODE: Record<string, Words> = {
  ECONNREFUSED: () => ({ kind: 'refused', reason: 'connection refused (nothing is listening at that address)' }),
  ECONNRESET: (peer) => ({ kind: 'closed', reason: `${peer} reset the connection` }),
  EPIPE: closed,
  UND_ERR_SOCKET: closed,
  UND_ERR_CLOSED: closed,
  ERR_STREAM_PREMATURE_CLOSE: closed,
  ECONNABORTED: () => ({ kind: 'closed', reason: 'the connection was aborted' }),
  ENOTFOUND: (_peer, error) => ({ kind: 'not_found', reason: `the name${hostOf(error)} could not be found` }),
  EAI_AGAIN: (_peer, error) => ({
    kind: 'not_found',
    reason: `the name${hostOf(error)} could not be looked up (is the network connected?)`,
  }),
  ETIMEDOUT: connectTimedOut,
  UND_ERR_CONNECT_TIMEOUT: connectTimedOut,
  UND_ERR_HEADERS_TIMEOUT: timedOut,
  UND_ERR_BODY_TIMEOUT: timedOut,
  EHOSTUNREACH: () => ({ kind: 'unreachable', reason: 'the host cannot be reached from this network' }),
  ENETUNREACH: () => ({ kind: 'unreachable', reason: 'the network is unreachable' }),
  ENETDOWN: () => ({ kind: 'unreachable', reason: 'the network is down' }),
  CERT_HAS_EXPIRED: () => ({ kind: 'tls', reason: 'its security certificate has expired' }),
  DEPTH_ZERO_SELF_SIGNED_CERT: untrusted,
  SELF_SIGNED_CERT_IN_CHAIN: untrusted,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: untrusted,
  UNABLE_TO_GET_ISSUER_CERT: untrusted,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: untrusted,
  ERR_TLS_CERT_ALTNAME_INVALID: () => ({ kind: 'tls', reason: 'its security certificate is for another name' }),
  EPROTO: notSecure,
  ERR_SSL_WRONG_VERSION_NUMBER: notSecure,
  UND_ERR_ABORTED: cancelled,
  ABORT_ERR: cancelled,
  ERR_INVALID_URL: () => ({ kind: 'other', reason: 'the address is not a valid URL' }),
  EACCES: noAccess,
  EPERM: noAccess,
  ENOENT: () => ({ kind: 'file', reason: 'no such file or folder' }),
  EISDIR: () => ({ kind: 'file', reason: 'it is a folder, not a file' }),
  ENOTDIR: () => ({ kind: 'file', reason: 'part of the path is a file, not a folder' }),
  ENOSPC: () => ({ kind: 'file', reason: 'the disk is full' }),
  EROFS: () => ({ kind: 'file', reason: 'the disk is read-only' }),
  EMFILE: () => ({ kind: 'file', reason: 'too many files are open' }),
};

/** Wrappers' messages that say nothing about what happened. */
const SAYS_NOTHING = new Set([
  'fetch failed',
  'terminated',
  'connection error.',
  'other side closed',
  'request failed',
  'bad port',
]);

/** A system code, or text that reads like one (`connect ECONNREFUSED 127.0.0.1:443`, `UND_ERR_SOCKET`). */
const LOOKS_LIKE_CODE = /\b(?:E[A-Z]{3,}|[A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/;

/** The error and what caused it, outermost first (undici nests the real failure in `cause`, Happy Eyeballs in `errors`). */
function chainOf(error: unknown): ErrorWithCode[] {
  const chain: ErrorWithCode[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = current.cause ?? (current instanceof AggregateError ? (current.errors as unknown[])[0] : undefined);
  }
  return chain;
}

/** Why a network call (or a file write) failed, in plain words, with its broad kind. */
export function describeFailure(error: unknown, options: DescribeOptions = {}): DescribedFailure {
  const peer = options.peer ?? 'the server';
  const chain = chainOf(error);
  // The innermost known code is the most specific: "fetch failed" wraps "connect ECONNREFUSED".
  for (const link of [...chain].reverse()) {
    const words = typeof link.code === 'string' ? BY_CODE[link.code] : undefined;
    if (words) return words(peer, link);
    if (link.name === 'TimeoutError') return timedOut(peer, link);
    if (link.name === 'AbortError') return cancelled(peer, link);
  }
  for (const link of [...chain].reverse()) {
    const message = link.message.trim();
    if (message && !SAYS_NOTHING.has(message.toLowerCase()) && !LOOKS_LIKE_CODE.test(message)) {
      return { kind: 'other', reason: message.replace(/\.$/, '') };
    }
  }
  const messages = chain.map((link) => link.message.toLowerCase());
  if (messages.includes('terminated') || messages.includes('other side closed')) return closed(peer, chain[0] as ErrorWithCode);
  // fetch refuses ports browsers block (fetch's "bad port"), before any connection.
  if (messages.includes('bad port')) return { kind: 'refused', reason: 'that port is one fetch refuses to connect to' };
  return { kind: 'other', reason: 'the connection failed for a reason the system did not give' };
}

/** Why a network call (or a file write) failed, in plain words: "connection refused". */
export const describeSystemError = (error: unknown, options: DescribeOptions = {}): string =>
  describeFailure(error, options).reason;

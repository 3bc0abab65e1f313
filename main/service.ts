import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createApp } from './api/app.js';
import { PerchError } from './core/errors.js';
import { PerchCore, type PerchCoreOptions } from './core/perch-core.js';
import { removeRuntimeInfo, writeRuntimeInfo } from './core/runtime-file.js';
import { drainWebhookWork } from './core/webhooks/index.js';

export interface StartServiceOptions extends Omit<PerchCoreOptions, 'overrides'> {
  logger: Logger;
  /** Listen on this port instead of the setting (0 picks a free one, for tests). */
  port?: number | undefined;
  host?: string | undefined;
  /** Serve HTTPS with these PEM files (read at start; a missing or bad file is a clear error). */
  tls?: { certFile: string; keyFile: string } | undefined;
  staticDir?: string | undefined;
  /** HTTP timeouts in milliseconds; tests shorten them, the defaults suit everyday use. */
  httpTimeouts?: Partial<HttpTimeouts> | undefined;
  /** Most connections open at once; beyond it new ones are closed at once (default 1024). */
  maxConnections?: number | undefined;
}

export interface HttpTimeouts {
  /** A client must finish sending its headers within this (slowloris). */
  headersMs: number;
  /** …and its whole request, body included, within this. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** How often Node checks the two timeouts above. */
  checkIntervalMs: number;
}

const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 30_000,
  requestMs: 5 * 60_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 30_000,
};

/** Enough for every editor, script and browser tab at once; a runaway client cannot hold thousands of sockets. */
const DEFAULT_MAX_CONNECTIONS = 1024;

const MALFORMED_HEADER = 'a header is malformed';
const BODY_FRAMING = 'its body does not match its Content-Length or Transfer-Encoding header';
const LINE_ENDINGS = 'its lines do not end in CR LF (\\r\\n)';

/** What is wrong with a request Node's HTTP parser refused, in words: its codes (HPE_…) mean nothing to people. */
const PARSE_PROBLEMS: Partial<Record<string, string>> = {
  HPE_INVALID_HEADER_TOKEN: MALFORMED_HEADER,
  HPE_INVALID_HEADER_VALUE: MALFORMED_HEADER,
  HPE_UNEXPECTED_SPACE: MALFORMED_HEADER,
  HPE_INVALID_METHOD: 'its method is not an HTTP method',
  HPE_INVALID_URL: 'its path holds characters a URL cannot',
  HPE_INVALID_CONSTANT: 'its first line is not of the form METHOD PATH HTTP/1.1',
  HPE_INVALID_VERSION: 'it is neither HTTP/1.1 nor HTTP/1.0',
  HPE_INVALID_CHUNK_SIZE: BODY_FRAMING,
  HPE_INVALID_TRANSFER_ENCODING: BODY_FRAMING,
  HPE_UNEXPECTED_CONTENT_LENGTH: BODY_FRAMING,
  HPE_INVALID_CONTENT_LENGTH: BODY_FRAMING,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: BODY_FRAMING,
  HPE_CR_EXPECTED: LINE_ENDINGS,
  HPE_LF_EXPECTED: LINE_ENDINGS,
  HPE_INVALID_EOF_STATE: 'it ended before it was complete',
};

/**
 * The words for a parse error. The parser's reason comes first where it is more precise than
 * the code: a bare LF after the version is HPE_INVALID_VERSION, a chunk longer than it claims
 * is the catch-all HPE_STRICT ("Expected LF after chunk data").
 */
function parseProblem(error: { code?: string | undefined; reason?: unknown }): string {
  const reason = typeof error.reason === 'string' ? error.reason : '';
  if (/chunk/i.test(reason)) return BODY_FRAMING;
  if (/\b(CR)?LF\b/.test(reason)) return LINE_ENDINGS;
  return (error.code === undefined ? undefined : PARSE_PROBLEMS[error.code]) ?? 'it is malformed';
}

/**
 * Node's HTTP parser refuses some requests before Perch sees them (malformed framing, headers
 * too large, too slow to arrive). Answer those in Perch's error shape too; the top-level
 * `type: "error"` makes it the /v1 shape as well, since the path is not known yet.
 */
function answerClientError(error: NodeJS.ErrnoException & { reason?: unknown }, socket: Duplex): void {
  const inProgress = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inProgress?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, type, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large (at most 16 KB in all); send fewer or shorter headers.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request took too long to arrive; send it again.']
        : [400, 'invalid_request_error', `The request is not valid HTTP: ${parseProblem(error)}. Correct it and send it again.`];
  const body = JSON.stringify({ type: 'error', error: { type, message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export interface RunningService {
  core: PerchCore;
  /** The routes the API serves. */
  routes: () => Array<{ method: string; path: string }>;
  server: http.Server;
  host: string;
  port: number;
  /** Base URL clients use, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Graceful stop: refuse new connections, let answers in flight finish for `graceMs`, save
   * the rest as partial, then close the database. Safe to call twice.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

const isLoopback = (host: string): boolean =>
  host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');

const formatHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** An address this machine can connect to for a bind address: a wildcard is reachable on loopback. */
const connectableHost = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

/** The PEM certificate and key for HTTPS, checked now so a typo fails at start with a clear message. */
function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new PerchError('tls_files', 500, `Cannot read the TLS ${what} '${file}': ${(error as Error).message}`);
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new PerchError(
      'tls_files',
      500,
      `The TLS certificate and key cannot be used together (${(error as Error).message}). Give a PEM certificate with --tls-cert and its private key with --tls-key.`,
    );
  }
  return { cert, key };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): PerchError {
  if (error.code === 'EADDRINUSE') {
    return new PerchError(
      'port_in_use',
      500,
      `Port ${port} on ${host} is already in use by another program. Stop that program or choose another port: for this run, npx perch serve --port ${port + 1}; to keep it, npx perch config set api.port ${port + 1}.`,
    );
  }
  if (error.code === 'EACCES') {
    return new PerchError('port_forbidden', 500, `Not allowed to listen on port ${port}. Choose a port above 1024 with --port.`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new PerchError('bad_host', 500, `Cannot listen on ${host}: this machine has no such address. Use 127.0.0.1.`);
  }
  return new PerchError('listen_failed', 500, `Could not start listening on ${host}:${port}: ${error.message}`);
}

/** Starts the Perch service: the core plus the HTTP API (and web UI), as `perch serve` and the desktop app run it. */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { logger } = options;
  const core = PerchCore.open({
    ...options,
    overrides: {
      ...(options.port ? { port: options.port } : {}),
      ...(options.host ? { host: options.host } : {}),
    },
    onWarning: options.onWarning ?? ((message) => logger.warn(message)),
  });
  let settings;
  try {
    settings = core.currentSettings();
    // The token exists from the first start, so `perch token` and clients agree at once.
    core.tokens.get();
  } catch (error) {
    core.close();
    throw error;
  }
  const host = options.host ?? settings.api.host;
  const requestedPort = options.port ?? settings.api.port;
  let bound = { host, port: requestedPort, url: `http://${formatHost(host)}:${requestedPort}` };

  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    tls = options.tls ? readTlsFiles(options.tls) : undefined;
  } catch (error) {
    core.close();
    throw error;
  }
  const scheme = tls ? 'https' : 'http';
  bound.url = `${scheme}://${formatHost(host)}:${requestedPort}`;

  const perchApp = createApp({ core, logger, listening: () => bound, staticDir: options.staticDir });
  const { close: closeApp } = perchApp;
  const timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.httpTimeouts };
  const serverOptions = {
    requestTimeout: timeouts.requestMs,
    headersTimeout: timeouts.headersMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
  };
  const server: http.Server = tls
    ? https.createServer({ ...serverOptions, ...tls }, perchApp.handle)
    : http.createServer(serverOptions, perchApp.handle);
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.on('clientError', answerClientError);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(requestedPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    core.close();
    throw listenError(error as NodeJS.ErrnoException, host, requestedPort);
  }
  const address = server.address() as AddressInfo;
  bound = { host, port: address.port, url: `${scheme}://${formatHost(host)}:${address.port}` };
  writeRuntimeInfo(core.dataDir, { pid: process.pid, ...bound, version: core.version, started_at: core.startedAt.toISOString() });
  // Scheduled prompts start with the service (and catch up on what was missed while it was off).
  core.scheduler.start();
  // Task agents reach Claude through this service's relay, over plain HTTP on loopback: when the
  // service speaks HTTPS (its certificate names another host), a loopback listener of their own.
  let agentListener: http.Server | undefined;
  let agentUrl = `http://${formatHost(connectableHost(host))}:${address.port}`;
  if (tls) {
    agentListener = http.createServer(serverOptions, perchApp.handle);
    await new Promise<void>((resolve) => (agentListener as http.Server).listen(0, '127.0.0.1', resolve));
    agentUrl = `http://127.0.0.1:${(agentListener.address() as AddressInfo).port}`;
  }
  await core.tasks.start({ url: agentUrl });
  if (!isLoopback(host) && !tls) {
    logger.warn(
      `WARNING: Perch is listening on ${host} WITHOUT TLS: other machines can reach it, and the API token and every answer cross the network in plain text. Serve HTTPS with --tls-cert and --tls-key, or bind to 127.0.0.1.`,
    );
  } else if (!isLoopback(host)) {
    logger.warn(`Perch is listening on ${host} over HTTPS, reachable from other machines; the API token is required.`);
  }

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      removeRuntimeInfo(core.dataDir);
      server.closeIdleConnections();
      const graceMs = stopOptions.graceMs ?? 10_000;
      await Promise.all([
        core.chat.drain(graceMs),
        core.scheduler.stop(graceMs),
        drainWebhookWork(core, graceMs),
        // Running agents are stopped (recorded `stopped`); queued tasks wait for the next start.
        core.tasks.shutdown(),
      ]);
      agentListener?.close();
      server.closeIdleConnections();
      // Streams have ended; give their responses a moment to flush, then drop what remains.
      const forced = setTimeout(() => server.closeAllConnections(), 1_000);
      await closed;
      clearTimeout(forced);
      closeApp();
      core.close();
    })();
    return stopping;
  };

  return { core, routes: perchApp.routes, server, host, port: bound.port, url: bound.url, stop };
}

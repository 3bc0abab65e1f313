import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { dataFiles } from '../../main/core/paths.js';
import type { TestPerch } from '../helpers/perch.js';

/** Tools the hardening suites share: a plain HTTP client, raw sockets, the error-shape check and a database watch. */

export interface PlainResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface PlainRequest {
  method: string;
  /** Already encoded: sent as written. */
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: Buffer | string;
}

/** One keep-alive pool per suite, so thousands of requests do not cost thousands of handshakes. */
export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** Sends one request with node:http (any method, any header, any bytes) and reads the whole answer. */
export function send(baseUrl: string, request: PlainRequest, agent: http.Agent = keepAliveAgent): Promise<PlainResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: request.method, path: request.path, headers: request.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** What came back on a raw socket before the server closed it (or the wait ran out). */
export interface RawExchange {
  /** The whole text received. */
  received: string;
  /** The status of the first answer, when one arrived. */
  status: number | undefined;
  /** The body of the first answer (after the blank line). */
  body: string;
  /** True when the server closed the connection. */
  closedByServer: boolean;
}

export interface RawOptions {
  /** Pieces written one after another (a Buffer or text each). */
  pieces: Array<Buffer | string>;
  /** Pause between pieces. */
  gapMs?: number;
  /** After writing: 'end' half-closes, 'destroy' hangs up, 'wait' keeps the socket open. */
  then?: 'end' | 'destroy' | 'wait';
  /** How long to wait for the server to answer or close (then the socket is dropped). */
  waitMs?: number;
}

/** Speaks HTTP by hand on a raw socket: for what no well-behaved client sends. */
export function rawExchange(baseUrl: string, options: RawOptions): Promise<RawExchange> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks).toString('utf8');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      const split = received.indexOf('\r\n\r\n');
      resolve({
        received,
        status: match ? Number(match[1]) : undefined,
        body: split === -1 ? '' : received.slice(split + 4),
        closedByServer,
      });
    };
    const timer = setTimeout(finish, options.waitMs ?? 2_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reset a connection it refuses; that is an answer too.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
        closedByServer = true;
        finish();
      } else if (!done) {
        clearTimeout(timer);
        done = true;
        reject(error);
      }
    });
    socket.once('connect', () => {
      void (async () => {
        for (const piece of options.pieces) {
          if (socket.destroyed) return;
          socket.write(piece);
          if (options.gapMs) await sleep(options.gapMs);
        }
        if (options.then === 'end') socket.end();
        else if (options.then === 'destroy') {
          socket.destroy();
          finish();
        }
      })();
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What is wrong with an error answer, if anything: it must be JSON
 * `{"error": {"type", "message"}}` (on /v1/… also `"type": "error"` beside it), never a stack trace.
 */
export function errorShapeProblems(response: PlainResponse, compat: boolean): string[] {
  const problems: string[] = [];
  const type = response.headers['content-type'] ?? '';
  if (!type.includes('json')) problems.push(`content-type is '${type}', not JSON`);
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    return [...problems, `the body is not JSON: ${response.text.slice(0, 200)}`];
  }
  const error = (body as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.type !== 'string' || error.type === '') problems.push('error.type is missing');
  if (typeof error?.message !== 'string' || error.message === '') problems.push('error.message is missing');
  if (compat && (body as { type?: unknown }).type !== 'error') problems.push("the /v1 answer lacks type: 'error'");
  if (/\n\s+at /.test(response.text)) problems.push('the answer carries a stack trace');
  return problems;
}

export const isCompat = (pathname: string): boolean => pathname.startsWith('/v1/');

/** The tables a request can write to (meta is left out: the health check writes there on purpose). */
export const WATCHED_TABLES = [
  'sessions',
  'messages',
  'attachments',
  'usage',
  'jobs',
  'job_runs',
  'webhook_deliveries',
  'reviews',
] as const;

/**
 * A second, read-only connection to Perch's history database. `PRAGMA data_version` changes
 * whenever another connection commits, so it catches any write at all; the row counts say what.
 */
export class DatabaseWatch {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    this.db = new Database(path.join(dataDir, dataFiles.database), { readonly: true, fileMustExist: true });
  }

  /** Changes whenever Perch commits anything. */
  version(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  counts(): Record<string, number> {
    return Object.fromEntries(
      WATCHED_TABLES.map((table) => [table, (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n]),
    );
  }

  close(): void {
    this.db.close();
  }
}

/** GET /api/v1/health answers 200: the service is alive and can serve. */
export async function expectHealthy(perch: TestPerch): Promise<void> {
  const res = await fetch(`${perch.url}/api/v1/health`);
  const body = (await res.json()) as { status: string };
  if (res.status !== 200) throw new Error(`health answered ${res.status}: ${JSON.stringify(body)}`);
}

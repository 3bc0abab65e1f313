/**
 * A lean HTTP/1.1 client for the benchmarks: one keep-alive socket, a request prepared once
 * as bytes, and a minimal response parser (Content-Length or chunked). Node's http client costs
 * several times more CPU per request than the relays being measured, and on a 2-core machine
 * that CPU is taken from them; this keeps the load generator's share small and the same for
 * every target.
 */
import net from 'node:net';

export interface Answer {
  status: number;
  /** From writing the request to the first byte of the answer. */
  firstByteMs: number;
  /** From writing the request to the end of the answer. */
  totalMs: number;
  /** When each SSE event (a block ending in a blank line) had fully arrived, in ms from the start. */
  eventsMs: number[];
  body: string;
}

export interface RequestOptions {
  /** Note when each SSE event arrives. */
  events?: boolean;
  /** Keep the body as text (otherwise it is only counted). */
  keepBody?: boolean;
}

type State = 'head' | 'length' | 'size' | 'data' | 'crlf' | 'trailer';

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);
const NEWLINE = 10;

interface Pending {
  started: number;
  firstByteAt: number;
  options: RequestOptions;
  status: number;
  eventsMs: number[];
  parts: Buffer[];
  lastWasNewline: boolean;
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

/** Builds the bytes of a request once, to send many times. */
export function requestBytes(
  url: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, `host: ${url.host}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

export class HttpConnection {
  private readonly socket: net.Socket;
  private readonly connected: Promise<void>;
  private buffer: Buffer = EMPTY;
  private state: State = 'head';
  private remaining = 0;
  private pending: Pending | undefined;
  private failure: Error | undefined;

  constructor(url: URL) {
    this.socket = net.connect(Number(url.port), url.hostname);
    this.socket.setNoDelay(true);
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  async request(bytes: Buffer, options: RequestOptions = {}): Promise<Answer> {
    await this.connected;
    if (this.failure) throw this.failure;
    if (this.pending) throw new Error('one request at a time on a connection');
    return new Promise((resolve, reject) => {
      this.pending = {
        started: performance.now(),
        firstByteAt: 0,
        options,
        status: 0,
        eventsMs: [],
        parts: [],
        lastWasNewline: false,
        resolve,
        reject,
      };
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  private onData(chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return;
    const now = performance.now();
    if (pending.firstByteAt === 0) pending.firstByteAt = now;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.state === 'head') {
        const end = this.buffer.indexOf(HEAD_END);
        if (end === -1) return;
        const head = this.buffer.toString('latin1', 0, end);
        this.buffer = this.buffer.subarray(end + 4);
        pending.status = Number(head.slice(9, 12));
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) this.state = 'size';
        else {
          this.remaining = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          this.state = 'length';
        }
      } else if (this.state === 'length' || this.state === 'data') {
        const take = Math.min(this.remaining, this.buffer.length);
        if (take > 0) this.body(pending, this.buffer.subarray(0, take), now);
        this.buffer = this.buffer.subarray(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
        if (this.state === 'length') {
          this.finish(pending, now);
          return;
        }
        this.state = 'crlf';
      } else if (this.state === 'crlf') {
        if (this.buffer.length < 2) return;
        this.buffer = this.buffer.subarray(2);
        this.state = 'size';
      } else if (this.state === 'size') {
        const end = this.buffer.indexOf(CRLF);
        if (end === -1) return;
        this.remaining = Number.parseInt(this.buffer.toString('latin1', 0, end), 16);
        this.buffer = this.buffer.subarray(end + 2);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else {
        const end = this.buffer.indexOf(CRLF);
        if (end === -1) return;
        this.buffer = this.buffer.subarray(end + 2);
        if (end === 0) {
          this.finish(pending, now);
          return;
        }
      }
    }
  }

  private body(pending: Pending, bytes: Buffer, now: number): void {
    if (pending.options.keepBody) pending.parts.push(bytes);
    if (!pending.options.events) return;
    for (let index = 0; index < bytes.length; index += 1) {
      if (bytes[index] !== NEWLINE) {
        pending.lastWasNewline = false;
        continue;
      }
      if (pending.lastWasNewline) pending.eventsMs.push(now - pending.started);
      pending.lastWasNewline = !pending.lastWasNewline;
    }
  }

  private finish(pending: Pending, now: number): void {
    this.pending = undefined;
    this.state = 'head';
    if (this.buffer.length > 0) {
      this.fail(new Error('unexpected bytes after the answer'));
      return;
    }
    pending.resolve({
      status: pending.status,
      firstByteMs: pending.firstByteAt - pending.started,
      totalMs: now - pending.started,
      eventsMs: pending.eventsMs,
      body: pending.options.keepBody ? Buffer.concat(pending.parts).toString('utf8') : '',
    });
  }
}

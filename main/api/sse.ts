import type { Response } from 'express';

/** A Server-Sent Events response: named events with JSON data, flushed as they are written. */
export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly res: Response) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Connection', 'keep-alive');
    // Tell reverse proxies not to buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    // A comment line now and then keeps idle proxies and clients from closing a slow answer.
    this.heartbeat = setInterval(() => this.res.write(': keep-alive\n\n'), 15_000);
    this.heartbeat.unref();
    res.once('close', () => clearInterval(this.heartbeat));
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** One event; with `id`, a client that reconnects sends it back as Last-Event-ID. */
  send(event: string, data: unknown, id?: number): void {
    if (!this.open) return;
    this.res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (this.open) this.res.end();
  }
}

/** True when the client asked for a stream with its Accept header. */
export const acceptsEventStream = (accept: string | undefined): boolean => (accept ?? '').includes('text/event-stream');

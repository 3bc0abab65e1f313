import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Streams an answer from the Perch API: text pieces as they arrive, then the final answer. */

export class PerchRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface StreamCallbacks {
  onText: (text: string) => void;
  signal?: AbortSignal;
}

/** Splits a Server-Sent Events body into events, across chunk boundaries. */
export class SseReader {
  private buffer = '';

  push(text: string): Array<{ event: string; data: string }> {
    this.buffer += text;
    const events: Array<{ event: string; data: string }> = [];
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) events.push({ event, data: data.join('\n') });
      boundary = this.buffer.indexOf('\n\n');
    }
    return events;
  }
}

const notRunning = (baseUrl: string): PerchRequestError =>
  new PerchRequestError(0, `Perch is not running at ${baseUrl}. Start it with: npx perch serve (or open the Perch app).`);

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Asks the service to prove it holds the token (an HMAC of a fresh nonce and its port, as
 * Perch's GET /api/v1/auth/proof gives) before the token is sent: a program squatting Perch's
 * port while Perch is stopped never sees it.
 */
export async function provePerch(baseUrl: string, token: string, signal?: AbortSignal): Promise<void> {
  const nonce = randomBytes(32).toString('base64url');
  let body: { proof?: unknown; port?: unknown };
  try {
    const response = await fetch(`${baseUrl}/api/v1/auth/proof?nonce=${nonce}`, { signal: signal ?? null });
    body = response.ok ? ((await response.json()) as typeof body) : {};
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw notRunning(baseUrl);
  }
  if (typeof body.proof !== 'string' || typeof body.port !== 'number') {
    throw new PerchRequestError(0, `Something other than Perch answers at ${baseUrl}; the token was not sent.`);
  }
  const url = new URL(baseUrl);
  const expected = createHmac('sha256', token).update(`perch-proof:v1:${body.port}:${nonce}`).digest();
  const presented = Buffer.from(body.proof, 'base64url');
  const samePort = !LOOPBACK.has(url.hostname) || body.port === Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!samePort || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new PerchRequestError(
      401,
      `The service at ${baseUrl} could not prove it holds your Perch token, so the token was not sent. If Perch runs there, the token changed: run npx perch token and enter it again.`,
    );
  }
}

/** POSTs a request to a Perch answer route with streaming on; resolves with the `done` event's data. */
export async function streamAnswer(
  baseUrl: string,
  token: string,
  path: string,
  body: Record<string, unknown>,
  callbacks: StreamCallbacks,
): Promise<Record<string, unknown>> {
  await provePerch(baseUrl, token, callbacks.signal);
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ ...body, stream: true }),
      signal: callbacks.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw notRunning(baseUrl);
  }
  if (!response.ok || !response.body) {
    const text = await response.text();
    let message = `Perch answered ${response.status}.`;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // Keep the status line.
    }
    throw new PerchRequestError(response.status, message);
  }
  const reader = new SseReader();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    for (const { event, data } of reader.push(decoder.decode(chunk, { stream: true }))) {
      const payload = JSON.parse(data) as Record<string, unknown>;
      if (event === 'delta') callbacks.onText(typeof payload.text === 'string' ? payload.text : '');
      else if (event === 'done') return payload;
      else if (event === 'error') {
        const error = payload.error as { message?: string } | undefined;
        throw new PerchRequestError(502, error?.message ?? 'The answer failed.');
      }
    }
  }
  throw new PerchRequestError(502, 'The answer stopped before it finished.');
}

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

/** POSTs a request to a Perch answer route with streaming on; resolves with the `done` event's data. */
export async function streamAnswer(
  baseUrl: string,
  token: string,
  path: string,
  body: Record<string, unknown>,
  callbacks: StreamCallbacks,
): Promise<Record<string, unknown>> {
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
    throw new PerchRequestError(
      0,
      `Perch is not running at ${baseUrl}. Start it with \`npx perch serve\` or open the Perch app.`,
    );
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

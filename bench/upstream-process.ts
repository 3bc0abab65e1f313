/**
 * The fake Anthropic upstream in a process of its own, so it does not share the bench's event
 * loop. Everything is the test fixture's, except paced streams, which the benchmarks ask for in
 * one of two ways so the request itself stays the same for every route under test:
 * - the header `anthropic-beta: bench-pace-<N>x<MS>` (relayed as-is by both relays), or
 * - a base path `/paced-<N>x<MS>/` (an upstream URL for Perch's own chat answers);
 * then the echo ("You said: <message>") streams as N text deltas, MS milliseconds apart.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { FakeAnthropic, messageStartEvent } from '../test/fixtures/fake-anthropic.js';
import { readBody } from '../test/fixtures/loopback-server.js';

const PACE_HEADER = /bench-pace-(\d+)x(\d+)/;
const PACE_PATH = /^\/paced-(\d+)x(\d+)(\/.*)$/;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface MessagesBody {
  model?: string;
  stream?: boolean;
  messages?: Array<{ role: string; content: string | Array<{ type: string; text?: string }> }>;
}

function lastUserText(body: MessagesBody): string {
  const last = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.filter((block) => block.type === 'text').at(-1)?.text ?? '';
}

class BenchUpstream extends FakeAnthropic {
  constructor(private readonly key: string) {
    super({ apiKey: key });
  }

  protected override async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const byPath = PACE_PATH.exec(req.url ?? '');
    if (byPath) req.url = byPath[3];
    const beta = req.headers['anthropic-beta'];
    const pace = byPath ?? (typeof beta === 'string' ? PACE_HEADER.exec(beta) : null);
    if (!pace || req.method !== 'POST' || req.url !== '/v1/messages') return super.handle(req, res);
    const body = ((await readBody(req)).json ?? {}) as MessagesBody;
    const presented = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (presented !== this.key || body.stream !== true) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'paced: key or stream' } }));
      return;
    }
    await this.paced(res, body, Number(pace[1]), Number(pace[2]));
  }

  /** The fixture's SSE answer, with the text deltas spread out in time. */
  private async paced(res: http.ServerResponse, body: MessagesBody, pieces: number, delayMs: number): Promise<void> {
    const text = `You said: ${lastUserText(body)}`;
    const model = body.model ?? 'claude-sonnet-5-5';
    const send = (event: string, data: unknown): void => {
      if (!res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_${randomUUID()}` });
    res.socket?.setNoDelay(true);
    const inputTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    send('message_start', messageStartEvent(model, inputTokens));
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const size = Math.ceil(text.length / pieces);
    for (let start = 0; start < text.length; start += size) {
      await sleep(delayMs);
      if (res.destroyed) return;
      send('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: text.slice(start, start + size) },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: Math.ceil(text.length / 4) },
    });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }
}

const upstream = await new BenchUpstream(process.argv[2] ?? 'sk-ant-bench').start();
process.stdout.write(`${upstream.url}\n`);
// Requests are recorded for tests; a benchmark would only grow that list, so drop it as it goes.
setInterval(() => upstream.requests.splice(0), 1000).unref();
process.on('SIGTERM', () => void upstream.stop().then(() => process.exit(0)));

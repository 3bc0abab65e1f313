import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import type { Agent, Dispatcher } from 'undici';
import { PerchError, noApiKey } from '../core/errors.js';
import { estimatedUsage, type TokenUsage } from '../core/claude/pricing.js';
import { cutMessage, unreachableMessage } from '../core/claude/upstream-errors.js';
import type { UpstreamCall } from '../core/metrics.js';
import type { UpstreamGate } from '../core/upstream-gate.js';
import { bodyTooLarge, MB } from './errors.js';
import { setHeaders } from './headers.js';

/** What the relay needs from the rest of Perch, read per request so settings apply at once. */
export interface RelayOptions {
  apiKey: () => string | undefined;
  upstreamUrl: () => string;
  timeoutSeconds: () => number;
  maxBodyMb: () => number;
  /** Records an answer's usage; `taskId` when a task's agent asked. */
  recordUsage: (model: string, usage: TokenUsage, taskId: string | undefined) => void;
  /** Sends a Perch error in the Anthropic shape (before any response bytes went out). */
  sendError: (res: ServerResponse, error: PerchError) => void;
  /** Why Claude must not be asked now (the daily budget), or nothing. */
  refusal?: () => PerchError | undefined;
  /** The bound on calls to Claude at once, shared with Perch's own answers. */
  gate?: UpstreamGate;
  /** Told how each relayed call went, and when a streamed answer starts and ends (metrics). */
  observe?: (call: UpstreamCall) => void;
  streamStarted?: () => () => void;
}

// Hop-by-hop headers belong to one connection, never to the message being relayed.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardOptions {
  /** Whether the answer's usage goes into the ledger (not for token counting). */
  recordUsage: boolean;
  /** The task whose agent sent the request (its usage is the task's). */
  taskId?: string | undefined;
  /**
   * Headers for the answer that are not set on `res` yet, as name-value pairs: they go out in
   * the answer's one writeHead (or are set before an error), in place of any the upstream sent
   * under the same names (`names`, in lower case).
   */
  headers?: { pairs: readonly string[]; names: ReadonlySet<string> };
}

/** Client headers the upstream should see: the API version and betas, the body's type, the client's name. */
function upstreamHeaders(client: IncomingHttpHeaders, apiKey: string, upstream: Upstream): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { 'x-api-key': apiKey };
  if (upstream.authorization) headers.authorization = upstream.authorization;
  for (const name in client) {
    const value = client[name];
    if (value === undefined) continue;
    if (name.startsWith('anthropic-') || name === 'content-type' || name === 'accept' || name === 'user-agent')
      headers[name] = value;
  }
  // No framing headers: the body goes up whole, and undici writes its length.
  return headers;
}

/**
 * The upstream answer's headers a client should see, added as name-value pairs to `pairs`;
 * those named in `own` (lower case) are Perch's to set and stay as Perch set them.
 */
function addClientHeaders(
  pairs: Array<string | number>,
  upstream: IncomingHttpHeaders,
  own: ReadonlySet<string> | undefined,
): Array<string | number> {
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'set-cookie' || name === 'content-length') continue;
    if (own?.has(name)) continue;
    if (typeof value === 'string') pairs.push(name, value);
    else for (const each of value) pairs.push(name, each);
  }
  return pairs;
}

/** The upstream base URL, parsed once for as long as the setting stays the same. */
interface Upstream {
  url: string;
  origin: string;
  /** The base URL's path without its trailing slash, to put before the relayed path. */
  pathPrefix: string;
  /** Basic credentials written into the base URL (user:password@host), as a header. */
  authorization: string | undefined;
}

function parseUpstream(url: string): Upstream {
  const base = new URL(url);
  const credentials = base.username ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}` : '';
  return {
    url,
    origin: base.origin,
    pathPrefix: base.pathname.replace(/\/$/, ''),
    authorization: credentials ? `Basic ${Buffer.from(credentials).toString('base64')}` : undefined,
  };
}

type AgentClass = typeof Agent;
let agentClass: AgentClass | undefined;
/**
 * undici's Agent, loaded on the first relayed request. Its HTTP/1.1 client costs a quarter less
 * CPU per request than node:http's (bench/compare.ts); the package's index would also load
 * fetch, WebSocket and caches (≈100 ms, 20 MB), the Agent alone is a third of that.
 */
function loadAgentClass(): AgentClass {
  agentClass ??= createRequire(import.meta.url)('undici/lib/dispatcher/agent.js') as AgentClass;
  return agentClass;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Why an upstream call is aborted when its client hangs up. */
const clientGone = (): Error => new Error('The client closed the connection.');

/** Reads usage out of a Messages API SSE stream as it passes, without holding it up. */
class StreamUsageReader {
  model = '';
  private readonly reported: TokenUsage = { input_tokens: 0, output_tokens: 0 };
  seen = false;
  /** Whether message_delta brought the answer's final output count. */
  private final = false;
  /** Characters of text, thinking and tool input that arrived, for an estimate if the count never comes. */
  private generated = 0;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      // Only usage and content are read; everything else (pings, block starts and stops) is skipped unparsed.
      if (line.startsWith('data: ')) {
        if (line.includes('"content_block_delta"')) this.count(line.slice(6));
        else if (line.includes('"message_start"') || line.includes('"message_delta"')) this.read(line.slice(6));
      }
      newline = this.pending.indexOf('\n');
    }
  }

  /**
   * What the answer used: the upstream's figures once message_delta brought the final count,
   * else (the stream was cut or the client left) an estimate from what arrived, marked so.
   */
  usage(): TokenUsage {
    return this.final ? { ...this.reported } : estimatedUsage(this.reported, this.generated);
  }

  private count(json: string): void {
    try {
      const { delta } = JSON.parse(json) as { delta?: { text?: unknown; partial_json?: unknown; thinking?: unknown } };
      const piece = delta?.text ?? delta?.partial_json ?? delta?.thinking;
      if (typeof piece === 'string') this.generated += piece.length;
    } catch {
      // Not ours to judge: the client gets the bytes exactly as they came.
    }
  }

  private read(json: string): void {
    try {
      const event = JSON.parse(json) as {
        type: string;
        message?: { model?: string; usage?: Partial<TokenUsage> };
        usage?: Partial<TokenUsage>;
      };
      const usage = event.type === 'message_start' ? event.message?.usage : event.usage;
      if (event.type === 'message_start' && typeof event.message?.model === 'string') this.model = event.message.model;
      if (!usage) return;
      this.seen = true;
      if (event.type === 'message_delta' && typeof usage.output_tokens === 'number') this.final = true;
      const reported = this.reported;
      if (typeof usage.input_tokens === 'number') reported.input_tokens = usage.input_tokens;
      if (typeof usage.output_tokens === 'number') reported.output_tokens = usage.output_tokens;
      if (typeof usage.cache_creation_input_tokens === 'number')
        reported.cache_creation_input_tokens = usage.cache_creation_input_tokens;
      if (typeof usage.cache_read_input_tokens === 'number') reported.cache_read_input_tokens = usage.cache_read_input_tokens;
    } catch {
      // Not ours to judge: the client gets the bytes exactly as they came.
    }
  }
}

function usageOfJson(body: Buffer): { model: string; usage: TokenUsage } | undefined {
  try {
    const message = JSON.parse(body.toString('utf8')) as {
      type?: string;
      model?: unknown;
      usage?: Partial<Record<keyof TokenUsage, unknown>>;
    };
    // An odd upstream answer must not reach the ledger (or throw where nothing catches it).
    if (message.type !== 'message' || typeof message.model !== 'string' || !message.model || !message.usage) return undefined;
    const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
    const { usage } = message;
    return {
      model: message.model,
      usage: {
        input_tokens: count(usage.input_tokens),
        output_tokens: count(usage.output_tokens),
        cache_creation_input_tokens: count(usage.cache_creation_input_tokens),
        cache_read_input_tokens: count(usage.cache_read_input_tokens),
      },
    };
  } catch {
    return undefined;
  }
}

const sseError = (type: string, message: string): string =>
  `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`;

/**
 * A faithful relay to the Anthropic API: the path and query, the body and the
 * `anthropic-*` headers go upstream unchanged with the real key in place of Perch's token;
 * the answer comes back unchanged (SSE chunk by chunk, as it arrives). Perch only reads the
 * usage on the way past.
 */
export class AnthropicRelay {
  private agent: Agent | undefined;
  private upstream: Upstream | undefined;

  constructor(private readonly options: RelayOptions) {}

  forward(req: IncomingMessage, res: ServerResponse, upstreamPath: string, query: string, options: ForwardOptions): void {
    const apiKey = this.options.apiKey();
    if (!apiKey) {
      this.refuse(res, options, noApiKey());
      return;
    }
    const refused = this.options.refusal?.();
    if (refused) {
      this.refuse(res, options, refused);
      return;
    }
    const gate = this.options.gate;
    // A free slot is taken at once (the usual case); otherwise wait in line.
    const slot = gate ? gate.tryAcquire() : () => {};
    if (slot) {
      this.relay(req, res, upstreamPath, query, options, apiKey, slot);
      return;
    }
    // Wait for a slot; a client that hangs up meanwhile leaves the line.
    let leave = (): void => {};
    const onClose = (): void => leave();
    res.once('close', onClose);
    const waiting = (gate as UpstreamGate).enqueue((release) => {
      res.off('close', onClose);
      if (res.destroyed) release();
      else this.relay(req, res, upstreamPath, query, options, apiKey, release);
    });
    if (waiting instanceof PerchError) {
      res.off('close', onClose);
      this.refuse(res, options, waiting);
    } else leave = waiting;
  }

  /** An error answer, with the headers the caller has not set yet. */
  private refuse(res: ServerResponse, options: ForwardOptions, error: PerchError): void {
    if (options.headers) setHeaders(res, options.headers.pairs);
    this.options.sendError(res, error);
  }

  private relay(
    req: IncomingMessage,
    res: ServerResponse,
    upstreamPath: string,
    query: string,
    options: ForwardOptions,
    apiKey: string,
    release: () => void,
  ): void {
    const started = performance.now();
    let firstByteAt: number | undefined;
    let model = 'unknown';
    let endStream = (): void => {};
    // Once per request, however it ends: the slot goes back and the call is counted.
    let settled = false;
    const settle = (outcome: string): void => {
      if (settled) return;
      settled = true;
      release();
      endStream();
      this.options.observe?.({
        model,
        path: 'relay',
        outcome,
        seconds: (performance.now() - started) / 1000,
        firstTokenSeconds: firstByteAt === undefined ? undefined : (firstByteAt - started) / 1000,
      });
    };
    const limit = this.options.maxBodyMb() * MB;
    // The upstream call, once it is on its way; `finished` once the answer (or a refusal) is whole.
    let call: Dispatcher.DispatchController | undefined;
    let finished = false;
    // A streamed answer's usage, recorded once however the stream ends: whole, cut by the
    // upstream, or left by the client (Anthropic bills what it generated until then).
    let reader: StreamUsageReader | undefined;
    let recorded = false;
    const recordStreamed = (): void => {
      if (recorded || !reader?.seen) return;
      recorded = true;
      if (reader.model) model = reader.model;
      this.options.recordUsage(reader.model || 'unknown', reader.usage(), options.taskId);
    };

    res.once('close', () => {
      // The client hanging up ends the upstream request too: nobody will read the answer.
      if (!finished) call?.abort(clientGone());
      recordStreamed();
      settle(res.writableFinished ? 'ok' : 'cancelled');
    });

    // The request body is read whole (refused once it outgrows the limit), then sent in one go.
    const body: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) {
        body.push(chunk);
        return;
      }
      req.removeAllListeners('data');
      req.resume();
      finished = true;
      settle('request_too_large');
      this.refuse(res, options, bodyTooLarge(this.options.maxBodyMb()));
    });
    req.once('end', () => {
      if (finished || res.destroyed) return;
      const upstreamUrl = this.options.upstreamUrl();
      if (this.upstream?.url !== upstreamUrl) this.upstream = parseUpstream(upstreamUrl);
      const base = this.upstream;
      const timeoutMs = this.options.timeoutSeconds() * 1000;
      this.agent ??= new (loadAgentClass())({ keepAliveTimeout: 4_000 });

      const fail = (error: Error & { code?: string }): void => {
        recordStreamed();
        if (finished || res.destroyed) return;
        finished = true;
        const timedOut = TIMEOUT_CODES.has(error.code ?? '');
        settle(timedOut ? 'upstream_timeout' : 'upstream_unreachable');
        const timeout = `Claude did not respond within ${timeoutMs / 1000} seconds.`;
        if (!res.headersSent) {
          this.refuse(
            res,
            options,
            timedOut
              ? new PerchError('upstream_timeout', 504, timeout)
              : new PerchError('upstream_unreachable', 502, unreachableMessage(base.origin, error)),
          );
        } else {
          // Mid-stream: end with an error event the SDKs understand rather than a bare cut.
          res.end(sseError('api_error', timedOut ? `${timeout} The answer was cut off there.` : cutMessage(error)));
        }
      };

      let status = 502;
      let streaming = false;
      let answerHeaders: IncomingHttpHeaders = {};
      const answer: Buffer[] = [];
      reader = options.recordUsage ? new StreamUsageReader() : undefined;
      /** The answer's headers: Perch's own first, then the upstream's a client should see. */
      const head = (upstream: IncomingHttpHeaders, ...extra: Array<string | number>): Array<string | number> =>
        addClientHeaders([...(options.headers?.pairs ?? []), ...extra], upstream, options.headers?.names);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          call = controller;
          if (res.destroyed) controller.abort(clientGone());
        },
        onResponseStart: (_controller, statusCode, headers) => {
          status = statusCode;
          answerHeaders = headers;
          streaming = String(headers['content-type'] ?? '').includes('text/event-stream');
          if (!streaming) return;
          res.writeHead(status, head(headers));
          res.socket?.setNoDelay(true);
          endStream = this.options.streamStarted?.() ?? endStream;
        },
        onResponseData: (controller, chunk) => {
          if (!streaming) {
            answer.push(chunk);
            return;
          }
          firstByteAt ??= performance.now();
          // A slow reader holds the upstream back instead of piling the answer up in memory.
          if (!res.write(chunk)) {
            controller.pause();
            res.once('drain', () => controller.resume());
          }
          reader?.push(chunk);
        },
        onResponseEnd: () => {
          finished = true;
          const outcome = status < 400 ? 'ok' : `http_${status}`;
          if (streaming) {
            res.end();
            recordStreamed();
          } else {
            // Held whole (usage is read from it), then sent with its length in one write.
            const whole = answer.length === 1 ? (answer[0] as Buffer) : Buffer.concat(answer);
            res.writeHead(status, head(answerHeaders, 'content-length', whole.length));
            res.end(whole);
            const usage = reader && status === 200 ? usageOfJson(whole) : undefined;
            if (usage) {
              model = usage.model;
              this.options.recordUsage(usage.model, usage.usage, options.taskId);
            }
          }
          settle(outcome);
        },
        onResponseError: (_controller, error) => fail(error),
      };
      this.agent.dispatch(
        {
          origin: base.origin,
          path: `${base.pathPrefix}${upstreamPath}${query}`,
          method: req.method ?? 'POST',
          headers: upstreamHeaders(req.headers, apiKey, base),
          body: body.length === 1 ? body[0] : Buffer.concat(body),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        handler,
      );
    });
  }

  close(): void {
    void this.agent?.destroy().catch(() => undefined);
    this.agent = undefined;
  }
}

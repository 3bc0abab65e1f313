import type Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { noApiKey, PerchError } from '../errors.js';
import type { UpstreamCall } from '../metrics.js';
import type { UpstreamGate } from '../upstream-gate.js';
import { cancelledError, isRetryableStreamError, mapUpstreamError } from './upstream-errors.js';
import { estimatedUsage, type TokenUsage } from './pricing.js';

/** A Messages API request (Perch always streams, so `stream` is its own business). */
export type ClaudeRequest = Omit<MessageCreateParamsBase, 'stream'>;

/** A finished content block: text, or a tool call with its parsed input. */
export type AnswerBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

export interface ClaudeAnswer {
  /** All text blocks, joined. */
  text: string;
  /** Text and tool calls in the order Claude produced them (thinking is left out). */
  content: AnswerBlock[];
  /** The model that answered, as Claude reports it. */
  model: string;
  stopReason: string | null;
  usage: TokenUsage;
}

/** A failed answer, with whatever text had already streamed to the client. */
export class UpstreamFailure extends PerchError {
  constructor(
    cause: PerchError,
    readonly partialText: string,
    /** What the answer used until it failed: estimated (and marked so) when its final count never came. */
    readonly usage: TokenUsage,
    readonly model: string,
    /** An overload or server error inside the stream before any text: worth another try. */
    readonly retryable = false,
  ) {
    super(cause.type, cause.status, cause.message, { retryAfterSeconds: cause.retryAfterSeconds, cause });
  }
}

export interface ModelInfo {
  id: string;
  display_name: string;
  created_at: string;
}

/** The last thing Perch learned about the upstream, for health reports (never a probe per check). */
export interface UpstreamState {
  state: 'unknown' | 'ok' | 'degraded' | 'unreachable';
  checked_at: string | null;
  message: string | null;
}

export interface ClaudeConnection {
  apiKey: string | undefined;
  upstreamUrl: string;
  timeoutSeconds: number;
}

export interface ClaudeClientOptions {
  /** Read on every call, so a changed key or URL applies at once. */
  connection: () => ClaudeConnection;
  /** Retries the SDK makes for 408/409/429/5xx answers before a stream starts. */
  maxRetries?: number;
  /** Retries Perch makes when an overload arrives inside the stream before any text. */
  streamRetries?: number;
  /** First backoff for stream retries; doubles each time. */
  streamRetryDelayMs?: number;
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  now?: () => Date;
  /** Says why Claude must not be asked now (the daily budget), or nothing. */
  refusal?: () => PerchError | undefined;
  /** Bounds the calls to Claude running at once. */
  gate?: UpstreamGate;
  /** Told how each call to Claude went (metrics). */
  observe?: (call: UpstreamCall) => void;
}

export interface StreamHandlers {
  signal?: AbortSignal | undefined;
  onText?: (delta: string) => void;
  /** Every stream event as it arrives (after retries are settled, so at most one message_start per delivered answer). */
  onEvent?: (event: RawMessageStreamEvent) => void;
}

/** Assembles an answer from stream events: text, tool calls, usage, stop reason. */
class AnswerBuilder {
  text = '';
  model: string;
  stopReason: string | null = null;
  complete = false;
  private readonly usage: TokenUsage = { input_tokens: 0, output_tokens: 0 };
  private started = false;
  /** Whether message_delta brought the final output count. */
  private counted = false;
  /** Characters generated so far (text, thinking, tool-call JSON), for an estimate if the count never comes. */
  private generated = 0;
  private readonly blocks = new Map<
    number,
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; json: string }
  >();

  constructor(model: string) {
    this.model = model;
  }

  /** Takes one event; returns the text it added, if any. */
  add(event: RawMessageStreamEvent): string {
    switch (event.type) {
      case 'message_start': {
        const { usage } = event.message;
        // A string, whatever the upstream sent: it is priced and stored.
        if (typeof event.message.model === 'string' && event.message.model) this.model = event.message.model;
        this.started = true;
        this.usage.input_tokens = usage.input_tokens;
        this.usage.output_tokens = usage.output_tokens;
        this.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens ?? null;
        this.usage.cache_read_input_tokens = usage.cache_read_input_tokens ?? null;
        return '';
      }
      case 'content_block_start':
        if (event.content_block.type === 'text') {
          this.blocks.set(event.index, { type: 'text', text: event.content_block.text });
          this.text += event.content_block.text;
          this.generated += event.content_block.text.length;
          return event.content_block.text;
        }
        if (event.content_block.type === 'tool_use') {
          const { id, name } = event.content_block;
          this.blocks.set(event.index, { type: 'tool_use', id, name, json: '' });
        }
        return '';
      case 'content_block_delta': {
        const block = this.blocks.get(event.index);
        if (event.delta.type === 'text_delta') {
          if (block?.type === 'text') block.text += event.delta.text;
          else this.blocks.set(event.index, { type: 'text', text: event.delta.text });
          this.text += event.delta.text;
          this.generated += event.delta.text.length;
          return event.delta.text;
        }
        if (event.delta.type === 'input_json_delta') {
          if (block?.type === 'tool_use') block.json += event.delta.partial_json;
          this.generated += event.delta.partial_json.length;
        }
        if (event.delta.type === 'thinking_delta') this.generated += event.delta.thinking.length;
        return '';
      }
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.usage.output_tokens = event.usage.output_tokens;
        this.counted = true;
        if (typeof event.usage.input_tokens === 'number') this.usage.input_tokens = event.usage.input_tokens;
        return '';
      case 'message_stop':
        this.complete = true;
        return '';
      default:
        return '';
    }
  }

  /**
   * The upstream's counts once message_delta brought them; before that (a stopped or cut
   * answer) the output is estimated from what arrived, and marked so.
   */
  usageSoFar(): TokenUsage {
    if (this.counted || !this.started) return { ...this.usage };
    return estimatedUsage(this.usage, this.generated);
  }

  result(): ClaudeAnswer {
    const content: AnswerBlock[] = [...this.blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, block]) => {
        if (block.type === 'text') return block;
        let input: unknown;
        try {
          input = block.json ? JSON.parse(block.json) : {};
        } catch {
          input = {};
        }
        return { type: 'tool_use', id: block.id, name: block.name, input };
      });
    return { text: this.text, content, model: this.model, stopReason: this.stopReason, usage: this.usageSoFar() };
  }
}

/** Why an answer was stopped: the reason given to `abort()` (shutdown), else a cancel. */
const abortReason = (signal: AbortSignal | undefined): PerchError =>
  signal?.reason instanceof PerchError ? signal.reason : cancelledError();

const MODELS_CACHE_MS = 10 * 60 * 1000;

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelledError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Perch's only way to Claude: the official SDK, always streaming (so every answer can be
 * cancelled, saved as it grows, and timed out when the upstream goes silent).
 */
export class ClaudeClient {
  private sdk: Anthropic | undefined;
  private sdkKey = '';
  private modelsCache: { fetchedAt: number; models: ModelInfo[]; upstreamUrl: string } | undefined;
  private upstream: UpstreamState = { state: 'unknown', checked_at: null, message: null };
  private readonly sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  private readonly now: () => Date;

  constructor(private readonly options: ClaudeClientOptions) {
    this.sleep = options.sleep ?? abortableSleep;
    this.now = options.now ?? (() => new Date());
  }

  hasApiKey(): boolean {
    return Boolean(this.options.connection().apiKey);
  }

  upstreamState(): UpstreamState {
    return { ...this.upstream };
  }

  /** Streams one answer. Resolves with the whole answer; rejects with an UpstreamFailure. */
  async stream(request: ClaudeRequest, handlers: StreamHandlers = {}): Promise<ClaudeAnswer> {
    const connection = this.options.connection();
    const sdk = await this.client(connection);
    const refused = this.options.refusal?.();
    if (refused) throw refused;
    const release = (await this.options.gate?.acquire(handlers.signal)) ?? ((): void => {});
    try {
      return await this.streamWithRetries(sdk, connection, request, handlers);
    } finally {
      release();
    }
  }

  private async streamWithRetries(
    sdk: Anthropic,
    connection: ClaudeConnection,
    request: ClaudeRequest,
    handlers: StreamHandlers,
  ): Promise<ClaudeAnswer> {
    const attempts = 1 + (this.options.streamRetries ?? 2);
    const baseDelay = this.options.streamRetryDelayMs ?? 500;
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      let firstTokenAt: number | undefined;
      const timed: StreamHandlers = {
        ...handlers,
        onText: (text) => {
          firstTokenAt ??= performance.now();
          handlers.onText?.(text);
        },
      };
      const observe = (outcome: string): void =>
        this.options.observe?.({
          model: request.model,
          path: 'messages',
          outcome,
          seconds: (performance.now() - started) / 1000,
          firstTokenSeconds: firstTokenAt === undefined ? undefined : (firstTokenAt - started) / 1000,
        });
      try {
        const answer = await this.streamOnce(sdk, connection, request, timed);
        observe('ok');
        this.record('ok', null);
        return answer;
      } catch (error) {
        const failure = error as UpstreamFailure;
        observe(failure.type);
        if (!failure.retryable || attempt >= attempts || handlers.signal?.aborted) {
          this.recordFailure(failure);
          throw failure;
        }
        try {
          await this.sleep(baseDelay * 2 ** (attempt - 1), handlers.signal);
        } catch {
          throw new UpstreamFailure(abortReason(handlers.signal), '', failure.usage, failure.model);
        }
      }
    }
  }

  /** Claude's models, from the upstream's list, cached for ten minutes. */
  async listModels(): Promise<{ models: ModelInfo[]; cached: boolean }> {
    const connection = this.options.connection();
    const cache = this.modelsCache;
    if (cache && cache.upstreamUrl === connection.upstreamUrl && Date.now() - cache.fetchedAt < MODELS_CACHE_MS) {
      return { models: cache.models, cached: true };
    }
    const sdk = await this.client(connection);
    try {
      const models: ModelInfo[] = [];
      for await (const model of sdk.models.list({ limit: 1000 })) {
        models.push({ id: model.id, display_name: model.display_name, created_at: model.created_at });
      }
      this.modelsCache = { fetchedAt: Date.now(), models, upstreamUrl: connection.upstreamUrl };
      this.record('ok', null);
      return { models, cached: false };
    } catch (error) {
      const mapped = mapUpstreamError(error, { ...connection, timedOut: false });
      this.recordFailure(mapped);
      throw mapped;
    }
  }

  /** The SDK client for this key and URL; the SDK module itself loads on first use. */
  private async client(connection: ClaudeConnection): Promise<Anthropic> {
    if (!connection.apiKey) throw noApiKey();
    const identity = `${connection.apiKey}\n${connection.upstreamUrl}\n${connection.timeoutSeconds}`;
    if (!this.sdk || this.sdkKey !== identity) {
      const { default: Anthropic } = await import('@anthropic-ai/sdk');
      this.sdk = new Anthropic({
        apiKey: connection.apiKey,
        // Explicit, so ANTHROPIC_BASE_URL (which may point at Perch itself) is never read.
        baseURL: connection.upstreamUrl,
        timeout: connection.timeoutSeconds * 1000,
        maxRetries: this.options.maxRetries ?? 2,
        logLevel: 'off',
      });
      this.sdkKey = identity;
    }
    return this.sdk;
  }

  private async streamOnce(
    sdk: Anthropic,
    connection: ClaudeConnection,
    request: ClaudeRequest,
    handlers: StreamHandlers,
  ): Promise<ClaudeAnswer> {
    const controller = new AbortController();
    const outer = handlers.signal;
    const forwardAbort = (): void => controller.abort();
    if (outer?.aborted) controller.abort();
    outer?.addEventListener('abort', forwardAbort, { once: true });

    // One timer per silent period: it re-arms itself instead of being reset on every event.
    const idleMs = connection.timeoutSeconds * 1000;
    let lastEventAt = Date.now();
    let timedOut = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const armIdleTimer = (delay: number): void => {
      idleTimer = setTimeout(() => {
        const silentFor = Date.now() - lastEventAt;
        if (silentFor >= idleMs) {
          timedOut = true;
          controller.abort();
        } else {
          armIdleTimer(idleMs - silentFor);
        }
      }, delay);
      idleTimer.unref();
    };
    armIdleTimer(idleMs);

    const answer = new AnswerBuilder(request.model);
    // Events are held back until content starts, so a retry after an early overload is invisible.
    const held: RawMessageStreamEvent[] = [];
    let delivering = false;
    const deliver = (event: RawMessageStreamEvent): void => {
      if (!handlers.onEvent) return;
      if (!delivering && event.type !== 'content_block_start' && event.type !== 'content_block_delta') {
        held.push(event);
        return;
      }
      delivering = true;
      for (const early of held.splice(0)) handlers.onEvent(early);
      handlers.onEvent(event);
    };

    const fail = (error: unknown): UpstreamFailure => {
      const mapped = outer?.aborted && !timedOut ? abortReason(outer) : mapUpstreamError(error, { ...connection, timedOut });
      return new UpstreamFailure(
        mapped,
        answer.text,
        answer.usageSoFar(),
        answer.model,
        !delivering && answer.text === '' && isRetryableStreamError(error),
      );
    };

    try {
      const stream = await sdk.messages.create({ ...request, stream: true }, { signal: controller.signal });
      for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
        lastEventAt = Date.now();
        const text = answer.add(event);
        deliver(event);
        if (text) handlers.onText?.(text);
      }
    } catch (error) {
      throw fail(error);
    } finally {
      clearTimeout(idleTimer);
      outer?.removeEventListener('abort', forwardAbort);
    }
    // The SDK ends iteration quietly when its request is aborted, and a cut connection can
    // also end it early: only message_stop means the answer is whole.
    if (!answer.complete) {
      throw fail(
        controller.signal.aborted
          ? new Error('aborted')
          : Object.assign(new Error('the stream ended before message_stop'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
      );
    }
    return answer.result();
  }

  private record(state: UpstreamState['state'], message: string | null): void {
    this.upstream = { state, checked_at: this.now().toISOString(), message };
  }

  private recordFailure(error: PerchError): void {
    if (error.type === 'cancelled' || error.type === 'no_api_key') return;
    if (error.type === 'upstream_unreachable' || error.type === 'upstream_timeout') this.record('unreachable', error.message);
    else if (error.status >= 500 || error.type === 'rate_limit_error') this.record('degraded', error.message);
    // A rejected request (400) still proves the upstream answers.
    else this.record('ok', null);
  }
}

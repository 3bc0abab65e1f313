import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { noApiKey, PerchError } from '../errors.js';
import { cancelledError, isRetryableStreamError, mapUpstreamError } from './upstream-errors.js';
import type { TokenUsage } from './pricing.js';

export interface ClaudeRequest {
  model: string;
  maxTokens: number;
  system?: string | undefined;
  messages: MessageParam[];
}

export interface ClaudeAnswer {
  text: string;
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
}

export interface StreamHandlers {
  signal?: AbortSignal | undefined;
  onText?: (delta: string) => void;
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
    const sdk = this.client(connection);
    const attempts = 1 + (this.options.streamRetries ?? 2);
    const baseDelay = this.options.streamRetryDelayMs ?? 500;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const answer = await this.streamOnce(sdk, connection, request, handlers);
        this.record('ok', null);
        return answer;
      } catch (error) {
        const failure = error as UpstreamFailure;
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
    const sdk = this.client(connection);
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

  private client(connection: ClaudeConnection): Anthropic {
    if (!connection.apiKey) throw noApiKey();
    const identity = `${connection.apiKey}\n${connection.upstreamUrl}\n${connection.timeoutSeconds}`;
    if (!this.sdk || this.sdkKey !== identity) {
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

    let text = '';
    let model = request.model;
    let stopReason: string | null = null;
    let sawMessageStop = false;
    const usage: TokenUsage = { input_tokens: 0, output_tokens: 0 };

    const fail = (error: unknown): UpstreamFailure => {
      const mapped = outer?.aborted && !timedOut ? abortReason(outer) : mapUpstreamError(error, { ...connection, timedOut });
      return new UpstreamFailure(mapped, text, usage, model, text === '' && isRetryableStreamError(error));
    };

    try {
      const stream = await sdk.messages.create(
        {
          model: request.model,
          max_tokens: request.maxTokens,
          ...(request.system ? { system: request.system } : {}),
          messages: request.messages,
          stream: true,
        },
        { signal: controller.signal },
      );
      for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
        lastEventAt = Date.now();
        switch (event.type) {
          case 'message_start':
            model = event.message.model || model;
            Object.assign(usage, {
              input_tokens: event.message.usage.input_tokens,
              output_tokens: event.message.usage.output_tokens,
              cache_creation_input_tokens: event.message.usage.cache_creation_input_tokens ?? null,
              cache_read_input_tokens: event.message.usage.cache_read_input_tokens ?? null,
            });
            break;
          case 'content_block_delta':
            if (event.delta.type === 'text_delta') {
              text += event.delta.text;
              handlers.onText?.(event.delta.text);
            }
            break;
          case 'message_delta':
            stopReason = event.delta.stop_reason ?? stopReason;
            usage.output_tokens = event.usage.output_tokens;
            if (typeof event.usage.input_tokens === 'number') usage.input_tokens = event.usage.input_tokens;
            break;
          case 'message_stop':
            sawMessageStop = true;
            break;
          default:
            break;
        }
      }
    } catch (error) {
      throw fail(error);
    } finally {
      clearTimeout(idleTimer);
      outer?.removeEventListener('abort', forwardAbort);
    }
    // The SDK ends iteration quietly when its request is aborted, and a cut connection can
    // also end it early: only message_stop means the answer is whole.
    if (!sawMessageStop) {
      throw fail(
        controller.signal.aborted
          ? new Error('aborted')
          : Object.assign(new Error('the stream ended before message_stop'), { code: 'STREAM_CUT' }),
      );
    }
    return { text, model, stopReason, usage };
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

import { PerchError, invalidRequest, noApiKey } from '../errors.js';
import type { PerchEventBus } from '../events.js';
import { UpstreamFailure, type ClaudeClient } from '../claude/claude-client.js';
import { estimateCostUsd, type TokenUsage } from '../claude/pricing.js';
import type { AttachmentInput, ConversationStore, Message, Session } from '../storage/conversation-store.js';
import type { UsageStore } from '../storage/usage-store.js';
import type { Settings } from '../settings/schema.js';
import { toClaudeMessages } from './prompt.js';

export interface AskInput {
  message: string;
  sessionId?: string | undefined;
  system?: string | undefined;
  context?: string | undefined;
  model?: string | undefined;
  maxTokens?: number | undefined;
  attachments?: AttachmentInput[] | undefined;
  /** Edit or regenerate: replace this question of the session, and everything after it. */
  replaceFrom?: string | undefined;
}

/** A finished answer, in the shape the API returns. */
export interface Answer {
  response: string;
  session_id: string;
  message_id: string;
  model: string;
  stop_reason: string | null;
  usage: TokenUsage;
  tokens_used: number;
  cost_usd: number | null;
}

/** An answer that did not finish: says why, and where what was saved lives. */
export class AnswerFailure extends PerchError {
  constructor(
    cause: PerchError,
    readonly session_id: string,
    readonly message_id: string,
    /** The text that streamed before the failure (saved as a partial answer), if any. */
    readonly partial_response: string,
  ) {
    super(cause.type, cause.status, cause.message, { retryAfterSeconds: cause.retryAfterSeconds, cause });
  }
}

export interface RunHandlers {
  signal?: AbortSignal | undefined;
  onText?: (delta: string) => void;
}

/** How often the text of a streaming answer is saved, so a crash loses at most this much. */
const PROGRESS_SAVE_MS = 500;

export interface ChatServiceOptions {
  store: ConversationStore;
  usage: UsageStore;
  claude: ClaudeClient;
  settings: () => Settings;
  events: PerchEventBus;
}

/** One question and its answer-to-be, recorded before Claude is asked. */
export class Turn {
  constructor(
    private readonly service: ChatService,
    readonly session: Session,
    readonly userMessage: Message,
    readonly messageId: string,
    readonly model: string,
    readonly maxTokens: number,
    readonly system: string | undefined,
  ) {}

  get sessionId(): string {
    return this.session.id;
  }

  run(handlers: RunHandlers = {}): Promise<Answer> {
    return this.service.runTurn(this, handlers);
  }
}

/**
 * Conversations with Claude: records each question, streams the answer while saving it as it
 * grows, and finishes it as complete, partial (cut short after some text) or error.
 */
export class ChatService {
  private readonly inFlight = new Map<Turn, { controller: AbortController; done: Promise<unknown> }>();

  constructor(private readonly options: ChatServiceOptions) {}

  get activeAnswers(): number {
    return this.inFlight.size;
  }

  /** Checks everything that can be checked up front, then records the question. */
  begin(input: AskInput): Turn {
    if (input.message.trim() === '' && !input.attachments?.length && !input.replaceFrom) {
      throw invalidRequest("Field 'message' must not be empty.");
    }
    if (!this.options.claude.hasApiKey()) throw noApiKey();
    if (input.replaceFrom && !input.sessionId) {
      throw invalidRequest("Field 'replace_from' needs the 'session_id' of the conversation it belongs to.");
    }
    const settings = this.options.settings();
    const existing = input.sessionId ? this.options.store.requireSession(input.sessionId) : undefined;
    const model = input.model ?? existing?.model ?? settings.claude.model;
    const system = input.system ?? existing?.system ?? (settings.claude.systemPrompt || undefined);
    const started = this.options.store.startTurn({
      sessionId: existing?.id,
      newSession: { system: input.system, model: input.model },
      user: { content: input.message, context: input.context, attachments: input.attachments },
      replaceFrom: input.replaceFrom,
      model,
    });
    return new Turn(
      this,
      started.session,
      started.userMessage,
      started.assistantMessageId,
      model,
      input.maxTokens ?? settings.claude.maxTokens,
      system,
    );
  }

  /** Convenience for callers that want the whole answer at once. */
  ask(input: AskInput, handlers: RunHandlers = {}): Promise<Answer> {
    return this.begin(input).run(handlers);
  }

  /** @internal Runs a turn begun by `begin`. */
  async runTurn(turn: Turn, handlers: RunHandlers): Promise<Answer> {
    const { store, usage, claude, events } = this.options;
    const controller = new AbortController();
    const forward = (): void => controller.abort(handlers.signal?.reason);
    if (handlers.signal?.aborted) forward();
    handlers.signal?.addEventListener('abort', forward, { once: true });

    let streamed = '';
    let lastSaved = Date.now();
    const ids = { session_id: turn.sessionId, message_id: turn.messageId };
    events.emit('answer:started', ids);

    const work = (async (): Promise<Answer> => {
      try {
        const history = store.context(turn.sessionId);
        const answer = await claude.stream(
          {
            model: turn.model,
            max_tokens: turn.maxTokens,
            ...(turn.system ? { system: turn.system } : {}),
            messages: toClaudeMessages(history),
          },
          {
            signal: controller.signal,
            onText: (delta) => {
              streamed += delta;
              handlers.onText?.(delta);
              if (Date.now() - lastSaved >= PROGRESS_SAVE_MS) {
                lastSaved = Date.now();
                store.saveProgress(turn.messageId, streamed);
              }
            },
          },
        );
        const cost = estimateCostUsd(answer.model, answer.usage);
        usage.record({ source: 'chat', model: answer.model, usage: answer.usage, sessionId: turn.sessionId });
        store.finishAnswer(turn.messageId, {
          content: answer.text,
          status: 'complete',
          model: answer.model,
          stop_reason: answer.stopReason,
          usage: answer.usage,
          cost_usd: cost,
        });
        events.emit('answer:finished', { ...ids, status: 'complete' });
        return {
          response: answer.text,
          ...ids,
          model: answer.model,
          stop_reason: answer.stopReason,
          usage: answer.usage,
          tokens_used: answer.usage.input_tokens + answer.usage.output_tokens,
          cost_usd: cost,
        };
      } catch (error) {
        const failure =
          error instanceof UpstreamFailure
            ? error
            : new UpstreamFailure(
                error instanceof PerchError
                  ? error
                  : new PerchError('internal_error', 500, 'Perch failed while answering.', { cause: error }),
                streamed,
                { input_tokens: 0, output_tokens: 0 },
                turn.model,
              );
        const cancelled = failure.type === 'cancelled' || failure.type === 'shutdown';
        const status = failure.partialText !== '' || cancelled ? 'partial' : 'error';
        const hasUsage = failure.usage.input_tokens > 0 || failure.usage.output_tokens > 0;
        if (hasUsage) usage.record({ source: 'chat', model: failure.model, usage: failure.usage, sessionId: turn.sessionId });
        store.finishAnswer(turn.messageId, {
          content: failure.partialText,
          status,
          model: failure.model,
          stop_reason: null,
          usage: hasUsage ? failure.usage : null,
          cost_usd: hasUsage ? estimateCostUsd(failure.model, failure.usage) : null,
          error: { type: failure.type, message: failure.message },
        });
        events.emit('answer:finished', { ...ids, status });
        throw new AnswerFailure(failure, turn.sessionId, turn.messageId, failure.partialText);
      } finally {
        handlers.signal?.removeEventListener('abort', forward);
      }
    })();

    this.inFlight.set(turn, { controller, done: work.catch(() => undefined) });
    try {
      return await work;
    } finally {
      this.inFlight.delete(turn);
    }
  }

  /**
   * Lets answers in flight finish for up to `graceMs`, then stops the rest; each stopped
   * answer is saved as partial. Resolves when every answer is settled and saved.
   */
  async drain(graceMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    const settled = Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      settled.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      const reason = new PerchError('shutdown', 503, 'Perch is shutting down; the answer was saved as far as it got.');
      for (const { controller } of this.inFlight.values()) controller.abort(reason);
      await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    }
  }
}

import { estimateCostUsd, type TokenUsage } from '../claude/pricing.js';
import type { Db } from './database.js';

/** Who asked Claude: Perch's own chat API, the Anthropic relay, or the OpenAI-compatible endpoint. */
export type UsageSource = 'chat' | 'anthropic' | 'openai';

export interface UsageRecord {
  source: UsageSource;
  model: string;
  usage: TokenUsage;
  sessionId?: string | undefined;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** The spending ledger: one row per answer, with its estimated cost. */
export class UsageStore {
  private readonly insert;
  private readonly totalsSince;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.insert = db.prepare(
      `INSERT INTO usage (created_at, source, model, input_tokens, output_tokens,
         cache_creation_input_tokens, cache_read_input_tokens, cost_usd, session_id)
       VALUES (@created_at, @source, @model, @input_tokens, @output_tokens,
         @cache_creation_input_tokens, @cache_read_input_tokens, @cost_usd, @session_id)`,
    );
    this.totalsSince = db.prepare<[number], UsageTotals>(
      `SELECT COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens,
         COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd
       FROM usage WHERE created_at >= ?`,
    );
  }

  record({ source, model, usage, sessionId }: UsageRecord): void {
    this.insert.run({
      created_at: this.now(),
      source,
      model,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cost_usd: estimateCostUsd(model, usage),
      session_id: sessionId ?? null,
    });
  }

  /** Requests, tokens and estimated cost since a moment (epoch ms). */
  totals(sinceMs: number): UsageTotals {
    return this.totalsSince.get(sinceMs) ?? { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  }
}

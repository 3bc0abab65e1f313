import { estimateCostUsd, type TokenUsage } from '../claude/pricing.js';
import type { Db } from './database.js';

/** Who asked Claude: Perch's own chat API, the Anthropic relay, or the OpenAI-compatible endpoint. */
export type UsageSource = 'chat' | 'anthropic' | 'openai' | 'jobs' | 'github' | 'slack';

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

interface UsageRow {
  created_at: number;
  source: UsageSource;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd: number | null;
  session_id: string | null;
}

/** Rows wait at most this long before they are written, many to one transaction. */
const FLUSH_AFTER_MS = 1000;

/**
 * The spending ledger: one row per answer, with its estimated cost. Rows are written in
 * batches (a relay under load would otherwise commit once per request); reads flush first.
 */
export class UsageStore {
  private readonly insert;
  private readonly insertMany: (rows: UsageRow[]) => void;
  private readonly totalsSince;
  private readonly recentRows;
  private pending: UsageRow[] = [];
  private timer: NodeJS.Timeout | undefined;

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
    this.insertMany = db.transaction((rows: UsageRow[]) => {
      for (const row of rows) this.insert.run(row);
    });
    this.recentRows = db.prepare<[number], UsageRow>(`SELECT * FROM usage ORDER BY id DESC LIMIT ?`);
    this.totalsSince = db.prepare<[number], UsageTotals>(
      `SELECT COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens,
         COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd
       FROM usage WHERE created_at >= ?`,
    );
  }

  record({ source, model, usage, sessionId }: UsageRecord): void {
    this.pending.push({
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
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_AFTER_MS);
      this.timer.unref();
    }
  }

  /** Writes the rows waiting in memory (also called before every read and at shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.insertMany(rows);
  }

  /** The newest rows, newest first. */
  recent(limit: number): UsageRow[] {
    this.flush();
    return this.recentRows.all(limit);
  }

  /** Requests, tokens and estimated cost since a moment (epoch ms). */
  totals(sinceMs: number): UsageTotals {
    this.flush();
    return this.totalsSince.get(sinceMs) ?? { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  }
}

import { localDaysBetween } from '../calendar.js';
import { estimateCostUsd, type TokenUsage } from '../claude/pricing.js';
import type { Db } from './database.js';

/** Who asked Claude: Perch's own chat API, the Anthropic relay, or the OpenAI-compatible endpoint. */
export type UsageSource = 'chat' | 'anthropic' | 'openai' | 'jobs' | 'github' | 'slack' | 'task';

export interface UsageRecord {
  source: UsageSource;
  model: string;
  usage: TokenUsage;
  sessionId?: string | undefined;
  /** The task whose agent asked (through the relay). */
  taskId?: string | undefined;
}

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** How a usage summary splits its period. */
export type UsageGroupBy = 'day' | 'model' | 'session' | 'source';

/** What a set of answers used and cost. */
export interface UsageAmounts {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Estimated from list prices, for the requests whose model has a known price; null when none has. */
  cost_usd: number | null;
  /** Requests left out of cost_usd because their model's price is unknown. */
  unpriced_requests: number;
  /** Requests whose output tokens (and so cost) are Perch's estimate: answers that ended early. */
  estimated_requests: number;
}

export interface UsageGroup extends UsageAmounts {
  /** The day (2025-03-01), model, session id, or source. */
  key: string;
  label: string;
  /** When grouping by session: the chat to open, or null for usage no existing chat holds. */
  session_id?: string | null;
}

export interface UsageSummaryRequest {
  fromMs: number;
  /** Exclusive. */
  toMs: number;
  groupBy: UsageGroupBy;
  /** An IANA zone: days are its calendar days. */
  timeZone: string;
}

export interface UsageSummary {
  totals: UsageAmounts;
  groups: UsageGroup[];
}

/** How each source reads in a report. Chat usage whose session is gone stays under "chat". */
const SOURCE_LABELS: Record<UsageSource, string> = {
  chat: 'Chat',
  anthropic: 'Anthropic relay',
  openai: 'OpenAI-compatible endpoint',
  jobs: 'Scheduled prompts',
  github: 'GitHub reviews',
  slack: 'Slack commands',
  task: 'Tasks',
};

const labelOfSource = (source: string): string => (source in SOURCE_LABELS ? SOURCE_LABELS[source as UsageSource] : source);

/** The aggregate columns every summary query selects, over rows aliased `u` (none may match). */
const AMOUNTS = `COUNT(u.id) AS requests,
  COALESCE(SUM(u.input_tokens), 0) AS input_tokens,
  COALESCE(SUM(u.output_tokens), 0) AS output_tokens,
  COALESCE(SUM(u.cache_read_input_tokens), 0) AS cache_read_input_tokens,
  COALESCE(SUM(u.cache_creation_input_tokens), 0) AS cache_creation_input_tokens,
  SUM(u.cost_usd) AS cost_usd,
  COUNT(u.id) - COUNT(u.cost_usd) AS unpriced_requests,
  COALESCE(SUM(u.estimated), 0) AS estimated_requests`;

const IN_PERIOD = 'u.created_at >= @fromMs AND u.created_at < @toMs';

type AmountsRow = UsageAmounts & { key: string };

const roundCost = (usd: number): number => Math.round(usd * 1_000_000) / 1_000_000;

function amountsOf(row: UsageAmounts): UsageAmounts {
  return {
    requests: row.requests,
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cache_read_input_tokens: row.cache_read_input_tokens,
    cache_creation_input_tokens: row.cache_creation_input_tokens,
    // Summed floats carry noise; micro-dollars are the precision each cost was stored with.
    cost_usd: row.requests === 0 ? 0 : row.cost_usd === null ? null : roundCost(row.cost_usd),
    unpriced_requests: row.unpriced_requests,
    estimated_requests: row.estimated_requests,
  };
}

/** The groups of a summary split its period's rows exactly, so the totals are their sum. */
function totalOf(groups: UsageAmounts[]): UsageAmounts {
  const total: UsageAmounts = {
    requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cost_usd: 0,
    unpriced_requests: 0,
    estimated_requests: 0,
  };
  let cost = 0;
  let priced = false;
  for (const group of groups) {
    total.requests += group.requests;
    total.input_tokens += group.input_tokens;
    total.output_tokens += group.output_tokens;
    total.cache_read_input_tokens += group.cache_read_input_tokens;
    total.cache_creation_input_tokens += group.cache_creation_input_tokens;
    total.unpriced_requests += group.unpriced_requests;
    total.estimated_requests += group.estimated_requests;
    if (group.requests > group.unpriced_requests) priced = true;
    cost += group.cost_usd ?? 0;
  }
  return { ...total, cost_usd: total.requests > 0 && !priced ? null : roundCost(cost) };
}

const tokensOf = (group: UsageAmounts): number =>
  group.input_tokens + group.output_tokens + group.cache_read_input_tokens + group.cache_creation_input_tokens;

/** Biggest spender first: by cost (unknown last), then tokens, then name. */
const bySpending = (a: UsageGroup, b: UsageGroup): number =>
  (b.cost_usd ?? -1) - (a.cost_usd ?? -1) || tokensOf(b) - tokensOf(a) || a.label.localeCompare(b.label);

export interface UsageRow {
  created_at: number;
  source: UsageSource;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd: number | null;
  session_id: string | null;
  task_id: string | null;
  /** 1 when output_tokens is Perch's estimate (the answer ended before its final count came). */
  estimated: 0 | 1;
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
  private readonly byDay;
  private readonly byModel;
  private readonly bySource;
  private readonly bySession;
  private readonly byTask;
  private pending: UsageRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Told about every row as it is recorded (metrics, the daily budget), before it is written. */
  onRecorded: ((row: UsageRow) => void) | undefined;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.insert = db.prepare(
      `INSERT INTO usage (created_at, source, model, input_tokens, output_tokens,
         cache_creation_input_tokens, cache_read_input_tokens, cost_usd, session_id, task_id, estimated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Positional parameters: binding eleven by name cost half as much again per row.
    this.insertMany = db.transaction((rows: UsageRow[]) => {
      for (const row of rows) {
        this.insert.run(
          row.created_at,
          row.source,
          row.model,
          row.input_tokens,
          row.output_tokens,
          row.cache_creation_input_tokens,
          row.cache_read_input_tokens,
          row.cost_usd,
          row.session_id,
          row.task_id,
          row.estimated,
        );
      }
    });
    this.recentRows = db.prepare<[number], UsageRow>(`SELECT * FROM usage ORDER BY id DESC LIMIT ?`);
    this.totalsSince = db.prepare<[number], UsageTotals>(
      `SELECT COUNT(*) AS requests, COALESCE(SUM(input_tokens), 0) AS input_tokens,
         COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd
       FROM usage WHERE created_at >= ?`,
    );
    type Period = { fromMs: number; toMs: number };
    // One row per day, empty days included: the days (bounds precomputed in the zone) drive a
    // range lookup each on usage_by_time.
    this.byDay = db.prepare<[{ days: string }], AmountsRow>(
      `WITH days AS (SELECT value ->> 0 AS day, value ->> 1 AS start_ms, value ->> 2 AS end_ms FROM json_each(@days))
       SELECT days.day AS key, ${AMOUNTS}
       FROM days LEFT JOIN usage u ON u.created_at >= days.start_ms AND u.created_at < days.end_ms
       GROUP BY days.day ORDER BY days.day`,
    );
    this.byModel = db.prepare<[Period], AmountsRow>(
      `SELECT u.model AS key, ${AMOUNTS} FROM usage u WHERE ${IN_PERIOD} GROUP BY u.model`,
    );
    this.bySource = db.prepare<[Period], AmountsRow>(
      `SELECT u.source AS key, ${AMOUNTS} FROM usage u WHERE ${IN_PERIOD} GROUP BY u.source`,
    );
    // A chat that still exists is its own group; everything else (other sources, deleted chats)
    // groups by where it came from.
    this.bySession = db.prepare<[Period], AmountsRow & { session_id: string | null; title: string | null }>(
      `SELECT COALESCE(s.id, u.source) AS key, s.id AS session_id, s.title AS title, ${AMOUNTS}
       FROM usage u LEFT JOIN sessions s ON s.id = u.session_id
       WHERE ${IN_PERIOD} GROUP BY COALESCE(s.id, u.source)`,
    );
    this.byTask = db.prepare<[string], UsageAmounts>(`SELECT ${AMOUNTS} FROM usage u WHERE u.task_id = ?`);
  }

  /** What one task's agent used, through the relay. */
  ofTask(taskId: string): UsageAmounts {
    this.flush();
    return amountsOf(this.byTask.get(taskId) as UsageAmounts);
  }

  record({ source, model, usage, sessionId, taskId }: UsageRecord): void {
    const row: UsageRow = {
      created_at: this.now(),
      source,
      model,
      input_tokens: usage.input_tokens,
      output_tokens: usage.output_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cost_usd: estimateCostUsd(model, usage),
      session_id: sessionId ?? null,
      task_id: taskId ?? null,
      estimated: usage.estimated ? 1 : 0,
    };
    this.pending.push(row);
    this.onRecorded?.(row);
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

  /**
   * Requests, tokens and estimated cost in [fromMs, toMs): in total, and per calendar day of
   * the zone (every day, empty ones as zeros, oldest first), per model, per chat session, or
   * per source (those three biggest spender first).
   */
  summarize({ fromMs, toMs, groupBy, timeZone }: UsageSummaryRequest): UsageSummary {
    this.flush();
    const period = { fromMs, toMs };
    let groups: UsageGroup[];
    if (groupBy === 'day') {
      const days = localDaysBetween(fromMs, toMs, timeZone).map((day) => [day.date, day.startMs, day.endMs]);
      const rows = this.byDay.all({ days: JSON.stringify(days) });
      groups = rows.map((row) => ({ key: row.key, label: row.key, ...amountsOf(row) }));
      return { totals: totalOf(groups), groups };
    }
    if (groupBy === 'session') {
      groups = this.bySession.all(period).map((row) => ({
        key: row.key,
        label:
          row.session_id !== null ? row.title || 'Untitled chat' : row.key === 'chat' ? 'Deleted chats' : labelOfSource(row.key),
        session_id: row.session_id,
        ...amountsOf(row),
      }));
    } else if (groupBy === 'source') {
      groups = this.bySource.all(period).map((row) => ({ key: row.key, label: labelOfSource(row.key), ...amountsOf(row) }));
    } else {
      groups = this.byModel.all(period).map((row) => ({ key: row.key, label: row.key, ...amountsOf(row) }));
    }
    return { totals: totalOf(groups), groups: groups.sort(bySpending) };
  }

  /** Requests, tokens and estimated cost since a moment (epoch ms). */
  totals(sinceMs: number): UsageTotals {
    this.flush();
    return this.totalsSince.get(sinceMs) ?? { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0 };
  }
}

import type { TokenUsage } from '../claude/pricing.js';
import { newId } from '../storage/ids.js';
import type { Db } from '../storage/database.js';

export type ReviewStatus = 'running' | 'posted' | 'failed';

interface ReviewRow {
  id: string;
  repo: string;
  pr_number: number;
  head_sha: string | null;
  status: ReviewStatus;
  comment_url: string | null;
  error: string | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /** 1 when output_tokens is Perch's estimate (the answer ended before its final count came). */
  usage_estimated: number;
  cost_usd: number | null;
  created_at: number;
  updated_at: number;
}

/** A review as the API shows it. */
export interface Review extends Omit<
  ReviewRow,
  'input_tokens' | 'output_tokens' | 'usage_estimated' | 'created_at' | 'updated_at'
> {
  usage: { input_tokens: number; output_tokens: number; estimated?: true } | null;
  created_at: string;
  updated_at: string;
}

export interface ReviewOutcome {
  status: 'posted' | 'failed';
  headSha?: string | null;
  commentUrl?: string | null;
  error?: string | null;
  model?: string | null;
  usage?: TokenUsage | null;
  costUsd?: number | null;
}

/** Deliveries older than this are forgotten (GitHub redelivers on request, within days). */
const DELIVERY_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The `reviews` table (one row per review, running → posted or failed) and the
 * `webhook_deliveries` table (deliveries already handled, so a redelivery does the work once).
 */
export class ReviewStore {
  private readonly insertDelivery;
  private readonly pruneDeliveries;
  private readonly insertReview;
  private readonly finishReview;
  private readonly selectRecent;
  private readonly failRunning;
  private lastPruned = 0;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.insertDelivery = db.prepare<[string, string, number]>(
      `INSERT OR IGNORE INTO webhook_deliveries (source, delivery_id, received_at) VALUES (?, ?, ?)`,
    );
    this.pruneDeliveries = db.prepare<[number]>(`DELETE FROM webhook_deliveries WHERE received_at < ?`);
    this.insertReview = db.prepare(
      `INSERT INTO reviews (id, repo, pr_number, head_sha, status, created_at, updated_at)
       VALUES (@id, @repo, @pr_number, @head_sha, 'running', @now, @now)`,
    );
    this.finishReview = db.prepare(
      `UPDATE reviews SET status = @status, head_sha = COALESCE(@head_sha, head_sha), comment_url = @comment_url,
         error = @error, model = @model, input_tokens = @input_tokens, output_tokens = @output_tokens,
         usage_estimated = @usage_estimated, cost_usd = @cost_usd, updated_at = @now
       WHERE id = @id`,
    );
    this.selectRecent = db.prepare<[number], ReviewRow>(`SELECT * FROM reviews ORDER BY created_at DESC, id DESC LIMIT ?`);
    this.failRunning = db.prepare<[string, number]>(
      `UPDATE reviews SET status = 'failed', error = ?, updated_at = ? WHERE status = 'running'`,
    );
  }

  get open(): boolean {
    return this.db.open;
  }

  /**
   * Records a delivery; false when it was recorded before. Atomic (the primary key decides),
   * so two copies arriving at once still do the work once.
   */
  claimDelivery(source: 'github' | 'slack' | `job:${string}`, deliveryId: string): boolean {
    const now = this.now();
    if (now - this.lastPruned > PRUNE_EVERY_MS) {
      this.lastPruned = now;
      this.pruneDeliveries.run(now - DELIVERY_MEMORY_MS);
    }
    return this.insertDelivery.run(source, deliveryId, now).changes === 1;
  }

  /** Claims the delivery and records a running review, together; undefined for a duplicate. */
  startReview(deliveryId: string, input: { repo: string; prNumber: number; headSha: string | null }): string | undefined {
    return this.db.transaction(() => {
      if (!this.claimDelivery('github', deliveryId)) return undefined;
      const now = this.now();
      const id = newId('rev', now);
      this.insertReview.run({ id, repo: input.repo, pr_number: input.prNumber, head_sha: input.headSha, now });
      return id;
    })();
  }

  finish(id: string, outcome: ReviewOutcome): void {
    this.finishReview.run({
      id,
      status: outcome.status,
      head_sha: outcome.headSha ?? null,
      comment_url: outcome.commentUrl ?? null,
      error: outcome.error ?? null,
      model: outcome.model ?? null,
      input_tokens: outcome.usage?.input_tokens ?? null,
      output_tokens: outcome.usage?.output_tokens ?? null,
      usage_estimated: outcome.usage?.estimated ? 1 : 0,
      cost_usd: outcome.costUsd ?? null,
      now: this.now(),
    });
  }

  /** Reviews a previous run left running (it stopped mid-review) are failed, saying so. */
  failInterrupted(): number {
    return this.failRunning.run('Perch stopped before this review finished. Ask for it again.', this.now()).changes;
  }

  /** Newest first. */
  list(limit: number): Review[] {
    return this.selectRecent.all(limit).map((row) => ({
      id: row.id,
      repo: row.repo,
      pr_number: row.pr_number,
      head_sha: row.head_sha,
      status: row.status,
      comment_url: row.comment_url,
      error: row.error,
      model: row.model,
      usage:
        row.input_tokens === null && row.output_tokens === null
          ? null
          : {
              input_tokens: row.input_tokens ?? 0,
              output_tokens: row.output_tokens ?? 0,
              ...(row.usage_estimated ? { estimated: true as const } : {}),
            },
      cost_usd: row.cost_usd,
      created_at: iso(row.created_at),
      updated_at: iso(row.updated_at),
    }));
  }
}

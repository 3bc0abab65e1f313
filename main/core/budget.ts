import { nextMachineMidnight, startOfMachineDay } from './calendar.js';
import { PerchError } from './errors.js';

export interface DailyBudgetOptions {
  /** The cap in US dollars; 0 turns it off. Read on every check. */
  limitUsd: () => number;
  /** What was spent since a moment (from the usage ledger), to start each day right. */
  spentSince: (sinceMs: number) => number;
  now?: () => number;
}

/**
 * The optional daily spending cap (`budget.dailyUsd`): once today's estimated cost reaches it,
 * calls to Claude are refused with 429 until local midnight. Today's total is kept in memory
 * (read from the ledger once a day), so the check costs nothing per request.
 */
export class DailyBudget {
  private day = -1;
  /** The midnight that ends `day`: inside [day, dayEnd) no date arithmetic is needed. */
  private dayEnd = -1;
  private spent = 0;
  private readonly now: () => number;

  constructor(private readonly options: DailyBudgetOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Adds a recorded answer's cost. */
  add(costUsd: number | null, at: number): void {
    // A fresh count from the ledger already holds this answer.
    if (this.rollOver(at)) return;
    if (costUsd !== null && at >= this.day && at < this.dayEnd) this.spent += costUsd;
  }

  /** Today's estimated spend so far. */
  spentToday(): number {
    this.rollOver(this.now());
    return this.spent;
  }

  /** The refusal to answer with when the cap is reached, or undefined. */
  check(): PerchError | undefined {
    const limit = this.options.limitUsd();
    if (limit <= 0) return undefined;
    const now = this.now();
    const spent = this.spentToday();
    if (spent < limit) return undefined;
    return new PerchError(
      'daily_budget_reached',
      429,
      `The daily budget of $${limit.toFixed(2)} is reached ($${spent.toFixed(2)} spent today). Perch asks Claude again after midnight; raise or clear it with npx perch config set budget.dailyUsd <dollars> on this machine (0 turns it off).`,
      { retryAfterSeconds: Math.max(1, Math.ceil((nextMachineMidnight(now) - now) / 1000)) },
    );
  }

  /** Starts a new day's count when the day changed; says whether it did. */
  private rollOver(at: number): boolean {
    const latest = Math.max(at, this.now());
    if (latest >= this.day && latest < this.dayEnd) return false;
    const day = startOfMachineDay(latest);
    if (day === this.day) return false;
    this.day = day;
    this.dayEnd = nextMachineMidnight(day);
    this.spent = this.options.spentSince(day);
    return true;
  }
}

import { addDays, localDateOf, parseDateTime, startOfLocalDay } from './calendar.js';
import { invalidField } from './errors.js';

/** Without a `from`, a usage report covers this many calendar days, the last one included. */
export const DEFAULT_USAGE_DAYS = 30;
/** The longest period one report may cover. */
export const MAX_USAGE_DAYS = 366;

const DAY_MS = 86_400_000;

export interface UsagePeriodRequest {
  /** ISO date or date and time; a bare date means that day's start in the time zone. */
  from?: string | undefined;
  /** Exclusive end, in the same forms; defaults to now. */
  to?: string | undefined;
  timeZone: string;
  now: number;
}

export interface UsagePeriod {
  fromMs: number;
  toMs: number;
}

function instant(field: 'from' | 'to', text: string, timeZone: string): number {
  const parsed = parseDateTime(text, timeZone);
  if (parsed === undefined) {
    throw invalidField(
      field,
      `'${text}' is not a date. Use an ISO date such as 2025-03-01, or a date and time such as 2025-03-01T09:00:00Z.`,
    );
  }
  return parsed;
}

/**
 * The period a usage report covers: `to` defaults to now, `from` to the start of the day
 * DEFAULT_USAGE_DAYS - 1 days before `to`'s, so the default is whole days with today's last.
 */
export function resolveUsagePeriod({ from, to, timeZone, now }: UsagePeriodRequest): UsagePeriod {
  const toMs = to === undefined ? now : instant('to', to, timeZone);
  const fromMs =
    from === undefined
      ? startOfLocalDay(addDays(localDateOf(toMs - 1, timeZone), -(DEFAULT_USAGE_DAYS - 1)), timeZone)
      : instant('from', from, timeZone);
  if (fromMs >= toMs) {
    throw invalidField(
      'from',
      `It must be before 'to' (${new Date(toMs).toISOString()}); 'to' is exclusive, so to cover 2025-03-01 alone send from=2025-03-01&to=2025-03-02.`,
    );
  }
  if (toMs - fromMs > MAX_USAGE_DAYS * DAY_MS) {
    throw invalidField(
      'from',
      `The period from 'from' to 'to' is ${Math.ceil((toMs - fromMs) / DAY_MS)} days long; ask for at most ${MAX_USAGE_DAYS} days at a time.`,
    );
  }
  return { fromMs, toMs };
}

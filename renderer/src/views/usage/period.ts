/** The periods the usage view offers, as whole calendar days of this computer's time zone. */
export type PeriodChoice = 'week' | 'month-rolling' | 'this-month';

export const PERIODS: ReadonlyArray<{ id: PeriodChoice; label: string }> = [
  { id: 'week', label: '7 days' },
  { id: 'month-rolling', label: '30 days' },
  { id: 'this-month', label: 'This month' },
];

const pad = (value: number): string => String(value).padStart(2, '0');

/** A local calendar date as the API takes it: 2025-03-01. */
const isoDate = (date: Date): string => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

export interface PeriodRange {
  /** First day. */
  from: string;
  /** The day after the last (the API's `to` is exclusive). */
  to: string;
}

/** The days a period covers, today included (this month runs to its end, so its chart is whole). */
export function periodRange(choice: PeriodChoice, today: Date = new Date()): PeriodRange {
  const year = today.getFullYear();
  const month = today.getMonth();
  const day = today.getDate();
  if (choice === 'this-month') return { from: isoDate(new Date(year, month, 1)), to: isoDate(new Date(year, month + 1, 1)) };
  const days = choice === 'week' ? 7 : 30;
  return { from: isoDate(new Date(year, month, day - (days - 1))), to: isoDate(new Date(year, month, day + 1)) };
}

/** This computer's IANA time zone, so "today" in the report is today here. */
export const localTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A report day (2025-03-01) as this computer's locale writes it short: "Mar 1". */
export function formatDay(date: string, options: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' }): string {
  const [year = 1970, month = 1, day = 1] = date.split('-').map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, options);
}

/**
 * Calendar days and wall-clock times in an IANA time zone, with nothing but Intl: a day in
 * Paris is not 24 hours twice a year, so day boundaries are looked up, never added up.
 */

const DAY_MS = 86_400_000;

/** A date as written on a calendar: `2025-03-30`. */
export type LocalDate = string;

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

/** The zone's canonical name, or undefined when Intl does not know it. */
export function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function wallTimeAt(ms: number, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
    millisecond: ((ms % 1000) + 1000) % 1000,
  };
}

const asUtc = (wall: WallTime): number =>
  Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);

/** How far the zone's clocks are ahead of UTC at an instant (Paris in winter: one hour). */
function offsetAt(ms: number, timeZone: string): number {
  return asUtc(wallTimeAt(ms, timeZone)) - ms;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** The calendar date an instant falls on in the zone. */
export function localDateOf(ms: number, timeZone: string): LocalDate {
  const wall = wallTimeAt(ms, timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
}

/**
 * The instant a wall-clock time happens in the zone. A time that happens twice (clocks set back)
 * is its first occurrence; a time that never happens (clocks set forward) is the moment the
 * clocks jumped over it — so a day whose midnight is skipped starts when its first hour does.
 */
function instantOf(wall: WallTime, timeZone: string): number {
  const written = asUtc(wall);
  // Offsets never reach beyond ±14 hours, so the zone's offsets a day either side cover it.
  const offsets = new Set([offsetAt(written - DAY_MS, timeZone), offsetAt(written + DAY_MS, timeZone)]);
  const candidates = [...offsets].map((offset) => ({ offset, instant: written - offset })).sort((a, b) => a.instant - b.instant);
  const real = candidates.find(({ offset, instant }) => offsetAt(instant, timeZone) === offset);
  // Neither offset fits only in a skipped hour: the later reading lands just after the jump.
  return (real ?? candidates.at(-1))?.instant ?? written;
}

function parseLocalDate(date: LocalDate): { year: number; month: number; day: number } {
  const [year, month, day] = date.split('-').map(Number);
  return { year: year ?? 1970, month: month ?? 1, day: day ?? 1 };
}

/** The first instant of a calendar day in the zone. */
export function startOfLocalDay(date: LocalDate, timeZone: string): number {
  return instantOf({ ...parseLocalDate(date), hour: 0, minute: 0, second: 0, millisecond: 0 }, timeZone);
}

/** The date `days` after (or before, when negative) another. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const { year, month, day } = parseLocalDate(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

export interface LocalDay {
  date: LocalDate;
  /** Where the day starts and ends (exclusive), clipped to the period asked about. */
  startMs: number;
  endMs: number;
}

/** Every calendar day that [fromMs, toMs) touches, in order, each clipped to the period. */
export function localDaysBetween(fromMs: number, toMs: number, timeZone: string): LocalDay[] {
  if (toMs <= fromMs) return [];
  const days: LocalDay[] = [];
  const last = localDateOf(toMs - 1, timeZone);
  let date = localDateOf(fromMs, timeZone);
  let start = fromMs;
  for (;;) {
    const next = addDays(date, 1);
    const end = date === last ? toMs : Math.min(toMs, startOfLocalDay(next, timeZone));
    // A date the zone skipped altogether (Samoa jumped over 2011-12-30) has no time to count.
    if (end > start) days.push({ date, startMs: start, endMs: end });
    if (date === last) return days;
    date = next;
    start = end;
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+\- ]\d{2}:?\d{2})?)?$/i;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * An ISO 8601 date (`2025-03-01`: that day's start in the zone) or date and time
 * (`2025-03-01T09:30`, in the zone unless it carries `Z` or an offset such as `+01:00`).
 * Undefined for anything else, including dates no calendar has (`2025-02-30`).
 */
export function parseDateTime(text: string, timeZone: string): number | undefined {
  const match = DATE_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '0', zone] = match;
  const wall: WallTime = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour),
    minute: Number(minute),
    second: Number(second),
    millisecond: Math.floor(Number(`0.${fraction}`) * 1000),
  };
  const valid =
    wall.year >= 1970 &&
    wall.month >= 1 &&
    wall.month <= 12 &&
    wall.day >= 1 &&
    wall.day <= daysInMonth(wall.year, wall.month) &&
    wall.hour <= 23 &&
    wall.minute <= 59 &&
    wall.second <= 59;
  if (!valid) return undefined;
  if (!zone) return instantOf(wall, timeZone);
  if (zone.toUpperCase() === 'Z') return asUtc(wall);
  // An unencoded `+` in a query string arrives as a space.
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  if (offsetMinutes > 14 * 60) return undefined;
  return asUtc(wall) - sign * offsetMinutes * 60_000;
}

/** The midnight, in this machine's own zone, that starts the day `ms` is in (the daily budget's day). */
export function startOfMachineDay(ms: number): number {
  const day = new Date(ms);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/** The next midnight in this machine's own zone after the day `ms` is in started. */
export function nextMachineMidnight(ms: number): number {
  const next = new Date(startOfMachineDay(ms));
  next.setDate(next.getDate() + 1);
  return next.getTime();
}

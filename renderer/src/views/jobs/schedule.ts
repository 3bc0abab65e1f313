import { Cron } from 'croner';

// The same checks the service makes (main/core/jobs/schedule.ts, with the same croner), said
// before a round trip and in plain words.

/** Why a cron expression will not do, or nothing when it parses and fires. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim().replace(/\s+/g, ' ');
  if (trimmed === '') return 'Enter when to run, e.g. “0 9 * * 1-5” for 9:00 on weekdays.';
  const parts = trimmed.split(' ').length;
  if (parts !== 5 && parts !== 6) {
    return `A cron expression has 5 parts; this has ${parts}.`;
  }
  let cron: Cron;
  try {
    cron = new Cron(trimmed, { paused: true });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, '').replace(/\.$/, '');
    return `This cron expression does not parse: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}.`;
  }
  if (!cron.nextRun()) return 'This schedule never comes round: check the day and the month.';
  return undefined;
}

/** The zone's canonical name, or nothing when Intl does not know it. */
export function knownTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

export function timeZoneProblem(zone: string): string | undefined {
  if (zone.trim() === '') return 'Enter a time zone, e.g. Europe/Berlin or America/New_York.';
  if (!knownTimeZone(zone)) return `“${zone.trim()}” is not a time zone. Use a name such as Europe/Berlin or America/New_York.`;
  return undefined;
}

/** The time zones this browser knows, to pick from. */
export const timeZones = (): string[] => Intl.supportedValuesOf('timeZone');

/** When a valid cron schedule fires next in its zone, or nothing. */
export function nextCronRun(expression: string, zone: string, after: Date = new Date()): Date | undefined {
  if (cronProblem(expression) || !knownTimeZone(zone)) return undefined;
  const cron = new Cron(expression.trim().replace(/\s+/g, ' '), { paused: true, timezone: zone.trim() });
  return cron.nextRun(after) ?? undefined;
}

/** "Mon, Dec 8, 9:00 AM Europe/Berlin": a moment as the clock in that zone shows it. */
export function formatInZone(when: Date | string, zone: string): string {
  const date = typeof when === 'string' ? new Date(when) : when;
  const text = new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(date);
  return `${text} ${zone}`;
}

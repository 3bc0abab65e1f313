import { Cron } from 'croner';
import { invalidField } from '../errors.js';

/** When a job runs: a cron expression in a time zone, or a fixed interval. */
export type JobSchedule = { cron: string; timezone: string } | { intervalSeconds: number };

/** The machine's own time zone, the default for cron schedules. */
export const systemTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * An IANA zone name Intl knows, or a 400 naming the field. (croner accepts a bad zone until it
 * computes a run, so zones are checked here first.)
 */
export function validateTimeZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw invalidField('timezone', `'${zone}' is not a time zone. Use an IANA name such as Europe/Paris or America/New_York.`);
  }
}

/** A cron expression with 5 fields (minute…weekday) or 6 (seconds first), or a 400 naming the field. */
export function validateCron(expression: string): string {
  const trimmed = expression.trim().replace(/\s+/g, ' ');
  const fields = trimmed.split(' ').length;
  if (fields !== 5 && fields !== 6) {
    throw invalidField(
      'cron',
      `'${expression}' has ${fields} parts; a cron expression has 5 (minute hour day month weekday) or 6 (seconds first).`,
    );
  }
  try {
    new Cron(trimmed, { paused: true });
  } catch (error) {
    throw invalidField('cron', (error as Error).message.replace(/^CronPattern: /, ''));
  }
  return trimmed;
}

/** The first run strictly after `after` (epoch ms), or null when the schedule never fires again. */
export function nextRunAfter(schedule: JobSchedule, after: number, anchor: number): number | null {
  if ('intervalSeconds' in schedule) {
    // Intervals keep their phase from the anchor (creation or the last run), so they do not drift.
    const period = schedule.intervalSeconds * 1000;
    const elapsed = after - anchor;
    const steps = elapsed < 0 ? 0 : Math.floor(elapsed / period) + 1;
    return anchor + steps * period;
  }
  const next = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

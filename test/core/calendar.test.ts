import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, localDateOf, localDaysBetween, parseDateTime, startOfLocalDay } from '../../main/core/calendar.js';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const hours = (day: { startMs: number; endMs: number }): number => (day.endMs - day.startMs) / 3_600_000;

describe('calendar days in a time zone', () => {
  it('starts a day at local midnight, whatever the offset (half hours included)', () => {
    expect(iso(startOfLocalDay('2025-01-01', 'UTC'))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(startOfLocalDay('2025-01-01', 'Europe/Paris'))).toBe('2024-12-31T23:00:00.000Z');
    expect(iso(startOfLocalDay('2025-01-01', 'Asia/Kolkata'))).toBe('2024-12-31T18:30:00.000Z');
    expect(iso(startOfLocalDay('2025-07-01', 'America/Los_Angeles'))).toBe('2025-07-01T07:00:00.000Z');
  });

  it('gives a day 23 or 25 hours when the clocks change', () => {
    const days = localDaysBetween(Date.parse('2025-03-28T23:00:00Z'), Date.parse('2025-03-31T22:00:00Z'), 'Europe/Paris');
    expect(days.map((day) => [day.date, hours(day)])).toEqual([
      ['2025-03-29', 24],
      ['2025-03-30', 23],
      ['2025-03-31', 24],
    ]);
    const autumn = localDaysBetween(
      startOfLocalDay('2025-10-26', 'Europe/Paris'),
      startOfLocalDay('2025-10-27', 'Europe/Paris'),
      'Europe/Paris',
    );
    expect(autumn.map(hours)).toEqual([25]);
  });

  it('starts a day whose midnight was skipped at its first hour', () => {
    // São Paulo moved its clocks from midnight to 01:00 on 2018-11-04.
    const start = startOfLocalDay('2018-11-04', 'America/Sao_Paulo');
    expect(iso(start)).toBe('2018-11-04T03:00:00.000Z');
    expect(localDateOf(start, 'America/Sao_Paulo')).toBe('2018-11-04');
    expect(localDateOf(start - 1, 'America/Sao_Paulo')).toBe('2018-11-03');
  });

  it('leaves out a date the zone skipped altogether', () => {
    const days = localDaysBetween(Date.parse('2011-12-29T10:00:00Z'), Date.parse('2011-12-31T10:00:00Z'), 'Pacific/Apia');
    expect(days.map((day) => day.date)).toEqual(['2011-12-29', '2011-12-31']);
  });

  it('clips the first and last day to the period', () => {
    const days = localDaysBetween(Date.parse('2025-05-01T12:00:00Z'), Date.parse('2025-05-02T06:00:00Z'), 'UTC');
    expect(days.map((day) => [day.date, hours(day)])).toEqual([
      ['2025-05-01', 12],
      ['2025-05-02', 6],
    ]);
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2025-03-01', '2025-02-28T23:00:00.000Z'],
    ['2025-03-01T09:30', '2025-03-01T08:30:00.000Z'],
    ['2025-03-01T09:30:15.250', '2025-03-01T08:30:15.250Z'],
    ['2025-03-01T09:30:00Z', '2025-03-01T09:30:00.000Z'],
    ['2025-03-01T09:30:00-05:00', '2025-03-01T14:30:00.000Z'],
    ['2025-03-01T09:30:00 01:00', '2025-03-01T08:30:00.000Z'],
    // Skipped by the clocks going forward: the moment they jumped, as if the old offset still held.
    ['2025-03-30T02:30', '2025-03-30T01:30:00.000Z'],
    // Happens twice when the clocks go back: the first time.
    ['2025-10-26T02:30', '2025-10-26T00:30:00.000Z'],
  ])('reads %s in Paris as %s', (text, expected) => {
    expect(iso(parseDateTime(text, 'Europe/Paris'))).toBe(expected);
  });

  it.each(['yesterday', '2025-02-30', '2025-13-01', '2025-03-01T24:00', '2025-3-1', '1969-12-31', '2025-03-01T09:00+15:00'])(
    'refuses %s',
    (text) => {
      expect(parseDateTime(text, 'UTC')).toBeUndefined();
    },
  );
});

describe('canonicalTimeZone', () => {
  it('knows IANA zones and nothing else', () => {
    expect(canonicalTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
  });
});

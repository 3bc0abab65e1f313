import type { Usage } from '../api/types';

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** "12 in · 340 out"; "≈340 out" when the answer ended early and Perch estimated what it generated. */
export const formatTokens = (usage: Pick<Usage, 'input_tokens' | 'output_tokens' | 'estimated'>): string =>
  `${integer.format(usage.input_tokens)} in · ${usage.estimated ? '≈' : ''}${integer.format(usage.output_tokens)} out`;

/** Estimated cost: cents for small sums, more digits when it is under a cent. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return 'cost unknown';
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "just now", "5 minutes ago", "yesterday", or a date for older things. */
export function formatWhen(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 7 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return new Date(iso).toLocaleDateString();
}

import type { CSSProperties } from 'react';
import { formatCost } from '../../answers/format';
import type { UsageGroup } from '../../api/types';
import { formatDay } from './period';

export type ChartMetric = 'cost' | 'tokens';

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export const tokensOf = (group: UsageGroup): number =>
  group.input_tokens + group.output_tokens + group.cache_read_input_tokens + group.cache_creation_input_tokens;

const valueOf = (day: UsageGroup, metric: ChartMetric): number => (metric === 'cost' ? (day.cost_usd ?? 0) : tokensOf(day));

const describe = (day: UsageGroup, metric: ChartMetric): string =>
  metric === 'cost'
    ? `${formatCost(day.cost_usd)}, ${integer.format(day.requests)} request${day.requests === 1 ? '' : 's'}`
    : `${integer.format(tokensOf(day))} tokens, ${integer.format(day.requests)} request${day.requests === 1 ? '' : 's'}`;

/** Scale labels: dollars with cents when they matter, tokens compact (12K). */
const scaleLabel = (value: number, metric: ChartMetric): string =>
  metric === 'cost' ? formatCost(value) : compact.format(value);

/** Which days carry a date under the bars: all of a week, otherwise every seventh counted back from the last. */
const labelled = (index: number, count: number): boolean => count <= 8 || (count - 1 - index) % (count <= 16 ? 2 : 7) === 0;

/**
 * Cost (or tokens) per day as plain bars: an ordered list, so a screen reader reads each day
 * and its amount; the scale and the dates under the bars are decoration.
 */
export function UsageChart({ days, metric }: { days: UsageGroup[]; metric: ChartMetric }) {
  const max = Math.max(0, ...days.map((day) => valueOf(day, metric)));
  const first = days[0];
  const last = days.at(-1);
  const what = metric === 'cost' ? 'Estimated cost' : 'Tokens';
  const span = first && last ? `, ${formatDay(first.key)} to ${formatDay(last.key)}` : '';
  return (
    <div className="usage-chart">
      <div className="usage-chart-scale" aria-hidden="true">
        <span>{scaleLabel(max, metric)}</span>
        <span>{scaleLabel(max / 2, metric)}</span>
        <span>{scaleLabel(0, metric)}</span>
      </div>
      <ol className="usage-bars" aria-label={`${what} per day${span}`} style={{ '--days': days.length } as CSSProperties}>
        {days.map((day, index) => {
          const value = valueOf(day, metric);
          const share = max > 0 ? value / max : 0;
          const text = `${formatDay(day.key, { weekday: 'short', month: 'short', day: 'numeric' })}: ${describe(day, metric)}`;
          return (
            <li key={day.key} className="usage-day" title={text}>
              <span className="visually-hidden">{text}</span>
              <span className="usage-bar-area" aria-hidden="true">
                <span
                  className={`usage-bar${value > 0 ? '' : ' empty'}`}
                  style={{ '--share': share.toFixed(4) } as CSSProperties}
                />
              </span>
              <span className="usage-day-label" aria-hidden="true">
                {labelled(index, days.length) ? formatDay(day.key) : ''}
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

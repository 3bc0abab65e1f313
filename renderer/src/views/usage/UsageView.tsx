import { useEffect, useId, useState, type ReactNode } from 'react';
import { formatCost } from '../../answers/format';
import { messageOf } from '../../api/client';
import type { UsageGroup, UsageSummary, UsageTotals } from '../../api/types';
import { useApi } from '../../app/api-context';
import { chatHref } from '../../app/router';
import { localTimeZone, PERIODS, periodRange, type PeriodChoice } from './period';
import { tokensOf, UsageChart, type ChartMetric } from './UsageChart';
import './usage.css';

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** The three views of one period the page shows. */
interface Report {
  days: UsageSummary;
  models: UsageSummary;
  sessions: UsageSummary;
}

/** A row limit for the long tables; the rest is one click away. */
const FIRST_ROWS = 10;

function Choices<T extends string>({
  label,
  name,
  options,
  value,
  onChange,
}: {
  label: string;
  name: string;
  options: ReadonlyArray<{ id: T; label: string }>;
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <div className="segmented" role="radiogroup" aria-label={label}>
      {options.map((option) => (
        <label key={option.id} className={option.id === value ? 'checked' : undefined}>
          <input type="radio" name={name} value={option.id} checked={option.id === value} onChange={() => onChange(option.id)} />
          {option.label}
        </label>
      ))}
    </div>
  );
}

function Totals({ totals }: { totals: UsageTotals }) {
  const cacheTokens = totals.cache_read_input_tokens + totals.cache_creation_input_tokens;
  return (
    <dl className="usage-totals" aria-label="Totals">
      <div className="usage-total cost">
        <dt>Estimated cost</dt>
        <dd data-testid="usage-total-cost">{formatCost(totals.cost_usd)}</dd>
        <dd className="hint">
          From list prices
          {totals.unpriced_requests > 0 &&
            ` · ${integer.format(totals.unpriced_requests)} request${totals.unpriced_requests === 1 ? '' : 's'} with an unknown price left out`}
        </dd>
      </div>
      <div className="usage-total">
        <dt>Requests</dt>
        <dd data-testid="usage-total-requests">{integer.format(totals.requests)}</dd>
      </div>
      <div className="usage-total">
        <dt>Input tokens</dt>
        <dd>{integer.format(totals.input_tokens)}</dd>
      </div>
      <div className="usage-total">
        <dt>Output tokens</dt>
        <dd>{integer.format(totals.output_tokens)}</dd>
        {totals.estimated_requests > 0 && (
          <dd className="hint" data-testid="usage-estimated">
            {`≈ ${integer.format(totals.estimated_requests)} answer${totals.estimated_requests === 1 ? '' : 's'} ended early: estimated from the text that arrived`}
          </dd>
        )}
      </div>
      <div className="usage-total">
        <dt>Cache tokens</dt>
        <dd
          title={`${integer.format(totals.cache_read_input_tokens)} read, ${integer.format(totals.cache_creation_input_tokens)} written`}
        >
          {integer.format(cacheTokens)}
        </dd>
      </div>
    </dl>
  );
}

function Card({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const id = useId();
  return (
    <section className="usage-card" aria-labelledby={id}>
      <div className="usage-card-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** A table of groups, biggest spender first; long ones show their first rows until asked. */
function GroupTable({
  caption,
  nameHeader,
  groups,
  name,
}: {
  caption: string;
  nameHeader: string;
  groups: UsageGroup[];
  name: (group: UsageGroup) => ReactNode;
}) {
  const [all, setAll] = useState(false);
  const shown = all ? groups : groups.slice(0, FIRST_ROWS);
  return (
    <>
      <div className="usage-table-wrap">
        <table className="usage-table">
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{nameHeader}</th>
              <th scope="col" className="number roomy-only">
                Requests
              </th>
              <th scope="col" className="number wide-only">
                Input
              </th>
              <th scope="col" className="number wide-only">
                Output
              </th>
              <th scope="col" className="number wide-only">
                Cache
              </th>
              <th scope="col" className="number narrow-only">
                Tokens
              </th>
              <th scope="col" className="number">
                Cost
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((group) => (
              <tr key={group.key}>
                <th scope="row" className="usage-name" title={group.label}>
                  {name(group)}
                </th>
                <td className="number roomy-only">{integer.format(group.requests)}</td>
                <td className="number wide-only">{integer.format(group.input_tokens)}</td>
                <td className="number wide-only">{integer.format(group.output_tokens)}</td>
                <td className="number wide-only">
                  {integer.format(group.cache_read_input_tokens + group.cache_creation_input_tokens)}
                </td>
                <td className="number narrow-only">{integer.format(tokensOf(group))}</td>
                <td className="number cost" title={group.unpriced_requests > 0 ? 'Price unknown for some requests' : undefined}>
                  {group.cost_usd === null ? 'unknown' : formatCost(group.cost_usd)}
                  {group.cost_usd !== null && group.unpriced_requests > 0 ? ' +' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {groups.length > FIRST_ROWS && (
        <button className="button quiet usage-more" type="button" onClick={() => setAll((current) => !current)}>
          {all ? 'Show fewer' : `Show all ${groups.length}`}
        </button>
      )}
    </>
  );
}

/** What Perch spent: totals for a period, cost (or tokens) per day, and the biggest spenders. */
export default function UsageView() {
  const { api } = useApi();
  const [period, setPeriod] = useState<PeriodChoice>('month-rolling');
  const [metric, setMetric] = useState<ChartMetric>('cost');
  const [report, setReport] = useState<{ period: PeriodChoice; data: Report } | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    const { from, to } = periodRange(period);
    const query = (groupBy: string): Promise<UsageSummary> =>
      api.get<UsageSummary>(
        `/api/v1/usage?from=${from}&to=${to}&tz=${encodeURIComponent(localTimeZone())}&group_by=${groupBy}`,
        controller.signal,
      );
    Promise.all([query('day'), query('model'), query('session')]).then(
      ([days, models, sessions]) => {
        setError(undefined);
        setReport({ period, data: { days, models, sessions } });
      },
      (caught: unknown) => {
        if (!controller.signal.aborted) setError(messageOf(caught));
      },
    );
    return () => controller.abort();
  }, [api, period]);

  const data = report?.data;
  const loading = report?.period !== period && !error;
  const empty = data?.days.totals.requests === 0;

  return (
    <div className="usage">
      <header className="usage-header">
        <a className="button quiet" href="#/chat">
          ← Chat
        </a>
        <h1>Usage</h1>
        <Choices label="Period" name="usage-period" options={PERIODS} value={period} onChange={setPeriod} />
      </header>
      <main className="usage-body" aria-busy={loading}>
        {error && (
          <div className="notice error" role="alert">
            {error}
          </div>
        )}
        {data && (
          <>
            <Totals totals={data.days.totals} />
            <Card
              title={metric === 'cost' ? 'Cost per day' : 'Tokens per day'}
              actions={
                <Choices
                  label="Chart shows"
                  name="usage-metric"
                  options={[
                    { id: 'cost', label: 'Cost' },
                    { id: 'tokens', label: 'Tokens' },
                  ]}
                  value={metric}
                  onChange={setMetric}
                />
              }
            >
              <UsageChart days={data.days.groups} metric={metric} />
            </Card>
            {empty ? (
              <p className="usage-empty">
                Nothing spent in this period. Every answer Claude gives through Perch — in chat, from editors and scripts, on a
                schedule — counts here.
              </p>
            ) : (
              <div className="usage-tables">
                <Card title="By model">
                  <GroupTable
                    caption="Usage by model"
                    nameHeader="Model"
                    groups={data.models.groups}
                    name={(group) => <code>{group.label}</code>}
                  />
                </Card>
                <Card title="By conversation">
                  <GroupTable
                    caption="Usage by conversation"
                    nameHeader="Conversation"
                    groups={data.sessions.groups}
                    name={(group) =>
                      group.session_id ? (
                        <a href={chatHref(group.session_id)}>{group.label}</a>
                      ) : (
                        <span className="usage-source">{group.label}</span>
                      )
                    }
                  />
                </Card>
              </div>
            )}
          </>
        )}
      </main>
    </div>
  );
}

import { memoryUsage, resourceUsage } from 'node:process';
import { Counter, Gauge, Histogram, Registry, type CounterConfiguration, type HistogramConfiguration } from 'prom-client';
import type { PerchEventBus } from './events.js';
import type { UsageRow } from './storage/usage-store.js';

/** Where a call to Claude ended: `ok`, or the PerchError type it failed with. */
export interface UpstreamCall {
  model: string;
  /** `messages` (Perch's own answers) or `relay` (/v1/messages passed through). */
  path: 'messages' | 'relay';
  outcome: string;
  seconds: number;
  /** Time to the first streamed token, when there was one. */
  firstTokenSeconds?: number | undefined;
}

/** Sources of live numbers sampled at scrape time (no timers run between scrapes). */
export interface MetricsSources {
  upstreamInFlight: () => number;
  upstreamWaiting: () => number;
  spentTodayUsd: () => number;
  startedAt: Date;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Labels<L extends string> = Partial<Record<L, string | number>>;
type CounterExport<L extends string> = Awaited<ReturnType<Counter<L>['get']>>;
type HistogramExport<L extends string> = Awaited<ReturnType<Histogram<L>['get']>>;
/** A separator that cannot occur in the label values used here. */
const SEP = '\u0000';

/**
 * Most model names kept as label values. A client names any model it likes: only names Claude
 * has answered to become labels, and at most this many, so made-up names cannot grow the
 * metrics without bound; the rest count under `other`.
 */
export const MAX_MODEL_LABELS = 32;
export const OTHER_MODEL = 'other';

/*
 * prom-client validates and hashes the labels on every inc() and observe() — a few µs each,
 * five to seven times for every relayed request. The two classes below keep each series under
 * a key the caller builds cheaply (a string of the label values), and hand prom-client the
 * values only when /metrics is read. Write them only through add() / record().
 */

interface CounterSeries<L extends string> {
  labels: Labels<L>;
  value: number;
}

class KeyedCounter<L extends string> extends Counter<L> {
  private series: Map<string, CounterSeries<L>> | undefined;

  /** Adds `amount` to the series under `key`, made with `labels()` the first time. */
  add(key: string, labels: () => Labels<L>, amount: number): void {
    let series = this.series?.get(key);
    if (!series) {
      series = { labels: labels(), value: 0 };
      (this.series ??= new Map()).set(key, series);
    }
    series.value += amount;
  }

  override async get(): Promise<CounterExport<L>> {
    const exported = await super.get();
    return { ...exported, values: [...(this.series?.values() ?? [])].map(({ labels, value }) => ({ labels, value })) };
  }

  override reset(): void {
    super.reset();
    this.series?.clear();
  }
}

interface HistogramSeries<L extends string> {
  labels: Labels<L>;
  /** Observations per bucket (not cumulative); the last slot holds those above every bound. */
  buckets: number[];
  sum: number;
  count: number;
}

class KeyedHistogram<L extends string> extends Histogram<L> {
  private series: Map<string, HistogramSeries<L>> | undefined;
  private readonly bounds: readonly number[];
  private readonly about: { name: string; help: string; aggregator: NonNullable<HistogramConfiguration<L>['aggregator']> };

  constructor(configuration: HistogramConfiguration<L> & { buckets: number[] }) {
    super(configuration);
    this.bounds = [...configuration.buckets];
    this.about = { name: configuration.name, help: configuration.help, aggregator: configuration.aggregator ?? 'sum' };
  }

  /** Counts `value` in the series under `key`, made with `labels()` the first time. */
  record(key: string, labels: () => Labels<L>, value: number): void {
    let series = this.series?.get(key);
    if (!series) {
      series = {
        labels: labels(),
        buckets: this.bounds.map(() => 0).concat(0),
        sum: 0,
        count: 0,
      };
      (this.series ??= new Map()).set(key, series);
    }
    let index = 0;
    while (index < this.bounds.length && value > (this.bounds[index] as number)) index += 1;
    series.buckets[index] = (series.buckets[index] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  /** What prom-client's histogram gives the registry (which prefers this method to get()). */
  getForPromString(): Promise<HistogramExport<L>> {
    return Promise.resolve(this.export(true));
  }

  override get(): Promise<HistogramExport<L>> {
    return Promise.resolve(this.export(false));
  }

  override reset(): void {
    super.reset();
    this.series?.clear();
  }

  /**
   * The values in prom-client's own order and shape: for the text format the series' labels go
   * apart as `sharedLabels` (formatted once per series), for get() they are merged in.
   */
  private export(shared: boolean): HistogramExport<L> {
    const { name, help, aggregator } = this.about;
    const values: Array<Record<string, unknown>> = [];
    const push = (metricName: string, own: Record<string, number | string>, labels: Labels<L>, value: number): void => {
      values.push(
        shared ? { labels: own, sharedLabels: labels, value, metricName } : { labels: { ...own, ...labels }, value, metricName },
      );
    };
    for (const series of this.series?.values() ?? []) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.buckets[index] as number;
        push(`${name}_bucket`, { le: bound }, series.labels, cumulative);
      });
      push(`${name}_bucket`, { le: '+Inf' }, series.labels, series.count);
      push(`${name}_sum`, {}, series.labels, series.sum);
      push(`${name}_count`, {}, series.labels, series.count);
    }
    // The declared type says an enum; prom-client itself uses the string.
    return { name, help, type: 'histogram', aggregator, values } as unknown as HistogramExport<L>;
  }
}

const counter = <L extends string>(configuration: CounterConfiguration<L>) => new KeyedCounter<L>(configuration);
const histogram = <L extends string>(configuration: HistogramConfiguration<L> & { buckets: number[] }) =>
  new KeyedHistogram<L>(configuration);

/**
 * Perch's Prometheus metrics (`GET /metrics`), in a registry of their own. Process metrics are
 * computed when scraped: prom-client's default collectors include an event-loop monitor that
 * wakes the process every few milliseconds, which a tray app running all day cannot afford.
 */
export class PerchMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: KeyedCounter<'method' | 'route' | 'status'>;
  private readonly httpDuration: KeyedHistogram<'method' | 'route'>;
  private readonly upstreamCalls: KeyedCounter<'model' | 'path' | 'outcome'>;
  private readonly upstreamDuration: KeyedHistogram<'model' | 'path'>;
  private readonly firstToken: KeyedHistogram<'model' | 'path'>;
  private readonly tokens: KeyedCounter<'model' | 'source' | 'kind'>;
  private readonly cost: KeyedCounter<'model' | 'source'>;
  private readonly scheduledRuns: Counter<'outcome'>;
  private readonly refusals: Counter<'reason'>;
  private streams = 0;
  private readonly modelLabels = new Set<string>();

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.httpRequests = counter({
      name: 'perch_http_requests_total',
      help: 'HTTP requests answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = histogram({
      name: 'perch_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the end of the body, streams included).',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamCalls = counter({
      name: 'perch_upstream_requests_total',
      help: 'Calls to Claude, by model, path and outcome (ok or the error type).',
      labelNames: ['model', 'path', 'outcome'],
      registers,
    });
    this.upstreamDuration = histogram({
      name: 'perch_upstream_request_duration_seconds',
      help: 'Duration of calls to Claude, to the end of the answer.',
      labelNames: ['model', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstToken = histogram({
      name: 'perch_upstream_time_to_first_token_seconds',
      help: 'Time from asking Claude to the first streamed token.',
      labelNames: ['model', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = counter({
      name: 'perch_tokens_total',
      help: 'Tokens used, by model, source and kind (input, output, cache_read, cache_creation).',
      labelNames: ['model', 'source', 'kind'],
      registers,
    });
    this.cost = counter({
      name: 'perch_cost_usd_total',
      help: 'Estimated cost in US dollars, from list prices, by model and source.',
      labelNames: ['model', 'source'],
      registers,
    });
    this.scheduledRuns = new Counter({
      name: 'perch_scheduled_runs_total',
      help: 'Scheduled prompt runs, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.refusals = new Counter({
      name: 'perch_refused_requests_total',
      help: 'Requests refused to protect the upstream or the budget (rate_limited, daily_budget_reached, overloaded).',
      labelNames: ['reason'],
      registers,
    });
    const streams = (): number => this.streams;
    new Gauge({
      name: 'perch_active_streams',
      help: 'Answers streaming to clients now.',
      registers,
      collect() {
        this.set(streams());
      },
    });
    new Gauge({
      name: 'perch_upstream_in_flight',
      help: 'Calls to Claude running now.',
      registers,
      collect() {
        this.set(sources.upstreamInFlight());
      },
    });
    new Gauge({
      name: 'perch_upstream_waiting',
      help: 'Calls to Claude waiting for a slot (claude.maxConcurrentRequests).',
      registers,
      collect() {
        this.set(sources.upstreamWaiting());
      },
    });
    new Gauge({
      name: 'perch_spent_today_usd',
      help: 'Estimated spend since local midnight, in US dollars.',
      registers,
      collect() {
        this.set(sources.spentTodayUsd());
      },
    });
    this.processMetrics(sources.startedAt, registers);
  }

  /** Follows the core's events: scheduled runs. */
  follow(events: PerchEventBus): void {
    events.on('job:finished', ({ status }) => this.scheduledRuns.inc({ outcome: status }));
  }

  http(method: string, route: string, status: number, seconds: number): void {
    const key = `${method}${SEP}${route}`;
    const statusKey = `${key}${SEP}${status}`;
    this.httpRequests.add(statusKey, () => ({ method, route, status: String(status) }), 1);
    this.httpDuration.record(key, () => ({ method, route }), seconds);
  }

  /** The label for a model: its name once Claude has answered to it (up to the cap), else `other`. */
  private modelLabel(model: string, answered: boolean): string {
    if (this.modelLabels.has(model)) return model;
    if (!answered || this.modelLabels.size >= MAX_MODEL_LABELS) return OTHER_MODEL;
    this.modelLabels.add(model);
    return model;
  }

  upstream(call: UpstreamCall): void {
    const { path } = call;
    const model = this.modelLabel(call.model, call.outcome === 'ok');
    const key = `${model}${SEP}${path}`;
    const outcomeKey = `${key}${SEP}${call.outcome}`;
    this.upstreamCalls.add(outcomeKey, () => ({ model, path, outcome: call.outcome }), 1);
    this.upstreamDuration.record(key, () => ({ model, path }), call.seconds);
    if (call.firstTokenSeconds !== undefined) this.firstToken.record(key, () => ({ model, path }), call.firstTokenSeconds);
  }

  usage(row: UsageRow): void {
    const { source } = row;
    // Usage is recorded only for answers, so the name is one Claude answered to.
    const model = this.modelLabel(row.model, true);
    const key = `${model}${SEP}${source}`;
    const add = (kind: string, tokens: number): void => {
      // A counter only goes up; prom-client would throw on anything else.
      if (!(tokens >= 0) || !Number.isFinite(tokens)) return;
      this.tokens.add(`${key}${SEP}${kind}`, () => ({ model, source, kind }), tokens);
    };
    add('input', row.input_tokens);
    add('output', row.output_tokens);
    if (row.cache_read_input_tokens > 0) add('cache_read', row.cache_read_input_tokens);
    if (row.cache_creation_input_tokens > 0) add('cache_creation', row.cache_creation_input_tokens);
    if (row.cost_usd !== null && row.cost_usd >= 0 && Number.isFinite(row.cost_usd))
      this.cost.add(key, () => ({ model, source }), row.cost_usd);
  }

  refused(reason: 'rate_limited' | 'daily_budget_reached' | 'overloaded'): void {
    this.refusals.inc({ reason });
  }

  /** Counts a streaming answer until the returned function is called. */
  streamStarted(): () => void {
    this.streams += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.streams -= 1;
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private processMetrics(startedAt: Date, registers: Registry[]): void {
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      registers,
      collect() {
        this.set(memoryUsage.rss());
      },
    });
    new Gauge({
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes.',
      registers,
      collect() {
        this.set(memoryUsage().heapUsed);
      },
    });
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time spent, in seconds.',
      registers,
      collect() {
        const { userCPUTime, systemCPUTime } = resourceUsage();
        this.reset();
        this.inc((userCPUTime + systemCPUTime) / 1e6);
      },
    });
    new Gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch, in seconds.',
      registers,
      collect() {
        this.set(Math.floor(startedAt.getTime() / 1000));
      },
    });
  }
}

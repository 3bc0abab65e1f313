import { memoryUsage, resourceUsage } from 'node:process';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
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

/**
 * Perch's Prometheus metrics (`GET /metrics`), in a registry of their own. Process metrics are
 * computed when scraped: prom-client's default collectors include an event-loop monitor that
 * wakes the process every few milliseconds, which a tray app running all day cannot afford.
 */
export class PerchMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly upstreamCalls: Counter<'model' | 'path' | 'outcome'>;
  private readonly upstreamDuration: Histogram<'model' | 'path'>;
  private readonly firstToken: Histogram<'model' | 'path'>;
  private readonly tokens: Counter<'model' | 'source' | 'kind'>;
  private readonly cost: Counter<'model' | 'source'>;
  private readonly scheduledRuns: Counter<'outcome'>;
  private readonly refusals: Counter<'reason'>;
  private readonly activeStreams: Gauge;
  private streams = 0;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'perch_http_requests_total',
      help: 'HTTP requests answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'perch_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the end of the body, streams included).',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamCalls = new Counter({
      name: 'perch_upstream_requests_total',
      help: 'Calls to Claude, by model, path and outcome (ok or the error type).',
      labelNames: ['model', 'path', 'outcome'],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'perch_upstream_request_duration_seconds',
      help: 'Duration of calls to Claude, to the end of the answer.',
      labelNames: ['model', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstToken = new Histogram({
      name: 'perch_upstream_time_to_first_token_seconds',
      help: 'Time from asking Claude to the first streamed token.',
      labelNames: ['model', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'perch_tokens_total',
      help: 'Tokens used, by model, source and kind (input, output, cache_read, cache_creation).',
      labelNames: ['model', 'source', 'kind'],
      registers,
    });
    this.cost = new Counter({
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
    this.activeStreams = new Gauge({ name: 'perch_active_streams', help: 'Answers streaming to clients now.', registers });
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
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }

  upstream(call: UpstreamCall): void {
    const labels = { model: call.model, path: call.path };
    this.upstreamCalls.inc({ ...labels, outcome: call.outcome });
    this.upstreamDuration.observe(labels, call.seconds);
    if (call.firstTokenSeconds !== undefined) this.firstToken.observe(labels, call.firstTokenSeconds);
  }

  usage(row: UsageRow): void {
    const labels = { model: row.model, source: row.source };
    this.tokens.inc({ ...labels, kind: 'input' }, row.input_tokens);
    this.tokens.inc({ ...labels, kind: 'output' }, row.output_tokens);
    if (row.cache_read_input_tokens > 0) this.tokens.inc({ ...labels, kind: 'cache_read' }, row.cache_read_input_tokens);
    if (row.cache_creation_input_tokens > 0) {
      this.tokens.inc({ ...labels, kind: 'cache_creation' }, row.cache_creation_input_tokens);
    }
    if (row.cost_usd !== null) this.cost.inc(labels, row.cost_usd);
  }

  refused(reason: 'rate_limited' | 'daily_budget_reached' | 'overloaded'): void {
    this.refusals.inc({ reason });
  }

  /** Counts a streaming answer until the returned function is called. */
  streamStarted(): () => void {
    this.streams += 1;
    this.activeStreams.set(this.streams);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.streams -= 1;
      this.activeStreams.set(this.streams);
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

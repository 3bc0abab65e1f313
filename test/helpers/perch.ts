import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Clock } from '../../main/core/clock.js';
import type { OutputChannels } from '../../main/core/jobs/outputs.js';
import { openLogFile, type LogFileOptions, type RotatingLogFile } from '../../main/core/log-files.js';
import { createLogger } from '../../main/core/logger.js';
import { SseReader, type ServerSentEvent } from '../../main/core/sse-reader.js';
import { startService, type RunningService, type StartServiceOptions } from '../../main/service.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';

export const TEST_API_KEY = 'sk-ant-test-key-0123456789abcdef';

export interface TestPerch {
  service: RunningService;
  upstream: FakeAnthropic;
  url: string;
  token: string;
  dataDir: string;
  /** Every log line the service wrote. */
  logs: string[];
  /** The rotating log file in `<dataDir>/logs`, when asked for with `logFile`. */
  logFile: RotatingLogFile | undefined;
  env: NodeJS.ProcessEnv;
  /** fetch against the service with the token (override headers to test refusals). */
  request(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** Stops the service and starts it again on the same data folder and upstream. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestPerchOptions {
  /** null: no API key configured. */
  apiKey?: string | null;
  dataDir?: string;
  /** SDK retries for HTTP errors (0 keeps error tests fast). */
  maxRetries?: number;
  env?: NodeJS.ProcessEnv;
  staticDir?: string;
  upstream?: FakeAnthropic;
  /** Makes requests carrying this secret in x-perch-desktop count as the desktop app's. */
  desktopSecret?: string;
  /** Time for schedules. */
  clock?: Clock;
  /** Where job results go. */
  outputs?: OutputChannels;
  /** Also log to the rotating file in `<dataDir>/logs` (closed, so complete, once stop() returns). */
  logFile?: boolean | LogFileOptions;
  /** Short HTTP timeouts and a small connection bound, for the client-fault tests. */
  http?: Pick<StartServiceOptions, 'httpTimeouts' | 'maxConnections'>;
}

export function temporaryDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'perch-test-'));
}

/** Starts a real Perch service on an ephemeral port against a fresh fake Anthropic upstream. */
export async function startTestPerch(options: TestPerchOptions = {}): Promise<TestPerch> {
  const upstream = options.upstream ?? (await startFakeAnthropic({ apiKey: TEST_API_KEY }));
  const dataDir = options.dataDir ?? temporaryDataDir();
  const apiKey = options.apiKey === undefined ? TEST_API_KEY : options.apiKey;
  const env: NodeJS.ProcessEnv = {
    // What a shell has (a task's agent gets these and nothing else of Perch's environment).
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PERCH_UPSTREAM_URL: upstream.url,
    ...(apiKey ? { ANTHROPIC_API_KEY: apiKey } : {}),
    ...options.env,
  };
  const logs: string[] = [];
  const logFile = options.logFile ? openLogFile(dataDir, options.logFile === true ? {} : options.logFile) : undefined;
  const logger = createLogger({
    level: 'debug',
    ...(logFile ? { file: logFile } : {}),
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs.push(chunk.toString('utf8'));
        callback();
      },
    }),
  });
  const launch = (): Promise<RunningService> =>
    startService({
      dataDir,
      env,
      logger,
      port: 0,
      staticDir: options.staticDir,
      claude: { maxRetries: options.maxRetries ?? 0, streamRetryDelayMs: 5 },
      desktopSecret: options.desktopSecret,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.outputs ? { outputs: options.outputs } : {}),
      ...options.http,
    });

  let service = await launch();
  const perch: TestPerch = {
    get service() {
      return service;
    },
    upstream,
    get url() {
      return service.url;
    },
    get token() {
      return service.core.tokens.get();
    },
    dataDir,
    logs,
    logFile,
    env,
    request(pathname, init = {}) {
      const { json, headers, ...rest } = init;
      const merged = new Headers(headers);
      if (!merged.has('authorization') && !merged.has('x-api-key'))
        merged.set('authorization', `Bearer ${service.core.tokens.get()}`);
      if (json !== undefined && !merged.has('content-type')) merged.set('content-type', 'application/json');
      return fetch(`${service.url}${pathname}`, {
        ...rest,
        headers: merged,
        ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}),
      });
    },
    async restart() {
      await service.stop({ graceMs: 1000 });
      service = await launch();
    },
    async stop() {
      await service.stop({ graceMs: 1000 });
      await logFile?.close();
      if (!options.upstream) await upstream.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return perch;
}

export type SseEvent = ServerSentEvent;

/** Parses a complete Server-Sent Events body into its events (comments skipped). */
export function parseSse(text: string): SseEvent[] {
  return new SseReader().push(text.endsWith('\n\n') ? text : `${text}\n\n`);
}

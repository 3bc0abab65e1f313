import pino, { type DestinationStream, type Logger } from 'pino';
import { MIN_SECRET_LENGTH, REDACTED, redactSecrets } from './errors.js';

export type { Logger };

/**
 * Fields that could carry a secret, censored wherever they appear in a log record. Values
 * that slip into other fields (an upstream error echoing the key, a stack trace) are caught
 * by the secret scrubbing in createLogger instead.
 */
export const REDACTED_PATHS = [
  'apiKey',
  'token',
  'authorization',
  'cookie',
  'webhookSecret',
  'signingSecret',
  'desktopSecret',
  '*.apiKey',
  '*.token',
  '*.authorization',
  '*.cookie',
  '*.webhookSecret',
  '*.signingSecret',
  '*.desktopSecret',
  'settings.github.token',
  'settings.github.webhookSecret',
  'settings.slack.signingSecret',
  ...['headers', 'req.headers', 'request.headers'].flatMap((headers) =>
    [
      'authorization',
      'x-api-key',
      'cookie',
      'set-cookie',
      'x-perch-desktop',
      'x-hub-signature',
      'x-hub-signature-256',
      'x-slack-signature',
    ].map((name) => `${headers}["${name}"]`),
  ),
];

/** Where the values never to log come from (the API key, the client token, webhook secrets). */
export type SecretSource = () => Iterable<string | undefined>;

/** How long a read of the secret sources is reused: records are many, secrets rarely change. */
const SECRETS_FRESH_MS = 1_000;

/**
 * The last stop before any sink: replaces every known secret value in the serialized record —
 * message, error, stack trace, any field — and hands the line to each sink.
 */
class SecretScrubber implements DestinationStream {
  source: SecretSource | undefined;
  private secrets: string[] = [];
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sinks: readonly DestinationStream[],
    private readonly fixed: SecretSource | undefined,
  ) {}

  write(line: string): void {
    const text = redactSecrets(line, this.current());
    for (const sink of this.sinks) sink.write(text);
  }

  /** pino's `logger.flush(callback)`: waits for the sinks that buffer. */
  flush(callback?: (error?: Error) => void): void {
    const flushing = this.sinks.map(
      (sink) =>
        new Promise<void>((resolve) => {
          const flushable = sink as { flush?: (done: () => void) => unknown };
          if (typeof flushable.flush === 'function') flushable.flush(() => resolve());
          else resolve();
        }),
    );
    void Promise.all(flushing).then(() => callback?.());
  }

  /** Forget the cached values (after a secret changed). */
  refresh(): void {
    this.readAt = Number.NEGATIVE_INFINITY;
  }

  private current(): string[] {
    const now = performance.now();
    if (now - this.readAt < SECRETS_FRESH_MS) return this.secrets;
    this.readAt = now;
    const found = new Set<string>();
    for (const source of [this.fixed, this.source]) {
      if (!source) continue;
      try {
        for (const value of source()) {
          if (!value || value.length < MIN_SECRET_LENGTH) continue;
          found.add(value);
          // As the value appears inside a JSON string when it holds quotes or backslashes.
          const escaped = JSON.stringify(value).slice(1, -1);
          if (escaped !== value) found.add(escaped);
        }
      } catch {
        // A source that cannot answer (its store closed): keep what it said last.
        for (const previous of this.secrets) found.add(previous);
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...found].sort((a, b) => b.length - a.length);
    return this.secrets;
  }
}

/** What the service knows that must never be logged: the parts of PerchCore that hold secrets. */
export interface SecretHolder {
  apiKeys: { get(): string | undefined };
  tokens: { get(): string };
  desktopSecret?: string | undefined;
  currentSettings(): {
    github: { token: string; webhookSecret: string };
    slack: { signingSecret: string };
  };
}

/**
 * Makes `logger` (and its children) replace the holder's secrets wherever they occur in a
 * record: the API key, the client token, the desktop app's secret and the webhook secrets.
 * A later call replaces the earlier holder (a restarted service).
 */
export function redactSecretsOf(logger: Logger, holder: SecretHolder): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  if (!(stream instanceof SecretScrubber)) return;
  stream.source = () => {
    const settings = holder.currentSettings();
    return [
      holder.apiKeys.get(),
      holder.tokens.get(),
      holder.desktopSecret,
      settings.github.token,
      settings.github.webhookSecret,
      settings.slack.signingSecret,
    ];
  };
  stream.refresh();
}

export interface LoggerOptions {
  /** Short human-readable lines on stdout (TerminalLines) instead of JSON. */
  pretty?: boolean;
  level?: string;
  /** Where records go instead of stdout. */
  destination?: DestinationStream;
  /**
   * Also write every record, as JSON, here: the rotating log file (log-files.ts). With a file
   * and neither `pretty` nor `destination`, the file is the only sink.
   */
  file?: DestinationStream;
  /** Values never to log, besides those redactSecretsOf adds (e.g. a key from the environment). */
  secrets?: SecretSource;
}

const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: 'TRACE', color: '90' },
  20: { name: 'DEBUG', color: '90' },
  30: { name: 'INFO', color: '32' },
  40: { name: 'WARN', color: '33' },
  50: { name: 'ERROR', color: '31' },
  60: { name: 'FATAL', color: '31' },
};

const twoDigits = (value: number): string => String(value).padStart(2, '0');

/** How long terminal lines may wait to go out together. */
const TERMINAL_FLUSH_MS = 50;

/**
 * One short line per record for a terminal: `12:04:05 INFO POST /api/v1/chat 200 41.2 ms`.
 * Cheap enough to run on every request (pino-pretty's general formatter was a tenth of the
 * relay's CPU time in profiles).
 */
export class TerminalLines implements DestinationStream {
  /** Lines waiting to go out in one write. */
  private pending = '';
  private readonly flushSoon = (): void => this.flush();
  /** The last second formatted, as lines come many to a second (local time costs a zone lookup). */
  private second = { at: Number.NaN, text: '' };

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly colors: boolean = Boolean((process.stdout as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR,
  ) {
    // Whatever is still waiting when the process exits (process.exit right after a last line).
    process.once('exit', this.flushSoon);
  }

  write(line: string): void {
    let record: { level: number; time: number; msg?: string; err?: { message?: string } };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      this.queue(line);
      return;
    }
    const time = this.clockTime(record.time);
    const level = LEVELS[record.level] ?? { name: String(record.level), color: '0' };
    const name = this.colors ? `\u001b[${level.color}m${level.name}\u001b[0m` : level.name;
    const detail = record.err?.message ? `: ${record.err.message}` : '';
    this.queue(`${time} ${name} ${record.msg ?? ''}${detail}\n`);
  }

  private clockTime(epochMs: number): string {
    const at = Math.floor(epochMs / 1000);
    if (at !== this.second.at) {
      const date = new Date(epochMs);
      this.second = {
        at,
        text: `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}`,
      };
    }
    return this.second.text;
  }

  /** Sends what is waiting now (pino's flush, and at exit). */
  flush(callback?: (error?: Error) => void): void {
    if (this.pending !== '') {
      const text = this.pending;
      this.pending = '';
      this.out.write(text);
    }
    callback?.();
  }

  // A busy service logs a line per request: one write per TERMINAL_FLUSH_MS instead of one each (stdout
  // to a file or pipe is a synchronous system call per write). Too short a wait to notice in a
  // terminal, and no timer at all while nothing is logged.
  private queue(text: string): void {
    if (this.pending === '') setTimeout(this.flushSoon, TERMINAL_FLUSH_MS).unref();
    this.pending += text;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    base: undefined,
  };
  const sinks: DestinationStream[] = [];
  if (options.destination) sinks.push(options.destination);
  else if (options.pretty) sinks.push(new TerminalLines());
  else if (!options.file) sinks.push(pino.destination());
  if (options.file) sinks.push(options.file);
  return pino(base, new SecretScrubber(sinks, options.secrets));
}

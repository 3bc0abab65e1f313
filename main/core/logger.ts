import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Fields that could carry a secret, censored wherever they appear in a log record. */
export const REDACTED_PATHS = [
  'apiKey',
  'token',
  'authorization',
  '*.apiKey',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

export interface LoggerOptions {
  /** Human-readable lines for a terminal instead of JSON. */
  pretty?: boolean;
  level?: string;
  /** Where records go (default: stdout). */
  destination?: DestinationStream;
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

/**
 * One short line per record for a terminal: `12:04:05 INFO POST /api/v1/chat 200 41.2 ms`.
 * Cheap enough to run on every request (pino-pretty's general formatter was a tenth of the
 * relay's CPU time in profiles).
 */
export class TerminalLines implements DestinationStream {
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly colors: boolean = Boolean((process.stdout as { isTTY?: boolean }).isTTY) && !process.env.NO_COLOR,
  ) {}

  write(line: string): void {
    let record: { level: number; time: number; msg?: string; err?: { message?: string } };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      this.out.write(line);
      return;
    }
    const at = new Date(record.time);
    const time = `${twoDigits(at.getHours())}:${twoDigits(at.getMinutes())}:${twoDigits(at.getSeconds())}`;
    const level = LEVELS[record.level] ?? { name: String(record.level), color: '0' };
    const name = this.colors ? `\u001b[${level.color}m${level.name}\u001b[0m` : level.name;
    const detail = record.err?.message ? `: ${record.err.message}` : '';
    this.out.write(`${time} ${name} ${record.msg ?? ''}${detail}\n`);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) return pino(base, new TerminalLines());
  return pino(base);
}

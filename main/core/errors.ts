/**
 * Every failure a person or a client can act on is a PerchError: a stable machine-readable
 * `type`, a message that says what to do, and the HTTP status the API answers with.
 */
export class PerchError extends Error {
  readonly type: string;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(type: string, status: number, message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PerchError';
    this.type = type;
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export const invalidRequest = (message: string): PerchError => new PerchError('invalid_request_error', 400, message);

export const notFound = (message: string): PerchError => new PerchError('not_found_error', 404, message);

export const noApiKey = (): PerchError =>
  new PerchError(
    'no_api_key',
    503,
    'No Anthropic API key is configured yet. Add it in Settings, set ANTHROPIC_API_KEY before starting Perch, or run npx perch config set apiKey - on this machine (it reads the key from stdin).',
  );

export const isPerchError = (value: unknown): value is PerchError => value instanceof PerchError;

/** Secret values shorter than this are too likely to be ordinary words to replace everywhere. */
export const MIN_SECRET_LENGTH = 8;
export const REDACTED = '[redacted]';

/** Replaces every secret value found in a text (an upstream echoing a key, a stack trace, a log line). */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret && secret.length >= MIN_SECRET_LENGTH && result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

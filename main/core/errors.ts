import { describeFieldProblems, type FieldProblem } from './field-problems.js';

/**
 * Every failure a person or a client can act on is a PerchError: a stable machine-readable
 * `type`, a message that says what to do, and the HTTP status the API answers with.
 */
export class PerchError extends Error {
  readonly type: string;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as Retry-After). */
  readonly retryAfterSeconds: number | undefined;
  /** The fields at fault, each with its own message, for a form to show next to its controls. */
  readonly fields: readonly FieldProblem[] | undefined;

  constructor(
    type: string,
    status: number,
    message: string,
    options?: { retryAfterSeconds?: number; cause?: unknown; fields?: readonly FieldProblem[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PerchError';
    this.type = type;
    this.status = status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.fields = options?.fields?.length ? options.fields : undefined;
  }
}

export const invalidRequest = (message: string): PerchError => new PerchError('invalid_request_error', 400, message);

/** A 400 about fields of the request, each named in the message and listed in `fields`. */
export const invalidFields = (problems: readonly FieldProblem[], type = 'invalid_request_error'): PerchError =>
  new PerchError(type, 400, describeFieldProblems(problems), { fields: problems });

/** A 400 about one field: "Invalid field 'cron': …", with the field in `fields`. */
export const invalidField = (field: string, message: string): PerchError => invalidFields([{ field, message }]);

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

/**
 * Checks a request's fields all at once: each check that fails with field problems adds them,
 * and `finish()` throws every one in one 400, so a form can mark all its wrong fields together.
 * Any other error (a 403, a 404) is thrown at once.
 */
export class FieldChecks {
  private readonly problems: FieldProblem[] = [];

  /** The check's result, or undefined when it found field problems (kept for `finish`). */
  check<T>(run: () => T): T | undefined {
    try {
      return run();
    } catch (error) {
      if (!isPerchError(error) || error.status !== 400 || !error.fields) throw error;
      for (const { field, message } of error.fields) this.add(field, message);
      return undefined;
    }
  }

  add(field: string, message: string): void {
    if (!this.problems.some((known) => known.field === field)) this.problems.push({ field, message });
  }

  finish(): void {
    if (this.problems.length > 0) throw invalidFields(this.problems);
  }
}

// The error classes alone: the client itself loads on first use (it is most of Perch's start-up time).
import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk/core/error';
import { PerchError } from '../errors.js';
import { describeFailure } from '../system-errors.js';

/** What went wrong talking to Claude, mapped to the status and type Perch answers with. */
export interface UpstreamErrorContext {
  upstreamUrl: string;
  timeoutSeconds: number;
  /** True when Perch itself stopped waiting (the stream went silent for too long). */
  timedOut: boolean;
}

const isOverload = (type: string | null | undefined, status: number | undefined): boolean =>
  type === 'overloaded_error' || status === 529;

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Overloads and transient server errors that arrive inside a 200 stream (not retried by the SDK). */
export function isRetryableStreamError(error: unknown): boolean {
  return (
    error instanceof APIError &&
    error.status === undefined &&
    !(error instanceof APIConnectionError) &&
    (error.type === 'overloaded_error' || error.type === 'api_error')
  );
}

/** Why Anthropic could not be reached, in plain words: "Could not connect to … at …: connection refused." */
export function unreachableMessage(upstreamUrl: string, error: unknown): string {
  const { reason } = describeFailure(error, { peer: 'Anthropic' });
  return `Could not connect to the Anthropic API at ${upstreamUrl}: ${reason}. Check the network connection and the upstream URL setting.`;
}

/** Why an answer that had started streaming broke off: "Anthropic closed the connection before the answer finished." */
export function cutMessage(error: unknown): string {
  const failure = describeFailure(error, { peer: 'Anthropic' });
  return failure.kind === 'closed'
    ? `${failure.reason.charAt(0).toUpperCase()}${failure.reason.slice(1)} before the answer finished.`
    : `The connection to Anthropic broke before the answer finished: ${failure.reason}.`;
}

export function cancelledError(): PerchError {
  return new PerchError('cancelled', 499, 'The answer was cancelled before it finished.');
}

export function mapUpstreamError(error: unknown, context: UpstreamErrorContext): PerchError {
  if (error instanceof PerchError) return error;
  if (context.timedOut || error instanceof APIConnectionTimeoutError) {
    return new PerchError(
      'upstream_timeout',
      504,
      `Claude did not respond within ${context.timeoutSeconds} seconds. Try again, or raise claude.timeoutSeconds.`,
      { cause: error },
    );
  }
  if (error instanceof APIConnectionError) {
    return new PerchError('upstream_unreachable', 502, unreachableMessage(context.upstreamUrl, error), { cause: error });
  }
  if (error instanceof APIError) {
    const reason = error.apiMessage ?? error.message;
    // The SDK's error generics default to `any`; these are what it documents.
    const status = error.status as number | undefined;
    const headers = error.headers as Headers | undefined;
    if (isOverload(error.type, status)) {
      return new PerchError('upstream_overloaded', 503, `Claude is overloaded right now (${reason}). Try again in a moment.`, {
        retryAfterSeconds: retryAfterSeconds(headers) ?? 5,
        cause: error,
      });
    }
    switch (status) {
      case undefined:
        return new PerchError('upstream_error', 502, `Claude reported an error mid-answer: ${reason}`, { cause: error });
      case 400:
      case 404:
      case 422:
        return new PerchError('invalid_request_error', 400, `Claude rejected the request: ${reason}`, { cause: error });
      case 401:
        return new PerchError(
          'upstream_auth_error',
          502,
          `The Anthropic API rejected the API key (${reason}). Set a valid key in Settings, or run npx perch config set apiKey - on this machine (it reads the key from stdin).`,
          { cause: error },
        );
      case 402:
      case 403:
        return new PerchError('upstream_permission_error', 502, `The Anthropic API refused the request (${status}: ${reason}).`, {
          cause: error,
        });
      case 413:
        return new PerchError('request_too_large', 413, `The request is too large for Claude: ${reason}`, { cause: error });
      case 429:
        return new PerchError('rate_limit_error', 429, `The Anthropic API rate limit was reached: ${reason}`, {
          retryAfterSeconds: retryAfterSeconds(headers),
          cause: error,
        });
      case 408:
      case 504:
        return new PerchError('upstream_timeout', 504, `The Anthropic API timed out (${status}: ${reason}). Try again.`, {
          cause: error,
        });
      default:
        return new PerchError('upstream_error', 502, `The Anthropic API failed (${status}: ${reason}). Try again in a moment.`, {
          cause: error,
        });
    }
  }
  return new PerchError('upstream_error', 502, cutMessage(error), { cause: error });
}

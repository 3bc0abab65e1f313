import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { PerchError, isPerchError, redactSecrets } from '../core/errors.js';

/**
 * The one error shape every route answers with: `{"error": {"type", "message"}}`, and
 * `fields` (each bad field's dotted path and message) when the request had fields wrong.
 */
export interface ErrorBody {
  error: { type: string; message: string; fields?: ReadonlyArray<{ field: string; message: string }> };
  [extra: string]: unknown;
}

/**
 * The error shape of the compatible APIs under /v1: Anthropic's (`type: "error"` beside the
 * error) with OpenAI's `code` and `param` inside, so both families of SDKs read it.
 */
export function compatErrorBody(error: PerchError, secrets: ReadonlyArray<string | undefined>): Record<string, unknown> {
  const message = redactSecrets(error.message, secrets);
  return { type: 'error', error: { type: error.type, message, code: error.type, param: error.fields?.[0]?.field ?? null } };
}

export const isCompatPath = (path: string): boolean => path.startsWith('/v1/');

function errorFields(error: PerchError, secrets: ReadonlyArray<string | undefined>): ErrorBody['error'] {
  const message = redactSecrets(error.message, secrets);
  if (!error.fields) return { type: error.type, message };
  const fields = error.fields.map((problem) => ({ field: problem.field, message: redactSecrets(problem.message, secrets) }));
  return { type: error.type, message, fields };
}

/** Writes an error answer on any Node response (the relay's fast path has no express). */
export function writeError(
  res: ServerResponse,
  error: PerchError,
  secrets: ReadonlyArray<string | undefined>,
  compat: boolean,
  extra: Record<string, unknown> = {},
): void {
  if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
  if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="perch"');
  // SDK clients retry 5xx answers; a missing key will not fix itself.
  if (error.type === 'no_api_key') res.setHeader('x-should-retry', 'false');
  const body = compat ? compatErrorBody(error, secrets) : { error: errorFields(error, secrets), ...extra };
  const text = JSON.stringify(body);
  res.statusCode = error.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(
  res: Response,
  error: PerchError,
  secrets: ReadonlyArray<string | undefined>,
  extra: Record<string, unknown> = {},
): void {
  writeError(res, error, secrets, isCompatPath(res.req.path), extra);
}

interface HttpParserError extends Error {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

const MB = 1024 * 1024;

/** A body over `api.maxBodyMb`, however it was found out (declared, parsed or relayed). */
export const bodyTooLarge = (maxBodyMb: number): PerchError =>
  new PerchError('request_too_large', 413, `The request body is larger than the ${maxBodyMb} MB limit (setting api.maxBodyMb).`);

/** An upload over `api.maxUploadMb`. */
export const uploadTooLarge = (maxUploadMb: number): PerchError =>
  new PerchError('request_too_large', 413, `The upload is larger than the ${maxUploadMb} MB limit (setting api.maxUploadMb).`);

/** Translates what express, body-parser and multer throw into PerchErrors a person can act on. */
export function toPerchError(error: unknown, limits: { maxBodyMb: number; maxUploadMb: number }): PerchError {
  if (isPerchError(error)) return error;
  if (error instanceof multer.MulterError) {
    switch (error.code) {
      case 'LIMIT_FILE_SIZE':
        return uploadTooLarge(limits.maxUploadMb);
      case 'LIMIT_UNEXPECTED_FILE':
        return new PerchError(
          'invalid_request_error',
          400,
          `Unexpected file field '${error.field ?? ''}': send one file in the field 'file'.`,
        );
      default:
        return new PerchError('invalid_request_error', 400, `The multipart upload is malformed: ${error.message}.`);
    }
  }
  const parserError = error as HttpParserError;
  switch (parserError.type) {
    case 'entity.parse.failed':
      return new PerchError('invalid_json', 400, `The request body is not valid JSON: ${parserError.message}.`);
    case 'entity.too.large':
      return bodyTooLarge(limits.maxBodyMb);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new PerchError('unsupported_media_type', 415, `${parserError.message}. Send UTF-8 JSON.`);
    case 'request.aborted':
    case 'request.size.invalid':
      return new PerchError('invalid_request_error', 400, 'The request body ended before it was complete.');
    default:
      break;
  }
  const status = parserError.status ?? parserError.statusCode;
  if (status && status >= 400 && status < 500 && parserError.expose !== false) {
    // busboy and friends: malformed multipart bodies and the like.
    return new PerchError('invalid_request_error', status, parserError.message);
  }
  if (error instanceof Error && /multipart|boundary|unexpected end of form/i.test(error.message)) {
    return new PerchError('invalid_request_error', 400, `The multipart upload is malformed: ${error.message}.`);
  }
  return new PerchError('internal_error', 500, 'Perch hit an unexpected error. The details are in its log.', { cause: error });
}

export function errorHandler(
  logger: Logger,
  limits: () => { maxBodyMb: number; maxUploadMb: number },
  secrets: () => ReadonlyArray<string | undefined>,
): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    const perchError = toPerchError(error, limits());
    if (perchError.status >= 500 && perchError.type === 'internal_error') {
      const cause = error instanceof Error ? error : new Error(String(error));
      logger.error(
        {
          err: { message: redactSecrets(cause.message, secrets()), stack: redactSecrets(cause.stack ?? '', secrets()) },
          path: req.path,
        },
        'unexpected error',
      );
    }
    if (res.headersSent) {
      next(error);
      return;
    }
    sendError(res, perchError, secrets());
  };
}

export { MB };

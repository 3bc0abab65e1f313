import type { RequestHandler, Response } from 'express';
import type { ExportFile } from '../../core/export.js';
import { PerchError } from '../../core/errors.js';
import type { PerchCore } from '../../core/perch-core.js';
import type { ChangeOrigin } from '../../core/settings/change-policy.js';
import type { CredentialContext } from '../credentials.js';

/** What every route needs: the core, and the secrets to keep out of any answer. */
export interface RouteContext {
  core: PerchCore;
  secrets: () => ReadonlyArray<string | undefined>;
  /** Where the service listens, for status reports. */
  listening: () => { host: string; port: number; url: string };
  /** How requests prove who they are (token or the web UI's cookie). */
  credentials: CredentialContext;
}

/** 405 for a known path called with the wrong method, naming the right ones. */
export const methodNotAllowed =
  (...allowed: string[]): RequestHandler =>
  (req, res, next) => {
    res.setHeader('Allow', allowed.join(', '));
    next(
      new PerchError('method_not_allowed', 405, `${req.method} is not supported on ${req.path}; use ${allowed.join(' or ')}.`),
    );
  };

/** `null` from a JSON client means "not given". */
export const given = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/**
 * Who is asking, for changes that only the trusted side may make: the desktop app's own windows
 * (they carry its per-launch secret), or any other client holding the token.
 */
export const originOf = (res: Response): ChangeOrigin => (res.locals.desktop === true ? 'desktop' : 'client');

/** A conversation or transcript as a download. */
export function sendExport(res: Response, file: ExportFile): void {
  res.setHeader('Content-Type', file.contentType);
  res.setHeader('Content-Disposition', `attachment; filename="${file.filename}"`);
  res.send(file.body);
}

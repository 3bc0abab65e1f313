import type { TLSSocket } from 'node:tls';
import express, { Router, type Request } from 'express';
import { clearedSessionCookieHeader, sessionCookieHeader } from '../../core/browser-sessions.js';
import { PerchError } from '../../core/errors.js';
import { desktopOnly } from '../../core/settings/change-policy.js';
import { checkCredentials } from '../credentials.js';
import { checkContentType, guard } from '../guards.js';
import { proofQuery, signInRequest } from '../schemas.js';
import { tokenProof } from '../../core/secrets.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, type RouteContext } from './context.js';

const overTls = (req: Request): boolean => (req.socket as Partial<TLSSocket>).encrypted === true;

/**
 * Signing a browser in: the token, shown once, becomes an HttpOnly, SameSite=Strict cookie
 * (the token itself is never stored by the page). These routes need no credential of their own.
 */
export function authRoutes(context: RouteContext): { publicRouter: Router; privateRouter: Router } {
  const { core } = context;
  const publicRouter = Router();
  publicRouter.use(
    '/api/v1/auth/session',
    guard((req) => checkContentType(req, false)),
    express.json({ limit: '16kb' }),
  );
  publicRouter
    .route('/api/v1/auth/session')
    .post((req, res) => {
      const { token } = parseInput(signInRequest, req.body);
      const cookie = core.browserSessions.signIn(token);
      if (!cookie)
        throw new PerchError(
          'authentication_error',
          401,
          'That is not the API token. Print it with npx perch token on this machine.',
        );
      res.setHeader('Set-Cookie', sessionCookieHeader(cookie, overTls(req)));
      res.setHeader('Cache-Control', 'no-store');
      res.status(204).end();
    })
    .get((req, res) => {
      // Lets the web UI ask whether it is signed in without a failing request in the console.
      res.setHeader('Cache-Control', 'no-store');
      res.json({ signed_in: !(checkCredentials(context.credentials, req) instanceof PerchError) });
    })
    .delete((req, res) => {
      res.setHeader('Set-Cookie', clearedSessionCookieHeader(overTls(req)));
      res.status(204).end();
    })
    .all(methodNotAllowed('GET', 'POST', 'DELETE'));

  publicRouter
    .route('/api/v1/auth/proof')
    .get((req, res) => {
      // Public by design: clients ask before they send the token, to learn that this is Perch.
      const { nonce } = parseInput(proofQuery, req.query);
      const port = context.listening().port;
      res.setHeader('Cache-Control', 'no-store');
      res.json({ proof: tokenProof(core.tokens.get(), nonce, port), port });
    })
    .all(methodNotAllowed('GET'));

  const privateRouter = Router();
  privateRouter
    .route('/api/v1/auth/token')
    .get((_req, res) => {
      // Only for a client that already holds a credential: Settings shows it for copying.
      res.json({ token: core.tokens.get() });
    })
    .all(methodNotAllowed('GET'));
  privateRouter
    .route('/api/v1/auth/token/regenerate')
    .post((_req, res) => {
      if (!res.locals.desktop) throw desktopOnly('The API token');
      res.json({ token: core.tokens.regenerate() });
    })
    .all(methodNotAllowed('POST'));
  return { publicRouter, privateRouter };
}

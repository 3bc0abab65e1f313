import { Router } from 'express';
import type { RouteContext } from './context.js';

/** Webhooks (GitHub pull requests, Slack commands): authenticated by their signatures. */
export function webhookRoutes(_context: RouteContext): Router {
  return Router();
}

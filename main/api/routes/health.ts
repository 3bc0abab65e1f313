import { Router, type RequestHandler } from 'express';
import type { RouteContext } from './context.js';
import { methodNotAllowed } from './context.js';

/** Health for probes (no auth, nothing secret) and status for authenticated clients. */
export function healthRoutes(context: RouteContext): { publicRouter: Router; privateRouter: Router } {
  const { core } = context;
  const publicRouter = Router();
  const publicHealth: RequestHandler = (_req, res) => {
    const health = core.health();
    res.status(health.status === 'error' ? 503 : 200).json({
      status: health.status,
      version: health.version,
      checks: {
        database: health.checks.database.status,
        disk: health.checks.disk.status,
        upstream: health.checks.upstream.state,
      },
    });
  };
  publicRouter.route('/api/v1/health').get(publicHealth).all(methodNotAllowed('GET'));
  publicRouter.route('/health').get(publicHealth).all(methodNotAllowed('GET'));

  const privateRouter = Router();
  privateRouter
    .route('/api/v1/status')
    .get((_req, res) => {
      const health = core.health();
      const settings = core.currentSettings();
      res.json({
        status: health.status,
        version: core.version,
        pid: process.pid,
        started_at: core.startedAt.toISOString(),
        uptime_seconds: Math.round((Date.now() - core.startedAt.getTime()) / 1000),
        listening: context.listening(),
        model: settings.claude.model,
        max_tokens: settings.claude.maxTokens,
        api_key: { configured: core.apiKeys.get() !== undefined, source: core.apiKeys.origin() ?? null },
        upstream: { url: settings.claude.upstreamUrl, ...health.checks.upstream },
        checks: health.checks,
        history: core.conversations.counts(),
        active_answers: core.chat.activeAnswers,
        data_dir: core.dataDir,
      });
    })
    .all(methodNotAllowed('GET'));

  privateRouter
    .route('/api/v1/openapi.json')
    .get(async (_req, res) => {
      // The document (and the response schemas it is built from) loads when first asked for, not at start.
      const { openApiDocument } = await import('../openapi.js');
      res.json(openApiDocument(core.version, context.listening().url));
    })
    .all(methodNotAllowed('GET'));

  // The seed's status path, kept for its clients.
  privateRouter
    .route('/api/status')
    .get((_req, res) => {
      const settings = core.currentSettings();
      res.json({
        status: 'running',
        version: core.version,
        model: settings.claude.model,
        port: context.listening().port,
        api_key_configured: core.apiKeys.get() !== undefined,
        health: core.health().status,
      });
    })
    .all(methodNotAllowed('GET'));
  return { publicRouter, privateRouter };
}

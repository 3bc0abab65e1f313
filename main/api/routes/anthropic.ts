import { Router } from 'express';
import { notFound } from '../../core/errors.js';
import type { ModelInfo } from '../../core/claude/claude-client.js';
import type { AnthropicRelay } from '../anthropic-relay.js';
import { methodNotAllowed, type RouteContext } from './context.js';

/**
 * One model entry both SDKs accept: Anthropic's fields (`type`, `display_name`,
 * `created_at`) and OpenAI's (`object`, `created`, `owned_by`).
 */
function listedModel(model: ModelInfo): Record<string, unknown> {
  return {
    type: 'model',
    id: model.id,
    display_name: model.display_name,
    created_at: model.created_at,
    object: 'model',
    created: Math.floor(Date.parse(model.created_at) / 1000) || 0,
    owned_by: 'anthropic',
  };
}

const queryOf = (url: string): string => (url.includes('?') ? url.slice(url.indexOf('?')) : '');

/** Paths whose bodies go upstream as they are (never parsed by Perch). */
export const RELAY_PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);

/** The Anthropic-compatible API: the Messages relay, token counting, and the model list. */
export function anthropicRoutes(context: RouteContext, relay: AnthropicRelay): Router {
  const router = Router();
  router
    .route('/v1/messages')
    .post((req, res) => relay.forward(req, res, '/v1/messages', queryOf(req.originalUrl), { recordUsage: true }))
    .all(methodNotAllowed('POST'));
  router
    .route('/v1/messages/count_tokens')
    .post((req, res) => relay.forward(req, res, '/v1/messages/count_tokens', queryOf(req.originalUrl), { recordUsage: false }))
    .all(methodNotAllowed('POST'));

  router
    .route('/v1/models')
    .get(async (_req, res) => {
      const data = (await context.core.claude.listModels()).models.map(listedModel);
      res.json({ object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    })
    .all(methodNotAllowed('GET'));
  router
    .route('/v1/models/:id')
    .get(async (req, res) => {
      const model = (await context.core.claude.listModels()).models.find((candidate) => candidate.id === req.params.id);
      if (!model) throw notFound(`No model '${req.params.id}'. GET /v1/models lists them.`);
      res.json(listedModel(model));
    })
    .all(methodNotAllowed('GET'));
  return router;
}

import { Router } from 'express';
import { methodNotAllowed, type RouteContext } from './context.js';

/** Claude's models, from the upstream's own list (cached), and which one Perch uses by default. */
export function modelRoutes({ core }: RouteContext): Router {
  const router = Router();
  router
    .route('/api/v1/models')
    .get(async (_req, res) => {
      const { models } = await core.claude.listModels();
      res.json({ models, default_model: core.currentSettings().claude.model });
    })
    .all(methodNotAllowed('GET'));
  return router;
}

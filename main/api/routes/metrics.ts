import { Router } from 'express';
import { methodNotAllowed, type RouteContext } from './context.js';

/** `GET /metrics`: Prometheus text, behind the token like every other non-public route. */
export function metricsRoutes({ core }: RouteContext): Router {
  const router = Router();
  router
    .route('/metrics')
    .get(async (_req, res) => {
      const { contentType, body } = await core.metrics.render();
      res.setHeader('Content-Type', contentType);
      res.send(body);
    })
    .all(methodNotAllowed('GET'));
  return router;
}

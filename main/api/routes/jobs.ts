import { Router } from 'express';
import { createJobRequest, runsQuery, updateJobRequest } from '../schemas.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, originOf, type RouteContext } from './context.js';

/** Scheduled prompts: create, list, change, delete, run now, and each job's run history. */
export function jobRoutes({ core }: RouteContext): Router {
  const router = Router();
  router
    .route('/api/v1/jobs')
    .get((_req, res) => {
      res.json({ jobs: core.jobs.list(), outputs_dir: core.jobs.outputsDir });
    })
    .post((req, res) => {
      res.status(201).json(core.jobs.create(parseInput(createJobRequest, req.body), originOf(res)));
    })
    .all(methodNotAllowed('GET', 'POST'));
  router
    .route('/api/v1/jobs/:id')
    .get((req, res) => {
      res.json(core.jobs.get(req.params.id));
    })
    .patch((req, res) => {
      res.json(core.jobs.update(req.params.id, parseInput(updateJobRequest, req.body), originOf(res)));
    })
    .delete((req, res) => {
      core.jobs.remove(req.params.id);
      res.status(204).end();
    })
    .all(methodNotAllowed('GET', 'PATCH', 'DELETE'));
  router
    .route('/api/v1/jobs/:id/run')
    .post((req, res) => {
      // The run goes on in the background; its record says how it went (GET …/runs).
      res.status(202).json({ run: core.jobs.runNow(req.params.id) });
    })
    .all(methodNotAllowed('POST'));
  router
    .route('/api/v1/jobs/:id/runs')
    .get((req, res) => {
      const query = parseInput(runsQuery, req.query);
      res.json(core.jobs.runs(req.params.id, query.limit, query.before));
    })
    .all(methodNotAllowed('GET'));
  return router;
}

import { Router } from 'express';
import { systemTimeZone } from '../../core/jobs/schedule.js';
import { canonicalTimeZone } from '../../core/calendar.js';
import { resolveUsagePeriod } from '../../core/usage-period.js';
import { usageQuery } from '../schemas.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, type RouteContext } from './context.js';

/** What Perch spent: tokens and estimated cost over a period, by day, model, session or source. */
export function usageRoutes({ core }: RouteContext): Router {
  const router = Router();
  router
    .route('/api/v1/usage')
    .get((req, res) => {
      const query = parseInput(usageQuery, req.query);
      const timeZone = (query.tz === undefined ? undefined : canonicalTimeZone(query.tz)) ?? systemTimeZone();
      const { fromMs, toMs } = resolveUsagePeriod({ from: query.from, to: query.to, timeZone, now: core.clock.now() });
      const summary = core.usage.summarize({ fromMs, toMs, groupBy: query.group_by, timeZone });
      res.json({
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        group_by: query.group_by,
        time_zone: timeZone,
        ...summary,
      });
    })
    .all(methodNotAllowed('GET'));
  return router;
}

import type { RouteDoc } from './openapi.js';
import { errorResponse } from './response-schemas.js';

/** Routes for running Perch: what monitoring scrapes. */
export const OPERATIONS_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/metrics',
    summary:
      'Prometheus metrics (scrape with the token as a bearer token): HTTP requests and latency by route, calls to Claude by model and outcome with latency and time to first token, tokens and estimated cost, active streams, scheduled runs, refusals, process memory and CPU.',
    tag: 'Operations',
    responses: {
      200: { description: 'Metrics', text: 'Prometheus text exposition format 0.0.4' },
      401: { description: 'Missing or wrong API token', schema: errorResponse },
    },
  },
];

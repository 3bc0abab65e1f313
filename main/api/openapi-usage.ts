import type { RouteDoc } from './openapi.js';
import { errorResponse, usageSummary } from './response-schemas.js';
import { usageQuery } from './schemas.js';

/** The usage report, as the OpenAPI document describes it. */
export const USAGE_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/usage',
    summary:
      'What Perch spent: requests, tokens and estimated cost over a period (default: the last 30 days), in total and by day, model, session or source.',
    tag: 'Usage',
    query: usageQuery,
    responses: {
      200: { description: 'Totals and groups', schema: usageSummary },
      400: {
        description: 'A date, group_by or tz that cannot be read, from not before to, or more than 366 days',
        schema: errorResponse,
      },
      401: { description: 'Missing or wrong API token', schema: errorResponse },
    },
  },
];

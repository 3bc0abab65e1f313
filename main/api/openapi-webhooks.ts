import type { RouteDoc } from './openapi.js';

/** The webhook routes, as the OpenAPI document describes them. */
export const WEBHOOK_ROUTES: RouteDoc[] = [];

import { z } from 'zod';
import type { RouteDoc } from './openapi.js';
import { errorResponse, reviewList, startedRun } from './response-schemas.js';
import { listReviewsQuery } from './routes/webhooks.js';

/** `POST /webhook/github` answers. */
export const githubPing = z.object({ ok: z.literal(true), zen: z.string().optional() });
export const githubAccepted = z.object({
  accepted: z.literal(true),
  review_id: z.string().meta({ description: 'Follow it in GET /api/v1/reviews.' }),
});
export const webhookIgnored = z.object({ ignored: z.string().meta({ description: 'Why nothing was done.' }) });
export const webhookDuplicate = z.object({ duplicate: z.literal(true) });

/** `POST /webhook/slack` acknowledgement (the answer follows at the command's response_url). */
export const slackAck = z.object({ response_type: z.literal('ephemeral'), text: z.string() });

const githubPayload = z.looseObject({}).meta({
  description:
    "GitHub's webhook payload, unchanged (content type application/json). Perch reads the pull_request, issue_comment and ping events; signed with X-Hub-Signature-256.",
});

const error = (description: string): { description: string; schema: z.ZodType } => ({ description, schema: errorResponse });

/** The webhook routes, as the OpenAPI document describes them. */
export const WEBHOOK_ROUTES: RouteDoc[] = [
  {
    method: 'post',
    path: '/webhook/github',
    summary:
      'GitHub webhook (X-Hub-Signature-256 with github.webhookSecret, no token): reviews pull requests in the background and comments on them.',
    tag: 'Webhooks',
    public: true,
    body: githubPayload,
    responses: {
      200: { description: 'A ping, or a delivery handled before', schema: z.union([githubPing, webhookDuplicate]) },
      202: { description: 'Review started, or the event asks for nothing', schema: z.union([githubAccepted, webhookIgnored]) },
      400: error('Not JSON, a payload without the fields a review needs, or no X-GitHub-Delivery'),
      401: error('No secret configured, or a missing or wrong signature'),
      413: error('Body over api.maxBodyMb'),
    },
  },
  {
    method: 'post',
    path: '/webhook/slack',
    summary:
      'Slack slash command (form-encoded; X-Slack-Signature with slack.signingSecret, no token): acknowledges at once and posts the answer to response_url.',
    tag: 'Webhooks',
    public: true,
    responses: {
      200: { description: 'Ephemeral acknowledgement (or a usage hint for an empty command)', schema: slackAck },
      400: error('A response_url that is not http(s)'),
      401: error('No signing secret configured, a wrong signature, or a timestamp more than 5 minutes off'),
      413: error('Body over api.maxBodyMb'),
    },
  },
  {
    method: 'post',
    path: '/webhook/jobs/:id',
    summary:
      "A job's own webhook (no token): a POST signed with the job's webhook secret — X-Perch-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>, or GitHub's X-Hub-Signature-256 — runs the job; the body, in any content type, fills {{payload}} in its prompt.",
    tag: 'Webhooks',
    public: true,
    responses: {
      200: {
        description:
          "GitHub's ping when the hook is added, or a delivery (same X-GitHub-Delivery or Idempotency-Key) that ran the job before: nothing runs",
        schema: z.union([githubPing, webhookDuplicate]),
      },
      202: { description: 'The run, started', schema: startedRun },
      401: error('A missing or wrong signature'),
      404: error('No job with a webhook at this address'),
      409: error('The job is running already, or disabled'),
      413: error('Body over api.maxBodyMb'),
      429: error('More deliveries than rateLimit.webhooksPerMinute'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/reviews',
    summary: 'Pull-request reviews Perch has run (from GitHub webhooks), newest first.',
    tag: 'Webhooks',
    query: listReviewsQuery,
    responses: {
      200: { description: 'Reviews', schema: reviewList },
      400: error('A limit outside 1–200'),
      401: error('Missing or wrong API token'),
    },
  },
];

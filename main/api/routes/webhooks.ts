import express, { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { PerchError, invalidRequest, notFound } from '../../core/errors.js';
import { JOB_WEBHOOKS } from '../../core/jobs/job-store.js';
import { decideGitHubEvent } from '../../core/webhooks/github-events.js';
import { webhookServices, type WebhookServicesOptions } from '../../core/webhooks/index.js';
import { verifyGitHubSignature, verifyJobSignature, verifySlackSignature } from '../../core/webhooks/signatures.js';
import { parseSlashCommand } from '../../core/webhooks/slack-command.js';
import { MB } from '../errors.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, type RouteContext } from './context.js';

export const GITHUB_WEBHOOK_PATH = '/webhook/github';
export const SLACK_WEBHOOK_PATH = '/webhook/slack';
/** A job's own webhook (the id names the job; its secret signs the body). */
export const JOB_WEBHOOK_PATH = `${JOB_WEBHOOKS}/:id`;

const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The exact bytes the provider signed (no parser has touched them). */
const rawBody = (req: Request): Buffer => (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));

/** GitHub's delivery GUID: printable ASCII, the key that makes a redelivery do the work once. */
function deliveryIdOf(req: Request): string {
  const id = header(req, 'x-github-delivery')?.trim() ?? '';
  if (!/^[\x21-\x7e]{1,200}$/.test(id)) {
    throw invalidRequest('The request has no valid X-GitHub-Delivery header (GitHub sends one with every delivery).');
  }
  return id;
}

/**
 * Webhooks (GitHub pull requests, Slack commands): authenticated by their signatures, not the
 * token. `countDelivery` (the rate limit) sees only deliveries whose signature holds, so unsigned
 * posts — which any web page can send — never use up the real sender's allowance.
 */
export function webhookRoutes(
  context: RouteContext,
  countDelivery: RequestHandler,
  options: WebhookServicesOptions = {},
): Router {
  const { core } = context;
  const services = webhookServices(core, { secrets: context.secrets, ...options });
  const router = Router();

  // Signatures cover the exact bytes sent, so the body is read raw, in any content type
  // (Slack posts forms), up to the same limit as other bodies; encoded bodies are refused.
  const rawParsers = new Map<number, RequestHandler>();
  const readRaw: RequestHandler = (req, res, next) => {
    const limit = core.currentSettings().api.maxBodyMb;
    let parser = rawParsers.get(limit);
    if (!parser) {
      parser = express.raw({ type: () => true, limit: limit * MB, inflate: false });
      rawParsers.set(limit, parser);
    }
    res.setHeader('Cache-Control', 'no-store');
    parser(req, res, next);
  };

  const verifyGitHub: RequestHandler = (req, _res, next) => {
    verifyGitHubSignature({
      secret: core.currentSettings().github.webhookSecret,
      body: rawBody(req),
      signature: header(req, 'x-hub-signature-256'),
    });
    next();
  };
  const verifySlack: RequestHandler = (req, _res, next) => {
    verifySlackSignature({
      secret: core.currentSettings().slack.signingSecret,
      body: rawBody(req),
      timestamp: header(req, 'x-slack-request-timestamp'),
      signature: header(req, 'x-slack-signature'),
      nowMs: services.now(),
    });
    next();
  };

  router
    .route(GITHUB_WEBHOOK_PATH)
    .post(readRaw, verifyGitHub, countDelivery, (req, res) => {
      const settings = core.currentSettings();
      const body = rawBody(req);
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        throw new PerchError(
          'invalid_json',
          400,
          'The webhook body is not valid JSON. Set the GitHub webhook\'s content type to "application/json".',
        );
      }
      const decision = decideGitHubEvent(header(req, 'x-github-event'), payload, settings.github);
      switch (decision.kind) {
        case 'ping':
          res.json({ ok: true, ...(decision.zen === undefined ? {} : { zen: decision.zen }) });
          return;
        case 'ignore':
          res.status(202).json({ ignored: decision.reason });
          return;
        case 'review': {
          const accepted = services.github.accept(deliveryIdOf(req), decision.target);
          if (!accepted) {
            res.json({ duplicate: true });
            return;
          }
          res.status(202).json({ accepted: true, review_id: accepted.reviewId });
          return;
        }
      }
    })
    .all(methodNotAllowed('POST'));

  // A job's webhook: checked against that job's own secret; an unknown job or one without a
  // webhook is a 404, before any rate limit is counted.
  const verifyJob: RequestHandler = (req, _res, next) => {
    const id = String(req.params.id);
    const secret = core.jobs.webhookSecret(id);
    if (!secret) {
      throw notFound(
        "No job with a webhook at this address. Turn on the job's webhook in Perch and copy its address from there.",
      );
    }
    verifyJobSignature({
      secret,
      body: rawBody(req),
      signatures: [header(req, 'x-perch-signature-256'), header(req, 'x-hub-signature-256')],
    });
    next();
  };

  router
    .route(JOB_WEBHOOK_PATH)
    .post(readRaw, verifyJob, countDelivery, (req, res) => {
      // GitHub checks a new hook with a ping: answer it without running the job.
      if (header(req, 'x-github-event') === 'ping') {
        res.json({ ok: true });
        return;
      }
      // A sender's delivery id (GitHub's, or any sender's Idempotency-Key) makes a redelivery run the job once.
      const delivery = (header(req, 'x-github-delivery') ?? header(req, 'idempotency-key'))?.trim();
      const claim =
        delivery && /^[\x21-\x7e]{1,200}$/.test(delivery)
          ? () => services.reviews.claimDelivery(`job:${req.params.id}`, delivery)
          : undefined;
      const run = core.jobs.runFromWebhook(req.params.id, rawBody(req).toString('utf8'), claim);
      if (!run) {
        res.json({ duplicate: true });
        return;
      }
      res.status(202).json({ run });
    })
    .all(methodNotAllowed('POST'));

  router
    .route(SLACK_WEBHOOK_PATH)
    .post(readRaw, verifySlack, countDelivery, (req, res) => {
      res.json(services.slack.accept(parseSlashCommand(rawBody(req))));
    })
    .all(methodNotAllowed('POST'));

  return router;
}

export const listReviewsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/**
 * Reviews Perch has run, newest first. Token-protected: mount it among the API routers
 * (after the credential check), not with the public webhook router.
 */
export function reviewRoutes(context: RouteContext): Router {
  const services = webhookServices(context.core, { secrets: context.secrets });
  const router = Router();
  router
    .route('/api/v1/reviews')
    .get((req, res) => {
      const query = parseInput(listReviewsQuery, req.query);
      res.json({ reviews: services.reviews.list(query.limit) });
    })
    .all(methodNotAllowed('GET'));
  return router;
}

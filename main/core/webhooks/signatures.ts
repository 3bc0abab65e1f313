import { createHmac } from 'node:crypto';
import { PerchError } from '../errors.js';
import { secretsMatch } from '../secrets.js';

/**
 * Webhook signatures. Every comparison is constant-time (both sides are hashed to equal
 * length first), and no message ever contains the secret or the expected signature.
 */

/** Slack refuses requests whose timestamp is further than this from the clock (replays). */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export const hmacSha256Hex = (secret: string, ...parts: ReadonlyArray<string | Buffer>): string => {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
};

const unauthorized = (type: string, message: string): PerchError => new PerchError(type, 401, message);

/** Whether `signature` is `sha256=<hex HMAC-SHA256 of body>` keyed with `secret` (constant time). */
const sha256SignatureMatches = (secret: string, body: Buffer, signature: string): boolean =>
  secretsMatch(signature.trim().toLowerCase(), `sha256=${hmacSha256Hex(secret, body)}`);

/** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. Throws a 401 when it does not match. */
export function verifyGitHubSignature(input: { secret: string; body: Buffer; signature: string | undefined }): void {
  if (input.secret === '') {
    throw unauthorized(
      'webhook_not_configured',
      'GitHub webhooks are not configured: set the webhook secret with npx perch config set github.webhookSecret - on this machine (it reads the secret from stdin) and give GitHub the same secret.',
    );
  }
  if (!input.signature) {
    throw unauthorized(
      'invalid_signature',
      'The request has no X-Hub-Signature-256 header. Give the GitHub webhook a secret (the same as github.webhookSecret).',
    );
  }
  if (!sha256SignatureMatches(input.secret, input.body, input.signature)) {
    throw unauthorized(
      'invalid_signature',
      "The X-Hub-Signature-256 signature does not match: the webhook's secret differs from github.webhookSecret, or the body was changed on the way.",
    );
  }
}

/**
 * A job's webhook: `X-Perch-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` with the
 * job's own secret, or the same in GitHub's `X-Hub-Signature-256` (so a repository's webhook
 * can run a job directly). Throws a 401 when neither matches.
 */
export function verifyJobSignature(input: { secret: string; body: Buffer; signatures: Array<string | undefined> }): void {
  const given = input.signatures.filter((signature): signature is string => Boolean(signature));
  if (given.length === 0) {
    throw unauthorized(
      'invalid_signature',
      "The request has no X-Perch-Signature-256 header: sign the body with the job's webhook secret (sha256=<hex HMAC-SHA256 of the body>).",
    );
  }
  if (!given.some((signature) => sha256SignatureMatches(input.secret, input.body, signature))) {
    throw unauthorized(
      'invalid_signature',
      "The signature does not match: it was made with another secret than the job's webhook secret, or the body was changed on the way.",
    );
  }
}

/**
 * `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{raw body}">`, with
 * `X-Slack-Request-Timestamp` within five minutes of now. Throws a 401 otherwise.
 */
export function verifySlackSignature(input: {
  secret: string;
  body: Buffer;
  timestamp: string | undefined;
  signature: string | undefined;
  nowMs: number;
}): void {
  if (input.secret === '') {
    throw unauthorized(
      'webhook_not_configured',
      'Slack commands are not configured: set the signing secret with npx perch config set slack.signingSecret - on this machine (it reads the secret from stdin; Slack shows it under Basic Information → App Credentials).',
    );
  }
  if (!input.signature || !input.timestamp) {
    throw unauthorized('invalid_signature', 'The request has no X-Slack-Signature or X-Slack-Request-Timestamp header.');
  }
  const seconds = /^\d{1,12}$/.test(input.timestamp) ? Number(input.timestamp) : Number.NaN;
  if (!Number.isFinite(seconds) || Math.abs(input.nowMs / 1000 - seconds) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) {
    throw unauthorized(
      'stale_request',
      "The X-Slack-Request-Timestamp is more than 5 minutes away from this computer's clock: a replayed request, or a clock that is wrong.",
    );
  }
  const expected = `v0=${hmacSha256Hex(input.secret, `v0:${input.timestamp}:`, input.body)}`;
  if (!secretsMatch(input.signature.trim().toLowerCase(), expected)) {
    throw unauthorized(
      'invalid_signature',
      "The X-Slack-Signature does not match: the app's signing secret differs from slack.signingSecret, or the body was changed on the way.",
    );
  }
}

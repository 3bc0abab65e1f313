import { z } from 'zod';
import { invalidRequest } from '../errors.js';
import type { Settings } from '../settings/schema.js';

/**
 * Which GitHub deliveries ask for a review. Only the payload fields Perch uses are read (and
 * validated); everything else in GitHub's large payloads is ignored. The repository and the
 * pull request number come from here; URLs inside the payload are never followed.
 */

/** Hidden at the top of every comment Perch posts, so a later push updates it. */
export const REVIEW_MARKER = '<!-- perch-review -->';

/** Asks for a review in on-demand mode, in a pull request comment (any case). */
export const REVIEW_COMMAND = /@perch\s+review\b/i;

const PULL_REQUEST_ACTIONS = new Set(['opened', 'reopened', 'synchronize', 'ready_for_review']);

// GitHub owner logins and repository names; "." and ".." would change the API path.
const pathSegment = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'expected a GitHub owner or repository name')
  .refine((value) => value !== '.' && value !== '..', 'expected a GitHub owner or repository name');

const repository = z.object({
  name: pathSegment,
  owner: z.object({ login: pathSegment }),
});

const prNumber = z.number().int().positive().max(2_147_483_647);

const pullRequestPayload = z.object({
  action: z.string(),
  repository,
  label: z.object({ name: z.string() }).nullish(),
  pull_request: z.object({
    number: prNumber,
    draft: z.boolean().nullish(),
    title: z.string().nullish(),
    body: z.string().nullish(),
    head: z.object({ sha: z.string().regex(/^[0-9a-f]{7,64}$/i, 'expected a commit SHA') }),
  }),
});

const issueCommentPayload = z.object({
  action: z.string(),
  repository,
  issue: z.object({
    number: prNumber,
    title: z.string().nullish(),
    body: z.string().nullish(),
    /** Present only when the issue is a pull request. */
    pull_request: z.object({}).nullish(),
  }),
  comment: z.object({ body: z.string().nullish() }),
});

const actionOnly = z.object({ action: z.string().optional() });
const pingPayload = z.object({ zen: z.string().optional() });

/** The pull request to review. */
export interface ReviewTarget {
  owner: string;
  repo: string;
  number: number;
  /** Unknown for comment triggers until the pull request is fetched. */
  headSha: string | null;
  title: string | null;
  body: string | null;
}

export type GitHubDecision =
  | { kind: 'ping'; zen: string | undefined }
  | { kind: 'ignore'; reason: string }
  | { kind: 'review'; target: ReviewTarget; trigger: string };

export const fullName = (target: Pick<ReviewTarget, 'owner' | 'repo'>): string => `${target.owner}/${target.repo}`;

function parsePayload<Schema extends z.ZodType>(schema: Schema, payload: unknown, event: string): z.output<Schema> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    return field ? `'${field}': ${issue.message.replace(/^Invalid input: /, '')}` : issue.message;
  });
  throw invalidRequest(`The ${event} payload is not what GitHub sends: ${fields.join('; ')}.`);
}

/** Decides what a delivery asks for. Throws a 400 when a triggering payload lacks what a review needs. */
export function decideGitHubEvent(event: string | undefined, payload: unknown, github: Settings['github']): GitHubDecision {
  if (event === undefined || event === '') return { kind: 'ignore', reason: 'The request has no X-GitHub-Event header.' };
  if (event === 'ping') return { kind: 'ping', zen: pingPayload.safeParse(payload).data?.zen };
  const onDemand = github.trigger === 'on_demand';
  const action = actionOnly.safeParse(payload).data?.action ?? '';

  if (event === 'pull_request') {
    if (onDemand) {
      if (action !== 'labeled') {
        return {
          kind: 'ignore',
          reason: `pull_request '${action}': in on-demand mode only the '${github.label}' label asks for a review.`,
        };
      }
      const data = parsePayload(pullRequestPayload, payload, 'pull_request');
      if (data.label?.name !== github.label) {
        return {
          kind: 'ignore',
          reason: `The label '${data.label?.name ?? ''}' is not '${github.label}' (setting github.label).`,
        };
      }
      return { kind: 'review', target: pullTarget(data), trigger: `label '${github.label}'` };
    }
    if (!PULL_REQUEST_ACTIONS.has(action)) {
      return {
        kind: 'ignore',
        reason: `pull_request '${action}' does not ask for a review (opened, reopened, synchronize and ready_for_review do).`,
      };
    }
    const data = parsePayload(pullRequestPayload, payload, 'pull_request');
    if (data.pull_request.draft === true && action !== 'ready_for_review') {
      return { kind: 'ignore', reason: 'The pull request is a draft: it is reviewed when it is marked ready for review.' };
    }
    return { kind: 'review', target: pullTarget(data), trigger: `pull_request ${action}` };
  }

  if (event === 'issue_comment') {
    if (!onDemand) {
      return { kind: 'ignore', reason: "Comments ask for reviews only in on-demand mode (setting github.trigger 'on_demand')." };
    }
    if (action !== 'created') return { kind: 'ignore', reason: `issue_comment '${action}' does not ask for a review.` };
    const data = parsePayload(issueCommentPayload, payload, 'issue_comment');
    if (!data.issue.pull_request) return { kind: 'ignore', reason: 'The comment is on an issue, not a pull request.' };
    const text = data.comment.body ?? '';
    // Perch's own comments (which might quote the command) never trigger another review.
    if (text.includes(REVIEW_MARKER)) return { kind: 'ignore', reason: "The comment is Perch's own review." };
    if (!REVIEW_COMMAND.test(text)) return { kind: 'ignore', reason: "The comment does not contain '@perch review'." };
    return {
      kind: 'review',
      target: {
        owner: data.repository.owner.login,
        repo: data.repository.name,
        number: data.issue.number,
        headSha: null,
        title: data.issue.title ?? null,
        body: data.issue.body ?? null,
      },
      trigger: "comment '@perch review'",
    };
  }

  return { kind: 'ignore', reason: `The '${event}' event does not ask for a review.` };
}

function pullTarget(data: z.output<typeof pullRequestPayload>): ReviewTarget {
  return {
    owner: data.repository.owner.login,
    repo: data.repository.name,
    number: data.pull_request.number,
    headSha: data.pull_request.head.sha.toLowerCase(),
    title: data.pull_request.title ?? null,
    body: data.pull_request.body ?? null,
  };
}

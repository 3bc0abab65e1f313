import type { PerchCore } from '../perch-core.js';
import { BackgroundJobs } from './background.js';
import { GitHubReviewer } from './github-review.js';
import { ReviewStore } from './review-store.js';
import { SlackCommands } from './slack-command.js';

export interface WebhookServicesOptions {
  /** For tests: the fetch used for GitHub and Slack calls. */
  fetch?: typeof fetch;
  /** For tests: the clock (epoch ms) for records and Slack's timestamp check. */
  now?: () => number;
  /** Wait before retrying a failed post to Slack's response_url. */
  slackRetryDelayMs?: number;
  /** Values that must never appear in a recorded error or a Slack message. */
  secrets?: () => ReadonlyArray<string | undefined>;
  /** Told about a background job that failed in a way it could not record. */
  onUnexpected?: (error: unknown) => void;
}

export interface WebhookServices {
  reviews: ReviewStore;
  github: GitHubReviewer;
  slack: SlackCommands;
  jobs: BackgroundJobs;
  now: () => number;
  /** Lets background work (reviews, Slack answers) finish for up to `graceMs`, then stops it. */
  drain(graceMs: number): Promise<void>;
}

const services = new WeakMap<PerchCore, WebhookServices>();

/**
 * The webhook machinery of one core, made on first use and shared by everything that asks
 * (the webhook routes and the reviews list). Reviews a previous run left running are marked
 * as interrupted when it is made.
 */
export function webhookServices(core: PerchCore, options: WebhookServicesOptions = {}): WebhookServices {
  const existing = services.get(core);
  if (existing) return existing;
  const now = options.now ?? Date.now;
  const secrets = options.secrets ?? ((): ReadonlyArray<string | undefined> => [core.apiKeys.get(), core.tokens.get()]);
  const reviews = new ReviewStore(core.db, now);
  reviews.failInterrupted();
  const jobs = new BackgroundJobs(options.onUnexpected);
  const settings = () => core.currentSettings();
  const recordUsage = core.usage.record.bind(core.usage);
  const made: WebhookServices = {
    reviews,
    jobs,
    now,
    github: new GitHubReviewer({
      store: reviews,
      jobs,
      settings,
      claude: core.claude,
      recordUsage,
      events: core.events,
      secrets,
      fetch: options.fetch,
    }),
    slack: new SlackCommands({
      jobs,
      settings,
      claude: core.claude,
      recordUsage,
      canRecord: () => core.db.open,
      secrets,
      fetch: options.fetch,
      retryDelayMs: options.slackRetryDelayMs,
    }),
    drain: (graceMs) => jobs.drain(graceMs),
  };
  services.set(core, made);
  return made;
}

/** Lets the webhook work of a core finish, if any was ever started; used on shutdown. */
export async function drainWebhookWork(core: PerchCore, graceMs: number): Promise<void> {
  await services.get(core)?.drain(graceMs);
}

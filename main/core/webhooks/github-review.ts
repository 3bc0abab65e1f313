import type { ClaudeAnswer, ClaudeRequest, StreamHandlers } from '../claude/claude-client.js';
import { estimateCostUsd, type TokenUsage } from '../claude/pricing.js';
import { isPerchError, redactSecrets } from '../errors.js';
import type { PerchEventBus } from '../events.js';
import type { Settings } from '../settings/schema.js';
import type { UsageRecord } from '../storage/usage-store.js';
import type { BackgroundJobs } from './background.js';
import { describeTrim, trimDiff } from './diff.js';
import { GitHubApiError, GitHubClient } from './github-client.js';
import { REVIEW_MARKER, fullName, type ReviewTarget } from './github-events.js';
import { REVIEW_SYSTEM_PROMPT, reviewCommentBody, reviewUserMessage } from './review-prompt.js';
import type { ReviewStore } from './review-store.js';

export interface GitHubReviewerOptions {
  store: ReviewStore;
  jobs: BackgroundJobs;
  settings: () => Settings;
  claude: { stream(request: ClaudeRequest, handlers?: StreamHandlers): Promise<ClaudeAnswer> };
  recordUsage: (record: UsageRecord) => void;
  events: PerchEventBus;
  /** Values that must never appear in a recorded error. */
  secrets: () => ReadonlyArray<string | undefined>;
  fetch?: typeof fetch | undefined;
}

export const NO_TOKEN_ERROR =
  'No GitHub token is configured, so Perch cannot read the pull request or comment on it. Set one with npx perch config set github.token - on this machine (it reads the token from stdin; it needs read access to pull requests and write access to issues and pull requests), then ask for the review again.';

/** One review's progress, so whatever was spent is recorded even when a later step fails. */
interface Progress {
  headSha: string | null;
  model: string | null;
  usage: TokenUsage | null;
}

/**
 * Reviews pull requests in the background: fetch the diff, ask Claude, post (or update) one
 * comment, and record the outcome. Nothing here throws: every failure becomes a failed review.
 */
export class GitHubReviewer {
  constructor(private readonly options: GitHubReviewerOptions) {}

  /** Records the review as running and starts it; undefined when the delivery was handled before. */
  accept(deliveryId: string, target: ReviewTarget): { reviewId: string } | undefined {
    const { store, jobs } = this.options;
    const reviewId = store.startReview(deliveryId, { repo: fullName(target), prNumber: target.number, headSha: target.headSha });
    if (reviewId === undefined) return undefined;
    const key = `${fullName(target).toLowerCase()}#${target.number}`;
    void jobs.run(key, (signal) => this.review(reviewId, target, signal));
    return { reviewId };
  }

  private async review(reviewId: string, target: ReviewTarget, signal: AbortSignal): Promise<void> {
    const progress: Progress = { headSha: target.headSha, model: null, usage: null };
    try {
      const commentUrl = await this.run(target, progress, signal);
      this.finish(reviewId, target, { status: 'posted', commentUrl }, progress);
    } catch (error) {
      this.finish(reviewId, target, { status: 'failed', error: this.describe(error) }, progress);
    }
  }

  private async run(target: ReviewTarget, progress: Progress, signal: AbortSignal): Promise<string> {
    const settings = this.options.settings();
    if (settings.github.token.trim() === '') throw new GitHubApiError(NO_TOKEN_ERROR, null);
    const github = new GitHubClient({
      apiUrl: settings.github.apiUrl,
      token: settings.github.token.trim(),
      fetch: this.options.fetch,
      signal,
    });
    const ref = { owner: target.owner, repo: target.repo };
    let subject = target;
    if (target.headSha === null) {
      const pull = await github.pull(ref, target.number);
      subject = { ...target, headSha: pull.headSha, title: target.title ?? pull.title, body: target.body ?? pull.body };
      progress.headSha = pull.headSha;
    }

    const { text, cutWhileReading } = await github.diff(ref, target.number);
    if (text.trim() === '') throw new GitHubApiError('The pull request has no changes to review (its diff is empty).', null);
    const diff = trimDiff(text);
    const trimNote = describeTrim(diff, cutWhileReading);

    const model = settings.claude.model;
    progress.model = model;
    let answer: ClaudeAnswer;
    try {
      answer = await this.options.claude.stream(
        {
          model,
          max_tokens: settings.claude.maxTokens,
          system: REVIEW_SYSTEM_PROMPT,
          messages: [{ role: 'user', content: reviewUserMessage({ target: subject, diff: diff.text, trimNote }) }],
        },
        { signal },
      );
    } catch (error) {
      const failure = error as { usage?: TokenUsage; model?: string };
      if (failure.usage && failure.usage.input_tokens + failure.usage.output_tokens > 0) {
        progress.usage = failure.usage;
        progress.model = failure.model ?? model;
        this.recordUsage(progress.model, failure.usage);
      }
      throw error;
    }
    progress.model = answer.model;
    progress.usage = answer.usage;
    this.recordUsage(answer.model, answer.usage);

    const body = reviewCommentBody({
      review: answer.text,
      model: answer.model,
      headSha: progress.headSha,
      trimNote,
      cutShort: answer.stopReason === 'max_tokens',
    });
    const existing = await github.findComment(ref, target.number, REVIEW_MARKER);
    if (existing) {
      try {
        return (await github.updateComment(ref, existing.id, body)).html_url;
      } catch (error) {
        // Deleted meanwhile, or written by someone else: post a fresh one instead.
        if (!(error instanceof GitHubApiError) || (error.status !== 404 && error.status !== 403)) throw error;
      }
    }
    return (await github.createComment(ref, target.number, body)).html_url;
  }

  private recordUsage(model: string, usage: TokenUsage): void {
    if (!this.options.store.open) return;
    this.options.recordUsage({ source: 'github', model, usage });
  }

  private describe(error: unknown): string {
    let message: string;
    if (error instanceof GitHubApiError) message = error.message;
    else if (isPerchError(error)) message = `Claude could not review the pull request: ${error.message}`;
    else message = `The review failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
    const settings = this.options.store.open ? this.options.settings() : undefined;
    return redactSecrets(message, [
      ...this.options.secrets(),
      settings?.github.token,
      settings?.github.webhookSecret,
      settings?.slack.signingSecret,
    ]);
  }

  private finish(
    reviewId: string,
    target: ReviewTarget,
    outcome: { status: 'posted'; commentUrl: string } | { status: 'failed'; error: string },
    progress: Progress,
  ): void {
    // After a shutdown closed the database there is nowhere to record it; the next start
    // marks the review as interrupted.
    if (!this.options.store.open) return;
    const costUsd = progress.model && progress.usage ? estimateCostUsd(progress.model, progress.usage) : null;
    this.options.store.finish(reviewId, {
      status: outcome.status,
      headSha: progress.headSha,
      commentUrl: outcome.status === 'posted' ? outcome.commentUrl : null,
      error: outcome.status === 'failed' ? outcome.error : null,
      model: progress.model,
      usage: progress.usage,
      costUsd,
    });
    this.options.events.emit('review:finished', {
      review_id: reviewId,
      repo: fullName(target),
      pr_number: target.number,
      status: outcome.status,
    });
  }
}

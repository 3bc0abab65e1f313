import { createHmac, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reviewList } from '../../main/api/response-schemas.js';
import type { PerchEvents } from '../../main/core/events.js';
import { webhookServices } from '../../main/core/webhooks/index.js';
import type { Review } from '../../main/core/webhooks/review-store.js';
import { startFakeGitHub, type FakeGitHub } from '../fixtures/fake-github.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const SECRET = 'gh-webhook-secret-5f2c9a71';
const GITHUB_TOKEN = 'ghp_test_token_0123456789abcdef';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const NEXT_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const MARKER = '<!-- perch-review -->';

const smallDiff = [
  'diff --git a/src/parse.ts b/src/parse.ts',
  'index 1111111..2222222 100644',
  '--- a/src/parse.ts',
  '+++ b/src/parse.ts',
  '@@ -1,3 +1,4 @@',
  ' export function parse(text: string) {',
  '+  if (!text) return null;',
  '   return JSON.parse(text);',
  ' }',
  '',
].join('\n');

let perch: TestPerch;
let github: FakeGitHub;
/** A server standing in for the URLs inside payloads: Perch must never call it. */
let decoy: FakeGitHub;

beforeEach(async () => {
  [perch, github, decoy] = await Promise.all([
    startTestPerch(),
    startFakeGitHub({ token: GITHUB_TOKEN }),
    startFakeGitHub({ token: 'unused' }),
  ]);
  const settings = perch.service.core.settings;
  settings.set('github.webhookSecret', SECRET);
  settings.set('github.token', GITHUB_TOKEN);
  settings.set('github.apiUrl', github.url);
  github.addPull('o/r', 7, { diff: smallDiff, headSha: SHA, title: 'Guard empty input', body: 'Returns null for empty text.' });
});
afterEach(async () => {
  await webhookServices(perch.service.core).jobs.idle();
  await Promise.all([perch.stop(), github.stop(), decoy.stop()]);
});

const sign = (body: string, secret = SECRET): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface DeliverOptions {
  delivery?: string;
  /** null: send no signature header. */
  signature?: string | null;
  rawBody?: string;
}

function deliver(event: string, payload: unknown, options: DeliverOptions = {}): Promise<Response> {
  const body = options.rawBody ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': event,
    'x-github-delivery': options.delivery ?? randomUUID(),
  };
  if (options.signature !== null) headers['x-hub-signature-256'] = options.signature ?? sign(body);
  return fetch(`${perch.url}/webhook/github`, { method: 'POST', headers, body });
}

function pullRequestEvent(action: string, pr: { draft?: boolean; sha?: string; number?: number } = {}, extra = {}): unknown {
  const number = pr.number ?? 7;
  return {
    action,
    number,
    pull_request: {
      number,
      draft: pr.draft ?? false,
      title: 'Guard empty input',
      body: 'Returns null for empty text.',
      head: { sha: pr.sha ?? SHA, ref: 'feature' },
      // URLs inside the payload point at the decoy; Perch builds its own from github.apiUrl.
      url: `${decoy.url}/repos/evil/x/pulls/${number}`,
      diff_url: `${decoy.url}/evil.diff`,
      comments_url: `${decoy.url}/repos/evil/x/issues/${number}/comments`,
    },
    repository: { name: 'r', full_name: 'o/r', owner: { login: 'o' }, url: `${decoy.url}/repos/evil/x` },
    sender: { login: 'someone' },
    ...extra,
  };
}

function issueCommentEvent(body: string, options: { onPullRequest?: boolean } = {}): unknown {
  return {
    action: 'created',
    issue: {
      number: 7,
      title: 'Guard empty input',
      body: 'Returns null for empty text.',
      ...(options.onPullRequest === false ? {} : { pull_request: { url: `${decoy.url}/repos/evil/x/pulls/7` } }),
    },
    comment: { body, user: { login: 'someone' } },
    repository: { name: 'r', owner: { login: 'o' } },
  };
}

const reviews = (): Review[] => webhookServices(perch.service.core).reviews.list(50);
const waitForReview = async (status: 'posted' | 'failed'): Promise<Review> => {
  await expect.poll(() => reviews()[0]?.status).toBe(status);
  return reviews()[0]!;
};
const prComments = () => github.commentsOf('o/r', 7);

describe('POST /webhook/github: signatures come first', () => {
  it('refuses a request without a signature with 401, and does nothing', async () => {
    const res = await deliver('pull_request', pullRequestEvent('opened'), { signature: null });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_signature');
    expect(body.error.message).toContain('X-Hub-Signature-256');
    expect(reviews()).toEqual([]);
    expect(github.requests).toEqual([]);
  });

  it('refuses a wrong signature (another secret) with 401, and does nothing', async () => {
    const payload = JSON.stringify(pullRequestEvent('opened'));
    const res = await deliver('pull_request', undefined, { rawBody: payload, signature: sign(payload, 'another-secret') });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('does not match');
    expect(reviews()).toEqual([]);
    expect(perch.upstream.messageRequests).toEqual([]);
  });

  it('refuses a body changed after signing', async () => {
    const signed = JSON.stringify(pullRequestEvent('opened'));
    const res = await deliver('pull_request', undefined, { rawBody: signed.replace('"o"', '"p"'), signature: sign(signed) });
    expect(res.status).toBe(401);
  });

  it('says so when no webhook secret is configured', async () => {
    perch.service.core.settings.set('github.webhookSecret', '');
    const res = await deliver('ping', { zen: 'Hi' }, { signature: sign('{"zen":"Hi"}', '') });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('webhook_not_configured');
    expect(body.error.message).toContain('npx perch config set github.webhookSecret -');
  });

  it('checks the signature before parsing: bad JSON with a bad signature is 401, with a good one 400', async () => {
    expect((await deliver('push', undefined, { rawBody: '{not json', signature: 'sha256=00' })).status).toBe(401);
    const res = await deliver('push', undefined, { rawBody: '{not json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_json');
  });

  it('needs no API token, and never shows the webhook secret in answers or the log', async () => {
    const answers = [
      await deliver('ping', { zen: 'Keep it logically awesome.' }),
      await deliver('ping', {}, { signature: 'sha256=bad' }),
      await deliver('pull_request', pullRequestEvent('opened')),
    ];
    await waitForReview('posted');
    for (const res of answers) expect(await res.text()).not.toContain(SECRET);
    const log = perch.logs.join('');
    expect(log).toContain('/webhook/github');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain(GITHUB_TOKEN);
    expect(JSON.stringify(reviews())).not.toContain(GITHUB_TOKEN);
  });
});

describe('POST /webhook/github: events', () => {
  it('answers a ping with ok and the zen', async () => {
    const res = await deliver('ping', { zen: 'Design for failure.', hook_id: 1 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, zen: 'Design for failure.' });
  });

  it('ignores events that do not ask for a review, quickly and saying why', async () => {
    const push = await deliver('push', { ref: 'refs/heads/main' });
    expect(push.status).toBe(202);
    expect(((await push.json()) as { ignored: string }).ignored).toContain("'push'");
    const closed = await deliver('pull_request', pullRequestEvent('closed'));
    expect(closed.status).toBe(202);
    expect(((await closed.json()) as { ignored: string }).ignored).toContain("'closed'");
    expect(reviews()).toEqual([]);
    expect(github.requests).toEqual([]);
  });

  it('reviews an opened pull request: 202 at once, then one comment with the marker and the review', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Looks risky: **JSON.parse** can throw on bad input.' });
    const res = await deliver('pull_request', pullRequestEvent('opened'));
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { accepted: boolean; review_id: string };
    expect(accepted).toEqual({ accepted: true, review_id: expect.stringMatching(/^rev_/) });

    const review = await waitForReview('posted');
    expect(prComments()).toHaveLength(1);
    const comment = prComments()[0]!;
    expect(comment.body.startsWith(MARKER)).toBe(true);
    expect(comment.body).toContain('## Perch review');
    expect(comment.body).toContain('Looks risky: **JSON.parse** can throw on bad input.');
    expect(review).toMatchObject({
      id: accepted.review_id,
      repo: 'o/r',
      pr_number: 7,
      head_sha: SHA,
      status: 'posted',
      comment_url: comment.html_url,
      error: null,
      model: 'claude-sonnet-5-5',
    });
    expect(review.usage?.input_tokens).toBeGreaterThan(0);
    expect(review.cost_usd).toBeGreaterThan(0);
    expect(reviewList.safeParse({ reviews: reviews() }).success).toBe(true);
  });

  it('asks Claude with the default model and max tokens, a reviewer system prompt, and the diff', async () => {
    perch.service.core.settings.set('claude.maxTokens', 1234);
    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    const request = perch.upstream.messageRequests[0]?.body as {
      model: string;
      max_tokens: number;
      system: string;
      messages: Array<{ content: string }>;
    };
    expect(request.model).toBe('claude-sonnet-5-5');
    expect(request.max_tokens).toBe(1234);
    expect(request.system).toMatch(/bugs/i);
    expect(request.system).toMatch(/security/i);
    const question = request.messages[0]?.content ?? '';
    expect(question).toContain('pull request #7 of o/r');
    expect(question).toContain('Guard empty input');
    expect(question).toContain('+  if (!text) return null;');
  });

  it('records the usage under the github source and tells listeners when the review is done', async () => {
    const finished: PerchEvents['review:finished'][0][] = [];
    perch.service.core.events.on('review:finished', (event) => finished.push(event));
    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    expect(perch.service.core.usage.recent(5).map((row) => row.source)).toContain('github');
    expect(finished).toEqual([{ review_id: reviews()[0]!.id, repo: 'o/r', pr_number: 7, status: 'posted' }]);
  });

  it('calls only {apiUrl}/repos/o/r/…, with the token and GitHub headers, never a URL from the payload', async () => {
    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    expect(decoy.requests).toEqual([]);
    const diffRequest = github.requests.find((request) => request.headers.accept === 'application/vnd.github.diff');
    expect(diffRequest).toMatchObject({ method: 'GET', url: '/repos/o/r/pulls/7' });
    expect(diffRequest?.headers).toMatchObject({
      authorization: `Bearer ${GITHUB_TOKEN}`,
      'user-agent': 'perch',
      'x-github-api-version': '2022-11-28',
    });
    for (const request of github.requests) expect(request.url).toMatch(/^\/repos\/o\/r\//);
  });

  it('works under a GitHub Enterprise base path', async () => {
    const enterprise = await startFakeGitHub({ token: GITHUB_TOKEN, basePath: '/api/v3' });
    try {
      enterprise.addPull('o/r', 7, { diff: smallDiff, headSha: SHA });
      perch.service.core.settings.set('github.apiUrl', enterprise.url);
      await deliver('pull_request', pullRequestEvent('opened'));
      await waitForReview('posted');
      expect(enterprise.requests.map((request) => request.url)).toContain('/api/v3/repos/o/r/pulls/7');
      expect(enterprise.commentsOf('o/r', 7)).toHaveLength(1);
    } finally {
      await enterprise.stop();
    }
  });

  it('does the work once when GitHub delivers the same delivery twice', async () => {
    const delivery = randomUUID();
    const first = await deliver('pull_request', pullRequestEvent('opened'), { delivery });
    const second = await deliver('pull_request', pullRequestEvent('opened'), { delivery });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ duplicate: true });
    await waitForReview('posted');
    expect(reviews()).toHaveLength(1);
    expect(perch.upstream.messageRequests).toHaveLength(1);
    expect(prComments()).toHaveLength(1);
  });

  it('updates its earlier comment on a later push instead of adding another', async () => {
    github.addComment('o/r', 7, 'A human comment.');
    perch.upstream.enqueue({ kind: 'answer', text: 'First review.' }, { kind: 'answer', text: 'Second review.' });
    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    github.addPull('o/r', 7, { diff: smallDiff.replace('return null', 'return undefined'), headSha: NEXT_SHA });
    await deliver('pull_request', pullRequestEvent('synchronize', { sha: NEXT_SHA }));
    await expect.poll(() => reviews().filter((review) => review.status === 'posted').length).toBe(2);

    expect(prComments()).toHaveLength(2);
    const [human, perchComment] = prComments();
    expect(human?.body).toBe('A human comment.');
    expect(perchComment?.body).toContain('Second review.');
    expect(perchComment?.body).not.toContain('First review.');
    expect(github.requests.filter((request) => request.method === 'PATCH').map((request) => request.url)).toEqual([
      `/repos/o/r/issues/comments/${perchComment?.id}`,
    ]);
    expect(reviews().map((review) => review.comment_url)).toEqual([perchComment?.html_url, perchComment?.html_url]);
    expect(reviews()[0]?.head_sha).toBe(NEXT_SHA);
  });

  it('skips draft pull requests, and reviews them when they are marked ready', async () => {
    const draft = await deliver('pull_request', pullRequestEvent('opened', { draft: true }));
    expect(draft.status).toBe(202);
    expect(((await draft.json()) as { ignored: string }).ignored).toMatch(/draft/);
    expect(reviews()).toEqual([]);

    const ready = await deliver('pull_request', pullRequestEvent('ready_for_review'));
    expect(ready.status).toBe(202);
    expect(((await ready.json()) as { accepted?: boolean }).accepted).toBe(true);
    await waitForReview('posted');
  });

  it('trims a huge diff at a file boundary and tells Claude and the reader how much was left out', async () => {
    const file = (index: number): string =>
      [
        `diff --git a/src/file${index}.ts b/src/file${index}.ts`,
        `--- a/src/file${index}.ts`,
        `+++ b/src/file${index}.ts`,
        '@@ -0,0 +1,400 @@',
        ...Array.from({ length: 400 }, (_, line) => `+export const value${line} = ${line}; // padding padding`),
        '',
      ].join('\n');
    const huge = Array.from({ length: 20 }, (_, index) => file(index)).join('');
    github.addPull('o/r', 7, { diff: huge, headSha: SHA });
    expect(Buffer.byteLength(huge)).toBeGreaterThan(300 * 1024);

    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    const question = (perch.upstream.messageRequests[0]?.body as { messages: Array<{ content: string }> }).messages[0]!.content;
    expect(Buffer.byteLength(question)).toBeLessThan(110 * 1024);
    expect(question).toMatch(/The diff was trimmed: \d+ KB of \d+ KB is shown/);
    expect(question).toContain('src/file19.ts');
    expect(question).toContain('+export const value399 = 399;'); // the last line of a whole file
    expect(question).not.toContain('diff --git a/src/file19.ts');
    expect(prComments()[0]?.body).toMatch(/The diff was trimmed/);
  });
});

describe('POST /webhook/github: on-demand mode', () => {
  beforeEach(() => {
    perch.service.core.settings.set('github.trigger', 'on_demand');
  });

  it('ignores opened and synchronize events', async () => {
    for (const action of ['opened', 'synchronize']) {
      const res = await deliver('pull_request', pullRequestEvent(action));
      expect(res.status).toBe(202);
      expect(((await res.json()) as { ignored: string }).ignored).toContain('on-demand');
    }
    expect(reviews()).toEqual([]);
  });

  it('reviews when the configured label is added, and not for other labels', async () => {
    const other = await deliver('pull_request', pullRequestEvent('labeled', {}, { label: { name: 'bug' } }));
    expect(((await other.json()) as { ignored: string }).ignored).toContain("'bug'");
    const labeled = await deliver('pull_request', pullRequestEvent('labeled', {}, { label: { name: 'perch-review' } }));
    expect(labeled.status).toBe(202);
    await waitForReview('posted');
    expect(reviews()).toHaveLength(1);
  });

  it('honours a custom label', async () => {
    perch.service.core.settings.set('github.label', 'ai-review');
    const res = await deliver('pull_request', pullRequestEvent('labeled', {}, { label: { name: 'ai-review' } }));
    expect(((await res.json()) as { accepted?: boolean }).accepted).toBe(true);
    await waitForReview('posted');
  });

  it('reviews when a pull request comment says "@perch review" (any case), reading the head commit from GitHub', async () => {
    const res = await deliver('issue_comment', issueCommentEvent('Could you take a look? @Perch Review please'));
    expect(res.status).toBe(202);
    const review = await waitForReview('posted');
    expect(review.head_sha).toBe(SHA);
    expect(prComments()).toHaveLength(1);
    expect(decoy.requests).toEqual([]);
  });

  it('ignores plain comments, comments on issues, and its own review comments', async () => {
    const plain = await deliver('issue_comment', issueCommentEvent('Nice work!'));
    const onIssue = await deliver('issue_comment', issueCommentEvent('@perch review', { onPullRequest: false }));
    const own = await deliver('issue_comment', issueCommentEvent(`${MARKER}\n## Perch review\nSay @perch review to ask again.`));
    for (const res of [plain, onIssue, own]) expect(res.status).toBe(202);
    expect(reviews()).toEqual([]);
  });

  it('ignores "@perch review" comments in pull_request mode', async () => {
    perch.service.core.settings.set('github.trigger', 'pull_request');
    const res = await deliver('issue_comment', issueCommentEvent('@perch review'));
    expect(((await res.json()) as { ignored: string }).ignored).toContain('on-demand');
    expect(reviews()).toEqual([]);
  });
});

describe('failed reviews', () => {
  it('records a 404 from GitHub as a failed review with a clear error, and asks Claude nothing', async () => {
    github.fail('GET', /^\/repos\/o\/r\/pulls\/7$/, 404);
    await deliver('pull_request', pullRequestEvent('opened'));
    const review = await waitForReview('failed');
    expect(review.error).toContain('GitHub answered 404');
    expect(review.error).toContain('cannot see it');
    expect(review.comment_url).toBeNull();
    expect(perch.upstream.messageRequests).toEqual([]);
  });

  it('records a 403 when commenting as a failed review, keeping the tokens Claude used', async () => {
    github.fail('POST', /\/issues\/7\/comments$/, 403, 'Resource not accessible by personal access token');
    await deliver('pull_request', pullRequestEvent('opened'));
    const review = await waitForReview('failed');
    expect(review.error).toContain('GitHub answered 403');
    expect(review.error).toContain('Resource not accessible by personal access token');
    expect(review.usage?.output_tokens).toBeGreaterThan(0);
    expect(review.cost_usd).toBeGreaterThan(0);
  });

  it('records what a review cut mid-answer used, as an estimate, and posts nothing', async () => {
    perch.upstream.enqueue({ kind: 'cut', textBefore: 'The change looks fine, except '.repeat(40) });
    await deliver('pull_request', pullRequestEvent('opened'));
    const review = await waitForReview('failed');
    expect(review.usage).toMatchObject({ estimated: true });
    // About a token per 4 characters of what arrived, not the 1 the stream's start reported.
    expect(review.usage?.output_tokens).toBeGreaterThan(200);
    expect(perch.service.core.usage.recent(1)[0]).toMatchObject({ source: 'github', estimated: 1 });
    expect(prComments()).toEqual([]);
  });

  it('says how to set the token when none is configured', async () => {
    perch.service.core.settings.set('github.token', '');
    const res = await deliver('pull_request', pullRequestEvent('opened'));
    expect(res.status).toBe(202);
    const review = await waitForReview('failed');
    expect(review.error).toContain('npx perch config set github.token -');
    expect(github.requests).toEqual([]);
  });

  it('records a Claude failure as a failed review', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 400, type: 'invalid_request_error', message: 'prompt is too long' });
    await deliver('pull_request', pullRequestEvent('opened'));
    const review = await waitForReview('failed');
    expect(review.error).toContain('Claude could not review');
    expect(review.error).toContain('prompt is too long');
    expect(prComments()).toEqual([]);
  });

  it('answers 400 to a triggering delivery without an X-GitHub-Delivery id', async () => {
    const res = await deliver('pull_request', pullRequestEvent('opened'), { delivery: '' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('X-GitHub-Delivery');
    expect(reviews()).toEqual([]);
  });

  it('answers 400 when a triggering payload lacks what a review needs', async () => {
    const res = await deliver('pull_request', { action: 'opened', repository: { name: '..', owner: { login: 'o' } } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('pull_request');
    expect(reviews()).toEqual([]);
  });
});

describe('GET /api/v1/reviews', () => {
  it('lists reviews newest first as {reviews}, and validates limit', async () => {
    await deliver('pull_request', pullRequestEvent('opened'));
    await waitForReview('posted');
    await deliver('pull_request', pullRequestEvent('opened', { number: 8 }));
    await waitForReview('failed');

    const all = (await (await perch.request('/api/v1/reviews')).json()) as { reviews: Review[] };
    expect(reviewList.safeParse(all).success).toBe(true);
    expect(all.reviews.map((review) => [review.pr_number, review.status])).toEqual([
      [8, 'failed'],
      [7, 'posted'],
    ]);
    const one = (await (await perch.request('/api/v1/reviews?limit=1')).json()) as { reviews: Review[] };
    expect(one.reviews).toHaveLength(1);
    expect((await perch.request('/api/v1/reviews?limit=0')).status).toBe(400);
    expect((await fetch(`${perch.url}/api/v1/reviews`)).status).toBe(401);
  });
});

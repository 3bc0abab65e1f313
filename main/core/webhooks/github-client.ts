import { describeSystemError } from '../system-errors.js';

/**
 * The few GitHub REST calls a review needs, on plain `fetch`. Every URL is built from the
 * configured API base and the owner, repository and number Perch validated; nothing from a
 * payload's URLs. Failures become GitHubApiError with a message that says what to fix.
 */

export const GITHUB_API_VERSION = '2022-11-28';
/** Larger diffs are cut off while they are read (only ~100 KB reach Claude anyway). */
export const MAX_DIFF_READ_BYTES = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;
/** Comments are searched for Perch's marker on at most this many pages of 100. */
const MAX_COMMENT_PAGES = 20;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface IssueComment {
  id: number;
  body: string;
  html_url: string;
}

export interface PullRequestInfo {
  headSha: string | null;
  title: string | null;
  body: string | null;
}

export interface DiffText {
  text: string;
  /** The diff was longer than MAX_DIFF_READ_BYTES and was cut off while reading. */
  cutWhileReading: boolean;
}

export class GitHubApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

type Action = string;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export class GitHubClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: GitHubClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  private repoPath({ owner, repo }: RepoRef): string {
    return `${this.base}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  /** The pull request's head commit, title and description (for reviews asked for in a comment). */
  async pull(ref: RepoRef, number: number): Promise<PullRequestInfo> {
    const action = `read pull request #${number} of ${ref.owner}/${ref.repo}`;
    const res = await this.call('GET', `${this.repoPath(ref)}/pulls/${number}`, action);
    const body = await this.json(res, action);
    const head = isRecord(body) && isRecord(body.head) ? body.head : {};
    const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
    return {
      headSha: typeof head.sha === 'string' && /^[0-9a-f]{7,64}$/i.test(head.sha) ? head.sha.toLowerCase() : null,
      title: isRecord(body) ? text(body.title) : null,
      body: isRecord(body) ? text(body.body) : null,
    };
  }

  /** The pull request as a unified diff. */
  async diff(ref: RepoRef, number: number): Promise<DiffText> {
    const action = `read the diff of pull request #${number} of ${ref.owner}/${ref.repo}`;
    const res = await this.call('GET', `${this.repoPath(ref)}/pulls/${number}`, action, {
      accept: 'application/vnd.github.diff',
    });
    return readCapped(res, MAX_DIFF_READ_BYTES);
  }

  /** The comment that carries `marker` (the newest one, if several do). */
  async findComment(ref: RepoRef, number: number, marker: string): Promise<IssueComment | undefined> {
    const action = `list the comments of pull request #${number} of ${ref.owner}/${ref.repo}`;
    let found: IssueComment | undefined;
    for (let page = 1; page <= MAX_COMMENT_PAGES; page += 1) {
      const res = await this.call('GET', `${this.repoPath(ref)}/issues/${number}/comments?per_page=100&page=${page}`, action);
      const body = await this.json(res, action);
      if (!Array.isArray(body))
        throw new GitHubApiError(`GitHub answered an unexpected shape when asked to ${action}.`, res.status);
      for (const item of body) {
        const comment = asComment(item);
        if (comment?.body.includes(marker)) found = comment;
      }
      if (body.length < 100) break;
    }
    return found;
  }

  async createComment(ref: RepoRef, number: number, text: string): Promise<IssueComment> {
    const action = `comment on pull request #${number} of ${ref.owner}/${ref.repo}`;
    const res = await this.call('POST', `${this.repoPath(ref)}/issues/${number}/comments`, action, { body: { body: text } });
    return this.comment(res, action);
  }

  async updateComment(ref: RepoRef, commentId: number, text: string): Promise<IssueComment> {
    const action = `update comment ${commentId} on ${ref.owner}/${ref.repo}`;
    const res = await this.call('PATCH', `${this.repoPath(ref)}/issues/comments/${commentId}`, action, { body: { body: text } });
    return this.comment(res, action);
  }

  private async comment(res: Response, action: Action): Promise<IssueComment> {
    const comment = asComment(await this.json(res, action));
    if (!comment) throw new GitHubApiError(`GitHub answered an unexpected shape when asked to ${action}.`, res.status);
    return comment;
  }

  private async json(res: Response, action: Action): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new GitHubApiError(`GitHub's answer was not JSON when asked to ${action}.`, res.status);
    }
  }

  private async call(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    action: Action,
    options: { accept?: string; body?: unknown } = {},
  ): Promise<Response> {
    if (!/^https?:\/\//i.test(url))
      throw new GitHubApiError(`github.apiUrl must be an http(s) URL (it is '${this.base}').`, null);
    const headers: Record<string, string> = {
      accept: options.accept ?? 'application/vnd.github+json',
      authorization: `Bearer ${this.options.token}`,
      'user-agent': 'perch',
      'x-github-api-version': GITHUB_API_VERSION,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        redirect: 'follow',
        signal,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
    } catch (error) {
      if (this.options.signal?.aborted) throw new GitHubApiError(`Stopped before GitHub answered: Perch is shutting down.`, null);
      if (timeout.aborted) {
        throw new GitHubApiError(
          `GitHub did not answer within ${REQUEST_TIMEOUT_MS / 1000} seconds when asked to ${action}.`,
          null,
        );
      }
      throw new GitHubApiError(
        `Could not reach GitHub at ${this.base} to ${action}: ${describeSystemError(error, { peer: 'GitHub' })}.`,
        null,
      );
    }
    if (res.ok) return res;
    throw new GitHubApiError(await describeFailure(res, action, this.base), res.status);
  }
}

function asComment(value: unknown): IssueComment | undefined {
  if (!isRecord(value) || typeof value.id !== 'number') return undefined;
  return {
    id: value.id,
    body: typeof value.body === 'string' ? value.body : '',
    html_url: typeof value.html_url === 'string' ? value.html_url : '',
  };
}

async function describeFailure(res: Response, action: Action, base: string): Promise<string> {
  let detail = '';
  try {
    const text = (await res.text()).slice(0, 2000);
    const parsed = JSON.parse(text) as unknown;
    if (isRecord(parsed) && typeof parsed.message === 'string') detail = parsed.message.slice(0, 300);
  } catch {
    // Not JSON: the status says enough.
  }
  const said = detail ? ` (GitHub said: "${detail}")` : '';
  const head = `GitHub answered ${res.status} when Perch tried to ${action}${said}.`;
  switch (res.status) {
    case 401:
      return `${head} The token in github.token is invalid or expired: set a new one with npx perch config set github.token - on this machine (it reads the token from stdin).`;
    case 403:
      if (res.headers.get('x-ratelimit-remaining') === '0')
        return `${head} The token's API rate limit is used up; try again later.`;
      return `${head} The token may not access this repository: it needs read access to pull requests and write access to issues and pull requests (comments).`;
    case 404:
      return `${head} The repository or pull request does not exist, or the token in github.token cannot see it (private repositories need a token with access). Check github.apiUrl too (${base}).`;
    case 406:
    case 422:
      return `${head} GitHub could not produce this (a diff too large for GitHub, for instance).`;
    default:
      return res.status >= 500 ? `${head} GitHub is having trouble; ask for the review again later.` : head;
  }
}

/** Reads a body as UTF-8 text, stopping after `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<DiffText> {
  if (!res.body) return { text: '', cutWhileReading: false };
  const chunks: Uint8Array[] = [];
  let total = 0;
  let cut = false;
  // Leaving the loop early cancels the rest of the download.
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    total += chunk.byteLength;
    if (total > maxBytes) {
      cut = true;
      break;
    }
  }
  const bytes = Buffer.concat(chunks);
  // The last line may be cut mid-character: drop it whole.
  const text = cut
    ? bytes
        .subarray(0, maxBytes)
        .toString('utf8')
        .replace(/\n[^\n]*$/, '\n')
    : bytes.toString('utf8');
  return { text, cutWhileReading: cut };
}

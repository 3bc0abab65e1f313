import { readRuntimeInfo } from '../core/runtime-file.js';
import { newProofNonce, secretsMatch, TokenStore, tokenProof } from '../core/secrets.js';
import { SettingsStore } from '../core/settings/settings-store.js';
import { SseReader, type ServerSentEvent } from '../core/sse-reader.js';

const START_HINT = 'Start it with npx perch serve or open the Perch app';

/** Perch is not there to talk to: not started, gone, or something else holds its port. */
export class ServiceDownError extends Error {
  constructor(
    /** Where Perch was looked for; undefined when no running service is recorded at all. */
    readonly url: string | undefined,
    message = `Perch is not running (nothing answered at ${url}). ${START_HINT}; if it runs on another port, set PERCH_PORT.`,
  ) {
    super(message);
  }
}

/** The service answered with an error. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export type { ServerSentEvent };

const connectHost = (host: string): string => {
  // A wildcard bind is reachable on loopback; IPv6 literals need brackets in a URL.
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
};

/**
 * Where the running service is: `PERCH_PORT` (and `PERCH_HOST`) when set, else what the service
 * wrote in the data folder when it started. Undefined when neither says: Perch is not running,
 * and no port is tried (whatever listens on the usual one is not known to be Perch).
 */
export function discoverServiceUrl(dataDir: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.PERCH_PORT) {
    const { api } = new SettingsStore(dataDir, { env }).current();
    return `http://${connectHost(api.host)}:${api.port}`;
  }
  const running = readRuntimeInfo(dataDir);
  return running ? `http://${connectHost(running.host)}:${running.port}` : undefined;
}

const portOf = (url: URL): number => Number(url.port || (url.protocol === 'https:' ? 443 : 80));

/**
 * A small typed client for the local API, as scripts and the CLI use it. Before the token goes
 * anywhere, the service must prove it holds the same token (GET /api/v1/auth/proof): a program
 * squatting Perch's port while Perch is stopped never sees it.
 */
export class ServiceClient {
  private proven: Promise<void> | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static forDataDir(dataDir: string, env: NodeJS.ProcessEnv): ServiceClient {
    const url = discoverServiceUrl(dataDir, env);
    if (!url) {
      throw new ServiceDownError(
        undefined,
        `Perch is not running (no running service is recorded in ${dataDir}). ${START_HINT}; if it runs on another port, set PERCH_PORT.`,
      );
    }
    return new ServiceClient(url, new TokenStore(dataDir).get());
  }

  /** Asks the service to prove it holds the token, once; refuses to go on when it cannot. */
  verify(): Promise<void> {
    this.proven ??= (async () => {
      const nonce = newProofNonce();
      const notPerch = (why: string): ServiceDownError =>
        new ServiceDownError(
          this.baseUrl,
          `Perch is not running at ${this.baseUrl}: ${why}, so the token was not sent. ${START_HINT}.`,
        );
      const res = await this.fetch(`/api/v1/auth/proof?nonce=${nonce}`, { method: 'GET' }, false);
      let body: { proof?: unknown; port?: unknown };
      try {
        body = (await res.json()) as typeof body;
      } catch {
        throw notPerch('the program answering there is not Perch');
      }
      const url = new URL(this.baseUrl);
      if (!res.ok || typeof body.proof !== 'string' || typeof body.port !== 'number') {
        throw notPerch('the program answering there is not Perch');
      }
      // Loopback is Perch's own port; a remote URL may sit behind a TLS proxy on another.
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if ((loopback && body.port !== portOf(url)) || !secretsMatch(body.proof, tokenProof(this.token, nonce, body.port))) {
        throw notPerch('the program answering there could not prove it holds your Perch token');
      }
    })();
    // A failed proof may be tried again (Perch may have started meanwhile).
    this.proven.catch(() => (this.proven = undefined));
    return this.proven;
  }

  async get<T>(path: string, options: { auth?: boolean } = {}): Promise<T> {
    const res = await this.fetch(path, { method: 'GET' }, options.auth ?? true);
    return (await this.readJson(res)) as T;
  }

  async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.fetch(path, { method: 'POST', body: JSON.stringify(body), signal }, true);
    return (await this.readJson(res)) as T;
  }

  /** Posts a request and yields the Server-Sent Events of the answer as they arrive. */
  stream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
    return this.events(path, { method: 'POST', body: JSON.stringify({ ...(body as object), stream: true }), signal });
  }

  /** Follows a GET event stream (a task's events) as it arrives. */
  follow(path: string, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
    return this.events(path, { method: 'GET', signal });
  }

  private async *events(path: string, init: RequestInit): AsyncGenerator<ServerSentEvent> {
    const res = await this.fetch(path, { ...init, headers: { accept: 'text/event-stream' } }, true);
    if (!res.ok || !res.body) {
      await this.readJson(res);
      return;
    }
    const decoder = new TextDecoder();
    const events = new SseReader();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      yield* events.push(decoder.decode(chunk, { stream: true }));
    }
  }

  private async fetch(path: string, init: RequestInit, auth: boolean): Promise<Response> {
    const headers = new Headers(init.headers);
    if (auth) {
      await this.verify();
      headers.set('authorization', `Bearer ${this.token}`);
    }
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    try {
      return await fetch(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ServiceDownError(this.baseUrl);
    }
  }

  private async readJson(res: Response): Promise<unknown> {
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new ServiceError(res.status, 'invalid_response', `Perch answered ${res.status} with something that is not JSON.`);
    }
    if (!res.ok) {
      const error = (body as { error?: { type?: string; message?: string } }).error;
      throw new ServiceError(res.status, error?.type ?? 'error', error?.message ?? `Perch answered ${res.status}.`);
    }
    return body;
  }
}

import { readRuntimeInfo } from '../core/runtime-file.js';
import { TokenStore } from '../core/secrets.js';
import { SettingsStore } from '../core/settings/settings-store.js';
import { SseReader, type ServerSentEvent } from '../core/sse-reader.js';

/** The service is not answering at all (not started, or another port). */
export class ServiceDownError extends Error {
  constructor(readonly url: string) {
    super(
      `Perch is not running (nothing answered at ${url}). Start it with \`npx perch serve\` or open the Perch app; if it runs on another port, set PERCH_PORT.`,
    );
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
 * wrote in the data folder when it started, else the configured port.
 */
export function discoverServiceUrl(dataDir: string, env: NodeJS.ProcessEnv): string {
  const settings = new SettingsStore(dataDir, { env });
  if (env.PERCH_PORT) {
    const { api } = settings.current();
    return `http://${connectHost(api.host)}:${api.port}`;
  }
  const running = readRuntimeInfo(dataDir);
  if (running) return `http://${connectHost(running.host)}:${running.port}`;
  const { api } = settings.current();
  return `http://${connectHost(api.host)}:${api.port}`;
}

/** A small typed client for the local API, as scripts and the CLI use it. */
export class ServiceClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static forDataDir(dataDir: string, env: NodeJS.ProcessEnv): ServiceClient {
    return new ServiceClient(discoverServiceUrl(dataDir, env), new TokenStore(dataDir).get());
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
  async *stream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<ServerSentEvent> {
    const res = await this.fetch(
      path,
      {
        method: 'POST',
        body: JSON.stringify({ ...(body as object), stream: true }),
        signal,
        headers: { accept: 'text/event-stream' },
      },
      true,
    );
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
    if (auth) headers.set('authorization', `Bearer ${this.token}`);
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

import type { PerchBridge } from '../../../preload/bridge';
import { SseReader, type ServerSentEvent } from '../../../main/core/sse-reader';
import type { AnswerEvent, Workspace } from './types';

declare global {
  interface Window {
    /** Present inside the desktop app (its preload); absent in a browser. */
    perch?: PerchBridge;
  }
}

/** How this page reaches the service: the desktop app hands over a token; a browser uses its cookie. */
export interface Connection {
  baseUrl: string;
  headers: Record<string, string>;
  desktop: boolean;
}

export async function resolveConnection(bridge: PerchBridge | undefined = window.perch): Promise<Connection> {
  if (!bridge) return { baseUrl: '', headers: {}, desktop: false };
  const connection = await bridge.getConnection();
  return {
    baseUrl: connection.baseUrl,
    headers: { authorization: `Bearer ${connection.token}`, 'x-perch-desktop': connection.desktopSecret },
    desktop: true,
  };
}

/** A field the service found wrong: its dotted path in the request, and a sentence about it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** An error answer from Perch, with its type so the UI can say what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** The fields at fault, when the request had fields wrong (400) or may not change them (403). */
    readonly fields: readonly FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** What to tell a person about a failed call: Perch's own words, else the error's (or a fallback). */
export const messageOf = (error: unknown, fallback?: string): string =>
  error instanceof ApiError ? error.message : (fallback ?? (error as Error).message);

/** Reads a Server-Sent Events answer to its end, event by event. */
async function readEvents(response: Response, onEvent: (event: ServerSentEvent) => void): Promise<void> {
  if (!response.ok || !response.body) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const events = new SseReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const event of events.push(value)) onEvent(event);
  }
}

/** Told when a request comes back 401: the page needs to sign in (again). */
type UnauthorizedListener = () => void;

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { type?: string; message?: string; fields?: FieldProblem[] } };
    return new ApiError(
      response.status,
      body.error?.type ?? 'error',
      body.error?.message ?? `Perch answered ${response.status}.`,
      Array.isArray(body.error?.fields) ? body.error.fields : [],
    );
  } catch {
    return new ApiError(response.status, 'error', `Perch answered ${response.status}.`);
  }
}

/** The UI's only way to the service: the same HTTP API scripts use. */
export class PerchApi {
  private readonly unauthorizedListeners = new Set<UnauthorizedListener>();

  constructor(private readonly connection: Promise<Connection>) {}

  onUnauthorized(listener: UnauthorizedListener): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  async isDesktop(): Promise<boolean> {
    return (await this.connection).desktop;
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.send(method, path, body, signal);
    if (!response.ok) throw await errorOf(response);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal);
  }

  /** The folders tasks may work in. */
  async workspaces(signal?: AbortSignal): Promise<Workspace[]> {
    return (await this.get<{ workspaces: Workspace[] }>('/api/v1/workspaces', signal)).workspaces;
  }

  /** Streams an answer: calls `onEvent` for each event; resolves when the stream ends. */
  async stream(path: string, body: unknown, onEvent: (event: AnswerEvent) => void, signal?: AbortSignal): Promise<void> {
    const response = await this.send('POST', path, { ...(body as object), stream: true }, signal, {
      accept: 'text/event-stream',
    });
    await readEvents(response, (event) => onEvent(event as AnswerEvent));
  }

  /** Follows a GET event stream (a task's events): calls `onEvent` for each; resolves when it ends. */
  async follow(path: string, onEvent: (event: ServerSentEvent) => void, signal?: AbortSignal): Promise<void> {
    await readEvents(await this.send('GET', path, undefined, signal, { accept: 'text/event-stream' }), onEvent);
  }

  /** A file the service serves (an attachment's image), as a blob: the desktop app's token cannot ride on an <img src>. */
  async blob(path: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.send('GET', path, undefined, signal);
    if (!response.ok) throw await errorOf(response);
    return response.blob();
  }

  /** Fetches a file the service offers for download and hands it to the browser as one. */
  async download(path: string, fallbackName: string): Promise<void> {
    const response = await this.send('GET', path, undefined, undefined);
    if (!response.ok) throw await errorOf(response);
    const disposition = response.headers.get('content-disposition') ?? '';
    const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? /filename="([^"]+)"/i.exec(disposition)?.[1];
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = named ? decodeURIComponent(named) : fallbackName;
    document.body.append(link);
    link.click();
    link.remove();
    // The click has handed the blob to the browser's download; the URL is no longer needed.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** Exchanges the token for the session cookie (browsers only; the token is not kept). */
  async signIn(token: string): Promise<void> {
    await this.request('POST', '/api/v1/auth/session', { token });
  }

  async signOut(): Promise<void> {
    await this.request('DELETE', '/api/v1/auth/session');
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    extraHeaders: Record<string, string> = {},
  ): Promise<Response> {
    const connection = await this.connection;
    const headers: Record<string, string> = { ...connection.headers, ...extraHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${connection.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: 'same-origin',
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new ApiError(
        0,
        'service_unreachable',
        'Perch is not answering. Is the Perch app (or npx perch serve) still running?',
      );
    }
    if (response.status === 401 && !path.startsWith('/api/v1/auth/session')) {
      for (const listener of this.unauthorizedListeners) listener();
    }
    return response;
  }
}

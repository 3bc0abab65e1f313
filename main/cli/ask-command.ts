import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeOwnerOnlyFile } from '../core/files/owner-only-file.js';
import { dataFiles } from '../core/paths.js';
import type { Output } from './output.js';
import { ServiceClient, ServiceError, type ServerSentEvent } from './service-client.js';

/** `perch ask` continues its last conversation if it was used this recently; else it starts one. */
export const CONTINUE_WITHIN_MS = 30 * 60 * 1000;

export interface AskOptions {
  session?: string | undefined;
  new?: boolean | undefined;
  model?: string | undefined;
  system?: string | undefined;
  json?: boolean | undefined;
}

interface RememberedSession {
  session_id: string;
  used_at: number;
}

function rememberedSession(dataDir: string, now: number): string | undefined {
  try {
    const saved = JSON.parse(readFileSync(path.join(dataDir, dataFiles.cliSession), 'utf8')) as RememberedSession;
    return now - saved.used_at < CONTINUE_WITHIN_MS ? saved.session_id : undefined;
  } catch {
    return undefined;
  }
}

function rememberSession(dataDir: string, sessionId: string, now: number): void {
  const saved: RememberedSession = { session_id: sessionId, used_at: now };
  writeOwnerOnlyFile(path.join(dataDir, dataFiles.cliSession), JSON.stringify(saved));
}

/**
 * The question: the words given, with piped input as context (`git diff | perch ask "review
 * this"`), or the piped input alone when no words are given.
 */
export function composeQuestion(words: string[], piped: string | undefined): { message: string; context?: string } {
  const text = words.join(' ').trim();
  const input = piped?.trim() ? piped : undefined;
  if (text && input) return { message: text, context: input };
  if (text) return { message: text };
  if (input) return { message: input };
  throw new ServiceError(400, 'invalid_request_error', 'Nothing to ask: give a question (perch ask "…") or pipe text in.');
}

/** Writes an answer's events to stdout as they arrive; returns the final `done` data. */
export async function printStream(events: AsyncIterable<ServerSentEvent>, out: Output): Promise<Record<string, unknown>> {
  let endsWithNewline = true;
  for await (const { event, data } of events) {
    if (event === 'delta') {
      const { text } = data as { text: string };
      out.write(text);
      if (text) endsWithNewline = text.endsWith('\n');
    } else if (event === 'done') {
      if (!endsWithNewline) out.write('\n');
      return data as Record<string, unknown>;
    } else if (event === 'error') {
      if (!endsWithNewline) out.write('\n');
      const { error } = data as { error: { type: string; message: string } };
      throw new ServiceError(502, error.type, error.message);
    }
  }
  throw new ServiceError(502, 'stream_cut', 'The answer stopped before it finished (the connection to Perch closed).');
}

export async function ask(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  words: string[],
  piped: string | undefined,
  options: AskOptions,
  out: Output,
  signal?: AbortSignal,
): Promise<void> {
  const question = composeQuestion(words, piped);
  const client = ServiceClient.forDataDir(dataDir, env);
  const now = Date.now();
  const remembered = options.session || options.new ? undefined : rememberedSession(dataDir, now);
  const body = (sessionId: string | undefined): Record<string, unknown> => ({
    ...question,
    ...(sessionId ? { session_id: sessionId } : {}),
    ...(options.model ? { model: options.model } : {}),
    ...(options.system ? { system: options.system } : {}),
  });

  const run = async (sessionId: string | undefined): Promise<Record<string, unknown>> => {
    if (options.json) {
      const answer = await client.post<Record<string, unknown>>('/api/v1/chat', body(sessionId), signal);
      out.stdout(JSON.stringify(answer, null, 2));
      return answer;
    }
    return printStream(client.stream('/api/v1/chat', body(sessionId), signal), out);
  };

  let answer: Record<string, unknown>;
  try {
    answer = await run(options.session ?? remembered);
  } catch (error) {
    // The remembered conversation was deleted meanwhile: start a new one instead.
    if (!(error instanceof ServiceError && error.status === 404 && remembered && !options.session)) throw error;
    answer = await run(undefined);
  }
  if (typeof answer.session_id === 'string') rememberSession(dataDir, answer.session_id, now);
}

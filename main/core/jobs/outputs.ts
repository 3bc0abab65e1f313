import { constants, type PathLike } from 'node:fs';
import { mkdir, open, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import { invalidField } from '../errors.js';
import { namesNonPublicHost, NonPublicAddressError, publicOnlyLookup, type Resolver } from '../network-reach.js';
import { describeSystemError } from '../system-errors.js';
import type { JobOutput } from './job-store.js';

/** The web address a job's results are posted to, or a 400 about 'output.url' in plain words. */
export function validOutputUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidField('output.url', `'${text}' is not a web address; give one that starts with https://.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalidField('output.url', 'Use an address that starts with https:// (or http://).');
  return url;
}

/** A result's POST: JSON text, never following a redirect. */
export interface PostRequest {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  redirect: 'manual';
  signal: AbortSignal;
}

/** What delivery reads of the receiver's answer (fetch's Response has it). */
export interface PostAnswer {
  status: number;
  ok: boolean;
  body: { cancel(): Promise<void> } | null;
}

/** How results leave Perch (injected so tests can watch without touching disks and networks). */
export interface OutputChannels {
  appendFile: (file: string, text: string) => Promise<void>;
  /**
   * POSTs a result. Without `anyAddress` it must refuse this machine and the local network
   * (only a URL saved from the desktop app may reach them); redirects are never followed.
   */
  fetch: (url: string, init: PostRequest, reach: { anyAddress: boolean }) => Promise<PostAnswer>;
  /** True when something (the desktop app) will show a notification for finished jobs. */
  canNotify: () => boolean;
}

/** Where a job made through the API may write: Perch's own folder for results. */
export const outputsDirOf = (dataDir: string): string => path.join(dataDir, 'outputs');

/** Appends without following a symlink at the file itself (owner-only when new: results may be private). */
async function appendNoFollow(file: PathLike, text: string): Promise<void> {
  // Windows has no O_NOFOLLOW (and ordinary users make no symlinks there).
  const noFollow = process.platform === 'win32' ? 0 : constants.O_NOFOLLOW;
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | noFollow;
  const handle = await open(file, flags, 0o600);
  try {
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}

let publicDispatcher: Dispatcher | undefined;

export const systemOutputChannels = (canNotify: () => boolean, options: { resolve?: Resolver } = {}): OutputChannels => ({
  appendFile: appendNoFollow,
  fetch: async (url, init, reach) => {
    // undici's own fetch takes a dispatcher whose lookup checks the address it connects to;
    // loaded on the first delivery, not at start.
    const undici = await import('undici');
    if (reach.anyAddress) return undici.fetch(url, init);
    const parsed = new URL(url);
    // An IP literal is connected to without a lookup: check it here.
    if (namesNonPublicHost(parsed)) throw new NonPublicAddressError(parsed.hostname, parsed.hostname);
    const dispatcher = options.resolve
      ? new undici.Agent({ connect: { lookup: publicOnlyLookup(options.resolve) } })
      : (publicDispatcher ??= new undici.Agent({ connect: { lookup: publicOnlyLookup() } }));
    return undici.fetch(url, { ...init, dispatcher });
  },
  canNotify,
});

const URL_TIMEOUT_MS = 10_000;

/** A delivery that must not be tried again (the answer will not change). */
class Refused extends Error {}

/** The error behind fetch's "fetch failed". */
const rootCause = (error: unknown): unknown => {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current;
};

async function postOnce(channels: OutputChannels, url: string, body: unknown, anyAddress: boolean): Promise<string> {
  let response: PostAnswer;
  try {
    response = await channels.fetch(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'perch' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(URL_TIMEOUT_MS),
      },
      { anyAddress },
    );
  } catch (error) {
    const cause = rootCause(error);
    if (cause instanceof NonPublicAddressError) {
      throw new Refused(`${cause.message}; only a job saved in the Perch desktop app may post there`);
    }
    throw error;
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status >= 300 && response.status < 400) throw new Refused(`HTTP ${response.status} (redirects are not followed)`);
  if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
  return response.ok ? `delivered (HTTP ${response.status})` : `refused: HTTP ${response.status}`;
}

/** Where a job's `output.file` points, and whether that is inside Perch's outputs folder. */
export function resolveOutputFile(file: string, outputsDir: string): { file: string; inside: boolean } {
  const resolved = path.resolve(outputsDir, file);
  const relative = path.relative(outputsDir, resolved);
  return { file: resolved, inside: relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) };
}

/**
 * Appends a result to its file. A file outside the outputs folder needs a job saved in the
 * desktop app; inside it, no symlink may lead out (the folder itself may be a link the person
 * made, to keep results elsewhere).
 */
async function appendResult(
  output: JobOutput & { file: string },
  text: string,
  channels: OutputChannels,
  outputsDir: string,
): Promise<void> {
  const target = resolveOutputFile(output.file, outputsDir);
  if (!target.inside) {
    if (!output.trusted) {
      throw new Refused(
        `${target.file} is outside Perch's outputs folder; only a job saved in the Perch desktop app may write there`,
      );
    }
    await channels.appendFile(target.file, text);
    return;
  }
  await mkdir(path.dirname(target.file), { recursive: true, mode: 0o700 });
  const [root, parent] = await Promise.all([realpath(outputsDir), realpath(path.dirname(target.file))]);
  if (parent !== root && !parent.startsWith(`${root}${path.sep}`)) {
    throw new Refused(`${target.file} leads outside Perch's outputs folder through a link`);
  }
  await channels.appendFile(path.join(parent, path.basename(target.file)), text);
}

const describeFailure = (error: unknown): string =>
  error instanceof Refused ? `refused: ${error.message}` : `failed: ${describeSystemError(error)}`;

/**
 * Sends a finished run's answer wherever the job says, besides its history (which always
 * keeps it). Returns what happened to each output; a failure here never fails the run.
 */
export async function deliverOutput(
  output: JobOutput,
  result: { jobName: string; text: string; finishedAt: number },
  channels: OutputChannels,
  outputsDir: string,
): Promise<Record<string, string>> {
  const delivery: Record<string, string> = {};
  if (output.file) {
    try {
      const entry = `## ${result.jobName} — ${new Date(result.finishedAt).toISOString()}\n\n${result.text}\n\n`;
      await appendResult({ ...output, file: output.file }, entry, channels, outputsDir);
      delivery.file = 'appended';
    } catch (error) {
      delivery.file = describeFailure(error);
    }
  }
  if (output.url) {
    // Slack's incoming webhooks read `text`; other receivers get the job's name and answer too.
    const body = { text: `*${result.jobName}*\n${result.text}`, job: result.jobName, output: result.text };
    const anyAddress = output.trusted === true;
    try {
      delivery.url = await postOnce(channels, output.url, body, anyAddress);
    } catch (first) {
      if (first instanceof Refused) {
        delivery.url = describeFailure(first);
      } else {
        try {
          delivery.url = await postOnce(channels, output.url, body, anyAddress);
        } catch (error) {
          delivery.url =
            error instanceof Refused ? describeFailure(error) : `failed after a retry: ${describeSystemError(error)}`;
        }
      }
    }
  }
  if (output.notify) delivery.notify = channels.canNotify() ? 'notified' : 'no desktop app running to show it';
  return delivery;
}

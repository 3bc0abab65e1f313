import { appendFile } from 'node:fs/promises';
import type { JobOutput } from './job-store.js';

/** How results leave Perch (injected so tests can watch without touching disks and networks). */
export interface OutputChannels {
  appendFile: (file: string, text: string) => Promise<void>;
  fetch: typeof fetch;
  /** True when something (the desktop app) will show a notification for finished jobs. */
  canNotify: () => boolean;
}

export const systemOutputChannels = (canNotify: () => boolean): OutputChannels => ({
  // Owner-only when the file is new: job results may be as private as the prompts.
  appendFile: (file, text) => appendFile(file, text, { mode: 0o600 }),
  fetch: (...args) => fetch(...args),
  canNotify,
});

const URL_TIMEOUT_MS = 10_000;

async function postOnce(channels: OutputChannels, url: string, body: unknown): Promise<string> {
  const response = await channels.fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'perch' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(URL_TIMEOUT_MS),
  });
  if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
  return response.ok ? `delivered (HTTP ${response.status})` : `refused: HTTP ${response.status}`;
}

/**
 * Sends a finished run's answer wherever the job says, besides its history (which always
 * keeps it). Returns what happened to each output; a failure here never fails the run.
 */
export async function deliverOutput(
  output: JobOutput,
  result: { jobName: string; text: string; finishedAt: number },
  channels: OutputChannels,
): Promise<Record<string, string>> {
  const delivery: Record<string, string> = {};
  if (output.file) {
    try {
      await channels.appendFile(
        output.file,
        `## ${result.jobName} — ${new Date(result.finishedAt).toISOString()}\n\n${result.text}\n\n`,
      );
      delivery.file = 'appended';
    } catch (error) {
      delivery.file = `failed: ${(error as Error).message}`;
    }
  }
  if (output.url) {
    // Slack's incoming webhooks read `text`; other receivers get the job's name and answer too.
    const body = { text: `*${result.jobName}*\n${result.text}`, job: result.jobName, output: result.text };
    try {
      delivery.url = await postOnce(channels, output.url, body);
    } catch {
      try {
        delivery.url = await postOnce(channels, output.url, body);
      } catch (error) {
        delivery.url = `failed after a retry: ${(error as Error).message}`;
      }
    }
  }
  if (output.notify) delivery.notify = channels.canNotify() ? 'notified' : 'no desktop app running to show it';
  return delivery;
}

import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk/core/error';
import { PerchError, redactSecrets } from '../errors.js';
import { inSentence } from '../field-problems.js';
import type { ApiKeySource } from '../secrets.js';
import { describeSystemError } from '../system-errors.js';

/** A key check is one cheap call; a person is waiting for it, so it gives up quickly. */
export const KEY_CHECK_TIMEOUT_MS = 5_000;

/** What the upstream said about a key: accepted, rejected (401/403), or nothing (it could not be asked). */
export type KeyCheck =
  { verdict: 'accepted' } | { verdict: 'rejected'; reason: string } | { verdict: 'unchecked'; reason: string };

export interface KeyCheckOptions {
  upstreamUrl: string;
  timeoutMs?: number;
}

/** What saving a key came to: checked and accepted, or saved unchecked with the reason. */
export interface SavedKey {
  verified: boolean;
  warning?: string;
}

/** An upstream message as the end of a sentence: no final period, no Markdown, lower case unless a name starts it. */
const asClause = (text: string): string => inSentence(text.replaceAll('`', '').trim());

function rejection(error: { status: unknown; apiMessage: string | null }): string {
  const said = asClause(error.apiMessage ?? '');
  // Anthropic's own words for a wrong key are a header name; say what they mean.
  if (!said || /invalid x-api-key/i.test(said))
    return error.status === 403 ? 'this key may not use the API' : 'the key is not valid';
  return said;
}

function uncheckedReason(error: unknown, timeoutMs: number): string {
  if (error instanceof APIConnectionTimeoutError) return `no answer within ${Math.round(timeoutMs / 1000)} seconds`;
  if (error instanceof APIConnectionError) return describeSystemError(error, { peer: 'Anthropic' });
  if (error instanceof APIError) {
    const status = error.status as number | undefined;
    if (status === 429) return 'Anthropic’s rate limit was reached';
    if (status === 529 || error.type === 'overloaded_error') return 'Anthropic is overloaded right now';
    if (status !== undefined && status >= 500) return `Anthropic answered with a server error (HTTP ${status})`;
    const said = asClause(error.apiMessage ?? '');
    return `the upstream answered HTTP ${status ?? 'with an error'}${said ? ` (${said})` : ''}`;
  }
  return describeSystemError(error, { peer: 'Anthropic' });
}

/**
 * Asks the upstream whether it takes a key, with the cheapest call there is (the first model of
 * the list), through the real SDK, without retries and within a few seconds.
 */
export async function checkApiKey(apiKey: string, options: KeyCheckOptions): Promise<KeyCheck> {
  const timeoutMs = options.timeoutMs ?? KEY_CHECK_TIMEOUT_MS;
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const sdk = new Anthropic({
    apiKey,
    // Explicit, so ANTHROPIC_BASE_URL (which may point at Perch itself) is never read.
    baseURL: options.upstreamUrl,
    timeout: timeoutMs,
    maxRetries: 0,
    logLevel: 'off',
  });
  try {
    await sdk.models.list({ limit: 1 });
    return { verdict: 'accepted' };
  } catch (error) {
    // An upstream that echoes what it was sent must not put the key into a message.
    const plain = (reason: string): string => redactSecrets(reason, [apiKey]);
    const status = error instanceof APIError ? (error.status as number | undefined) : undefined;
    if (error instanceof APIError && (status === 401 || status === 403))
      return { verdict: 'rejected', reason: plain(rejection(error)) };
    return { verdict: 'unchecked', reason: plain(uncheckedReason(error, timeoutMs)) };
  }
}

export function invalidApiKey(reason: string): PerchError {
  const message = `Anthropic did not accept this key: ${reason}. Check that you copied the whole key (it starts with sk-ant-).`;
  return new PerchError('invalid_api_key', 400, message, { fields: [{ field: 'api_key', message }] });
}

/**
 * Checks a key with the upstream, then saves it — unless the upstream refused it: then nothing
 * is saved (a key that was there stays) and the refusal is thrown as `invalid_api_key`. A key
 * that could not be checked (offline, a slow or failing upstream) is saved, with a warning.
 */
export async function checkAndSaveApiKey(keys: ApiKeySource, apiKey: string, options: KeyCheckOptions): Promise<SavedKey> {
  const check = await checkApiKey(apiKey, options);
  if (check.verdict === 'rejected') throw invalidApiKey(check.reason);
  keys.set(apiKey);
  return check.verdict === 'accepted'
    ? { verified: true }
    : { verified: false, warning: `Saved, but Perch could not reach Anthropic to check it: ${check.reason}.` };
}

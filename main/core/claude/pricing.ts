/** Token counts as the Messages API reports them. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /**
   * True when output_tokens is Perch's estimate, not the upstream's count: the answer ended
   * (stopped, cut, timed out) before message_delta brought the final figure. Absent otherwise.
   */
  estimated?: boolean;
}

/**
 * Characters per output token for an estimate: Anthropic's rule of thumb for English text
 * (code and other languages run denser, so this errs low rather than high).
 */
export const CHARS_PER_TOKEN = 4;

/**
 * The usage of an answer that ended before its final count arrived. Anthropic bills every token
 * it generated, and message_start reports only 1 output token, so the output is estimated from
 * the characters that did arrive (text, thinking and tool-call JSON) at CHARS_PER_TOKEN — never
 * less than what the upstream had reported — and marked as estimated.
 */
export function estimatedUsage(reported: TokenUsage, generatedChars: number): TokenUsage {
  const estimate = Math.ceil(generatedChars / CHARS_PER_TOKEN);
  return { ...reported, output_tokens: Math.max(reported.output_tokens, estimate), estimated: true };
}

interface Rate {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
}

/**
 * Anthropic's published list prices (USD per million tokens), matched by model-id prefix so
 * dated snapshots (`claude-sonnet-4-5-20250929`) price like their alias. Longest prefix wins.
 * Prompt-cache writes cost 1.25× input and cache reads 0.1× input on every current model.
 */
const RATES: ReadonlyArray<readonly [prefix: string, rate: Rate]> = [
  ['claude-fable-5', { input: 10, output: 50 }],
  ['claude-mythos-5', { input: 10, output: 50 }],
  ['claude-opus-5-5', { input: 4, output: 20 }],
  ['claude-opus-5', { input: 5, output: 25 }],
  ['claude-opus-4-8', { input: 5, output: 25 }],
  ['claude-opus-4-7', { input: 5, output: 25 }],
  ['claude-opus-4-6', { input: 5, output: 25 }],
  ['claude-opus-4-5', { input: 5, output: 25 }],
  ['claude-opus-4-1', { input: 15, output: 75 }],
  ['claude-opus-4', { input: 15, output: 75 }],
  ['claude-sonnet-5', { input: 2, output: 10 }],
  ['claude-sonnet-4', { input: 3, output: 15 }],
  ['claude-3-7-sonnet', { input: 3, output: 15 }],
  ['claude-haiku-5-5', { input: 0.1, output: 0.5 }],
  ['claude-haiku-4-5', { input: 1, output: 5 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4 }],
  ['claude-3-haiku', { input: 0.25, output: 1.25 }],
];

const CACHE_WRITE_MULTIPLIER = 1.25;
const CACHE_READ_MULTIPLIER = 0.1;

function rateFor(model: string): Rate | undefined {
  let best: readonly [string, Rate] | undefined;
  for (const entry of RATES) {
    if (model.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/** Estimated cost in USD, or null for a model whose price Perch does not know. */
export function estimateCostUsd(model: string, usage: TokenUsage): number | null {
  const rate = rateFor(model);
  if (!rate) return null;
  const cacheWrites = usage.cache_creation_input_tokens ?? 0;
  const cacheReads = usage.cache_read_input_tokens ?? 0;
  const dollars =
    (usage.input_tokens * rate.input +
      cacheWrites * rate.input * CACHE_WRITE_MULTIPLIER +
      cacheReads * rate.input * CACHE_READ_MULTIPLIER +
      usage.output_tokens * rate.output) /
    1_000_000;
  // Micro-dollar precision is plenty for an estimate and keeps JSON free of float noise.
  return Math.round(dollars * 1_000_000) / 1_000_000;
}

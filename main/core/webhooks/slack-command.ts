import { z } from 'zod';
import type { ClaudeAnswer, ClaudeRequest, StreamHandlers } from '../claude/claude-client.js';
import type { TokenUsage } from '../claude/pricing.js';
import { invalidRequest, isPerchError, redactSecrets } from '../errors.js';
import type { Settings } from '../settings/schema.js';
import type { UsageRecord } from '../storage/usage-store.js';
import type { BackgroundJobs } from './background.js';

/** Slack shows at most 40,000 characters of a message's text; answers are cut a little below. */
export const SLACK_TEXT_LIMIT = 39_000;
const RESPONSE_TIMEOUT_MS = 15_000;

export const SLACK_SYSTEM_PROMPT =
  'You are answering a Slack slash command; your answer is posted to the channel. Be direct and concise. ' +
  'Format with Slack mrkdwn: *bold*, _italic_, `code`, ```code blocks```, and simple bulleted lists; no tables and no # headings.';

/** The slash-command form fields Perch uses (Slack sends many more). */
const slashCommand = z.object({
  text: z.string().default(''),
  command: z.string().default('/perch'),
  response_url: z.string().optional(),
});

export interface SlashCommand {
  text: string;
  command: string;
  responseUrl: string | undefined;
}

export interface SlackAck {
  response_type: 'ephemeral';
  text: string;
}

/** Parses the form body; a response_url that is not http(s) is refused (400). */
export function parseSlashCommand(body: Buffer): SlashCommand {
  const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  const parsed = slashCommand.safeParse(form);
  if (!parsed.success) throw invalidRequest('The Slack command form is malformed.');
  const { text, command, response_url: responseUrl } = parsed.data;
  if (responseUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(responseUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw invalidRequest("The Slack command's response_url is not an http(s) URL.");
    }
  }
  return { text, command, responseUrl };
}

/** Cuts an answer to Slack's limit at a paragraph or line break, closing an open code block. */
export function trimForSlack(text: string, limit: number = SLACK_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  const room = limit - 200;
  let cut = text.slice(0, room);
  // Never split a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const paragraph = cut.lastIndexOf('\n\n');
  const line = cut.lastIndexOf('\n');
  const boundary = paragraph > room - 4000 ? paragraph : line > room - 2000 ? line : -1;
  if (boundary > 0) cut = cut.slice(0, boundary);
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut += '\n```';
  const left = text.length - cut.length;
  return `${cut}\n\n_…the answer was trimmed to fit Slack's message limit (${left.toLocaleString('en-US')} more characters were cut)._`;
}

export interface SlackCommandsOptions {
  jobs: BackgroundJobs;
  settings: () => Settings;
  claude: { stream(request: ClaudeRequest, handlers?: StreamHandlers): Promise<ClaudeAnswer> };
  recordUsage: (record: UsageRecord) => void;
  /** Whether usage can still be recorded (false once the database has closed). */
  canRecord: () => boolean;
  secrets: () => ReadonlyArray<string | undefined>;
  fetch?: typeof fetch | undefined;
  /** Wait before the one retry of a failed post to response_url. */
  retryDelayMs?: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Slack slash commands: acknowledged at once, answered in the background by posting to the
 * command's response_url (once more if the first post fails).
 */
export class SlackCommands {
  constructor(private readonly options: SlackCommandsOptions) {}

  /** What Slack shows the person right away; starts the answer when there is a question. */
  accept(command: SlashCommand): SlackAck {
    if (command.text.trim() === '') {
      return {
        response_type: 'ephemeral',
        text: `Ask Claude anything: \`${command.command} your question\`. The answer is posted to this channel.`,
      };
    }
    const responseUrl = command.responseUrl;
    if (responseUrl === undefined) throw invalidRequest('The Slack command has no response_url to answer to.');
    void this.options.jobs.run(undefined, (signal) => this.answer(command.text, responseUrl, signal));
    return { response_type: 'ephemeral', text: 'Asking Claude…' };
  }

  private async answer(question: string, responseUrl: string, signal: AbortSignal): Promise<void> {
    const settings = this.options.settings();
    const custom = settings.claude.systemPrompt.trim();
    let message: { response_type: 'in_channel' | 'ephemeral'; text: string };
    try {
      const answer = await this.options.claude.stream(
        {
          model: settings.claude.model,
          max_tokens: settings.claude.maxTokens,
          system: custom ? `${SLACK_SYSTEM_PROMPT}\n\n${custom}` : SLACK_SYSTEM_PROMPT,
          messages: [{ role: 'user', content: question }],
        },
        { signal },
      );
      this.recordUsage(answer.model, answer.usage);
      const text = answer.text.trim() === '' ? '_Claude returned an empty answer._' : answer.text;
      message = { response_type: 'in_channel', text: trimForSlack(text) };
    } catch (error) {
      const failure = error as { usage?: TokenUsage; model?: string };
      if (failure.usage && failure.usage.input_tokens + failure.usage.output_tokens > 0) {
        this.recordUsage(failure.model ?? settings.claude.model, failure.usage);
      }
      const reason = isPerchError(error) ? error.message : 'an unexpected error.';
      const secrets = [
        ...this.options.secrets(),
        settings.github.token,
        settings.github.webhookSecret,
        settings.slack.signingSecret,
      ];
      message = {
        response_type: 'ephemeral',
        text: redactSecrets(`Perch could not get an answer from Claude: ${reason}`, secrets),
      };
    }
    await this.post(responseUrl, message, signal);
  }

  private recordUsage(model: string, usage: TokenUsage): void {
    if (this.options.canRecord()) this.options.recordUsage({ source: 'slack', model, usage });
  }

  /** Posts to response_url; one retry after a network error or a 5xx. Returns whether Slack took it. */
  private async post(url: string, message: unknown, signal: AbortSignal): Promise<boolean> {
    const fetchImpl = this.options.fetch ?? fetch;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      let retryable: boolean;
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(message),
          redirect: 'error',
          signal: AbortSignal.any([signal, AbortSignal.timeout(RESPONSE_TIMEOUT_MS)]),
        });
        await res.body?.cancel();
        if (res.ok) return true;
        retryable = res.status >= 500;
      } catch {
        retryable = !signal.aborted;
      }
      if (!retryable || attempt === 2) return false;
      await sleep(this.options.retryDelayMs ?? 500);
    }
    return false;
  }
}

import { randomBytes } from 'node:crypto';
import type {
  ContentBlockParam,
  MessageParam,
  RawMessageStreamEvent,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import { invalidRequest } from '../errors.js';
import type { AnswerBlock, ClaudeAnswer, ClaudeRequest } from '../claude/claude-client.js';
import type { TokenUsage } from '../claude/pricing.js';

/**
 * Translation between OpenAI's Chat Completions API and Anthropic's Messages API, so tools
 * that speak only OpenAI (Continue, Zed, Cline, the `openai` SDK) can use Claude through Perch.
 */

export type TextPart = { type: 'text'; text: string };
export type ImagePart = { type: 'image_url'; image_url: { url: string; detail?: string | undefined } };
export type ContentPart = TextPart | ImagePart;

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAiMessage =
  | { role: 'system' | 'developer'; content: string | TextPart[] }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content?: string | TextPart[] | null | undefined; tool_calls?: OpenAiToolCall[] | null | undefined }
  | { role: 'tool'; content: string | TextPart[]; tool_call_id: string };

export interface ChatCompletionRequest {
  model: string;
  messages: OpenAiMessage[];
  max_tokens?: number | null | undefined;
  max_completion_tokens?: number | null | undefined;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  tools?:
    | Array<{
        type: 'function';
        function: { name: string; description?: string | undefined; parameters?: Record<string, unknown> | undefined };
      }>
    | null
    | undefined;
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } } | null | undefined;
  parallel_tool_calls?: boolean | null | undefined;
  user?: string | null | undefined;
}

const textOf = (content: string | TextPart[] | null | undefined): string =>
  typeof content === 'string' ? content : (content ?? []).map((part) => part.text).join('');

const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,(.+)$/s;

function imageBlock(url: string, where: string): ContentBlockParam {
  const data = DATA_URL.exec(url);
  if (data) {
    return {
      type: 'image',
      source: {
        type: 'base64',
        media_type: data[1] as 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp',
        data: data[2] as string,
      },
    };
  }
  if (/^https:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalidRequest(`${where}: images must be https URLs or data URLs of PNG, JPEG, GIF or WebP (data:image/png;base64,…).`);
}

function userBlocks(content: string | ContentPart[], where: string): ContentBlockParam[] {
  if (typeof content === 'string') return content.trim() ? [{ type: 'text', text: content }] : [];
  return content.flatMap((part, index): ContentBlockParam[] => {
    if (part.type === 'text') return part.text.trim() ? [{ type: 'text', text: part.text }] : [];
    return [imageBlock(part.image_url.url, `${where}.content[${index}]`)];
  });
}

function assistantBlocks(message: Extract<OpenAiMessage, { role: 'assistant' }>, where: string): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  const text = textOf(message.content);
  if (text.trim()) blocks.push({ type: 'text', text });
  (message.tool_calls ?? []).forEach((call, index) => {
    let input: unknown;
    try {
      input = call.function.arguments.trim() ? JSON.parse(call.function.arguments) : {};
    } catch {
      throw invalidRequest(`${where}.tool_calls[${index}].function.arguments is not valid JSON.`);
    }
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: input as Record<string, unknown> });
  });
  return blocks;
}

function toolChoice(request: ChatCompletionRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  const noParallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (!choice) return request.parallel_tool_calls === false ? { type: 'auto', ...noParallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...noParallel };
  if (choice === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: choice.function.name, ...noParallel };
}

/** An OpenAI request as a Messages API request. */
export function toClaudeRequest(request: ChatCompletionRequest, defaults: { maxTokens: number }): ClaudeRequest {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  const append = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return;
    const previous = messages.at(-1);
    if (previous?.role === role) (previous.content as ContentBlockParam[]).push(...blocks);
    else messages.push({ role, content: blocks });
  };
  request.messages.forEach((message, index) => {
    const where = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(textOf(message.content));
        break;
      case 'user':
        append('user', userBlocks(message.content, where));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(message, where));
        break;
      case 'tool':
        append('user', [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content) }]);
        break;
    }
  });
  if (messages.length === 0) throw invalidRequest("Field 'messages' needs at least one user message with content.");

  const stop = typeof request.stop === 'string' ? [request.stop] : (request.stop ?? undefined);
  const tools: Tool[] | undefined = request.tools?.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    input_schema: (fn.parameters ?? { type: 'object', properties: {} }) as Tool['input_schema'],
  }));
  const choice = tools?.length ? toolChoice(request) : undefined;
  return {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? defaults.maxTokens,
    messages,
    ...(system.length ? { system: system.join('\n\n') } : {}),
    // OpenAI's temperature runs to 2, Anthropic's to 1.
    ...(typeof request.temperature === 'number' ? { temperature: Math.min(request.temperature, 1) } : {}),
    ...(typeof request.top_p === 'number' ? { top_p: request.top_p } : {}),
    ...(stop?.length ? { stop_sequences: stop } : {}),
    ...(tools?.length ? { tools } : {}),
    ...(choice ? { tool_choice: choice } : {}),
    ...(request.user ? { metadata: { user_id: request.user } } : {}),
  };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export function finishReason(stopReason: string | null): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** OpenAI counts cached prompt tokens inside prompt_tokens; Anthropic reports them apart. */
export function openAiUsage(usage: TokenUsage): Record<string, unknown> {
  const cached = usage.cache_read_input_tokens ?? 0;
  const prompt = usage.input_tokens + cached + (usage.cache_creation_input_tokens ?? 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

export const completionId = (): string => `chatcmpl-${randomBytes(12).toString('base64url')}`;

const toolCalls = (content: AnswerBlock[]): OpenAiToolCall[] =>
  content.flatMap((block) =>
    block.type === 'tool_use'
      ? [{ id: block.id, type: 'function' as const, function: { name: block.name, arguments: JSON.stringify(block.input) } }]
      : [],
  );

/** A finished Claude answer as an OpenAI chat completion. */
export function toCompletion(answer: ClaudeAnswer, id: string, created: number): Record<string, unknown> {
  const calls = toolCalls(answer.content);
  return {
    id,
    object: 'chat.completion',
    created,
    model: answer.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.text === '' && calls.length > 0 ? null : answer.text,
          refusal: null,
          ...(calls.length ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(answer.stopReason),
      },
    ],
    usage: openAiUsage(answer.usage),
  };
}

/**
 * Turns Messages API stream events into Chat Completions chunks as they arrive: the role,
 * then text and tool-call pieces, then the finish reason (and usage, when asked for).
 */
export class CompletionChunker {
  private started = false;
  private model: string;
  private stopReason: string | null = null;
  private readonly toolIndexByBlock = new Map<number, number>();
  private readonly usage: TokenUsage = { input_tokens: 0, output_tokens: 0 };

  constructor(
    private readonly id: string,
    private readonly created: number,
    model: string,
    private readonly includeUsage: boolean,
  ) {
    this.model = model;
  }

  /** The chunks one event produces (often none). */
  push(event: RawMessageStreamEvent): Array<Record<string, unknown>> {
    const chunks: Array<Record<string, unknown>> = [];
    const emit = (delta: Record<string, unknown>, finish: FinishReason | null = null): void => {
      if (!this.started) {
        this.started = true;
        chunks.push(this.chunk({ role: 'assistant', content: '' }, null));
      }
      chunks.push(this.chunk(delta, finish));
    };
    switch (event.type) {
      case 'message_start':
        this.model = event.message.model || this.model;
        this.usage.input_tokens = event.message.usage.input_tokens;
        this.usage.cache_read_input_tokens = event.message.usage.cache_read_input_tokens ?? 0;
        this.usage.cache_creation_input_tokens = event.message.usage.cache_creation_input_tokens ?? 0;
        break;
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          const index = this.toolIndexByBlock.size;
          this.toolIndexByBlock.set(event.index, index);
          emit({
            tool_calls: [
              {
                index,
                id: event.content_block.id,
                type: 'function',
                function: { name: event.content_block.name, arguments: '' },
              },
            ],
          });
        } else if (event.content_block.type === 'text' && event.content_block.text) {
          emit({ content: event.content_block.text });
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') emit({ content: event.delta.text });
        else if (event.delta.type === 'input_json_delta') {
          const index = this.toolIndexByBlock.get(event.index);
          if (index !== undefined) emit({ tool_calls: [{ index, function: { arguments: event.delta.partial_json } }] });
        }
        break;
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.usage.output_tokens = event.usage.output_tokens;
        if (typeof event.usage.input_tokens === 'number') this.usage.input_tokens = event.usage.input_tokens;
        break;
      case 'message_stop':
        emit({}, finishReason(this.stopReason));
        if (this.includeUsage) chunks.push({ ...this.chunk({}, null), choices: [], usage: openAiUsage(this.usage) });
        break;
      default:
        break;
    }
    return chunks;
  }

  private chunk(delta: Record<string, unknown>, finish: FinishReason | null): Record<string, unknown> {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  }
}

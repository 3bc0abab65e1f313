/**
 * A task's events: what Perch saves and streams of the agent's work (ARCHITECTURE.md, "Tasks").
 * The SDK's messages are normalised into these as they arrive; messages of kinds Perch does
 * not know are kept raw (task_messages) and never thrown on.
 */

export type TaskStatus = 'queued' | 'running' | 'needs_approval' | 'done' | 'failed' | 'stopped';

/** The statuses a task rests in: no agent process runs for it. */
export const SETTLED_STATUSES: ReadonlySet<TaskStatus> = new Set(['done', 'failed', 'stopped']);

export type PermissionStatus = 'pending' | 'allowed' | 'denied' | 'timed_out' | 'cancelled';

export interface TaskError {
  type: string;
  message: string;
}

/** Events saved in the task's record, in order (`seq`), replayed to anyone who follows it. */
export type TaskEvent =
  | { type: 'prompt'; data: { text: string } }
  | { type: 'text'; data: { text: string } }
  | { type: 'tool_use'; data: { id: string; name: string; input: unknown } }
  | { type: 'tool_result'; data: { tool_use_id: string; content: string; is_error: boolean } }
  | { type: 'permission_request'; data: { id: string; tool: string; input: unknown; tool_use_id: string | null } }
  | { type: 'permission_decision'; data: { id: string; decision: Exclude<PermissionStatus, 'pending'>; message?: string } }
  | { type: 'status'; data: { status: TaskStatus } }
  | { type: 'retry'; data: { attempt: number; max_retries: number; error: string } }
  | { type: 'turn_end'; data: { result: string | null; is_error: boolean; turns: number; duration_ms: number } }
  | { type: 'error'; data: { error: TaskError } };

export type TaskEventType = TaskEvent['type'];

/** Live only, never saved: a piece of Claude's text as it streams. */
export interface TextDelta {
  type: 'text_delta';
  data: { text: string };
}

/** Longest tool output kept in an event (the raw message keeps all of it). */
export const MAX_EVENT_CONTENT = 64 * 1024;

const clip = (text: string): string =>
  text.length <= MAX_EVENT_CONTENT
    ? text
    : `${text.slice(0, MAX_EVENT_CONTENT)}\n… (${text.length - MAX_EVENT_CONTENT} more characters)`;

type Block = { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown } & Record<string, unknown>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** A tool result's content as text: strings as they are, text blocks joined, other blocks named. */
export function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((block: unknown) => {
      if (!isRecord(block)) return '';
      if (block.type === 'text' && typeof block.text === 'string') return block.text;
      return `[${typeof block.type === 'string' ? block.type : 'content'}]`;
    })
    .join('\n');
}

function contentBlocks(message: unknown): Block[] {
  if (!isRecord(message)) return [];
  const content = message.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isRecord) : [];
}

/** The events one SDK message adds to the transcript (none for most system messages). */
export function eventsOfMessage(message: unknown): TaskEvent[] {
  if (!isRecord(message)) return [];
  switch (message.type) {
    case 'assistant': {
      // Subagents' work (parent_tool_use_id set) shows through their own tool's result.
      if (message.parent_tool_use_id) return [];
      const events: TaskEvent[] = [];
      for (const block of contentBlocks(message.message)) {
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
          events.push({ type: 'text', data: { text: block.text } });
        } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
          events.push({ type: 'tool_use', data: { id: block.id, name: block.name, input: block.input ?? {} } });
        }
      }
      return events;
    }
    case 'user': {
      if (message.parent_tool_use_id) return [];
      const events: TaskEvent[] = [];
      for (const block of contentBlocks(message.message)) {
        if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
          events.push({
            type: 'tool_result',
            data: { tool_use_id: block.tool_use_id, content: clip(resultText(block.content)), is_error: block.is_error === true },
          });
        }
      }
      return events;
    }
    case 'system':
      if (message.subtype === 'api_retry') {
        return [
          {
            type: 'retry',
            data: {
              attempt: typeof message.attempt === 'number' ? message.attempt : 0,
              max_retries: typeof message.max_retries === 'number' ? message.max_retries : 0,
              error: typeof message.error === 'string' ? message.error : 'unknown',
            },
          },
        ];
      }
      return [];
    default:
      return [];
  }
}

/** A streamed piece of Claude's text, from a partial message (`includePartialMessages`). */
export function textDeltaOf(message: unknown): TextDelta | undefined {
  if (!isRecord(message) || message.type !== 'stream_event' || message.parent_tool_use_id) return undefined;
  const event = message.event;
  if (!isRecord(event) || event.type !== 'content_block_delta' || !isRecord(event.delta)) return undefined;
  const { delta } = event;
  return delta.type === 'text_delta' && typeof delta.text === 'string'
    ? { type: 'text_delta', data: { text: delta.text } }
    : undefined;
}

/** What full-text search finds an event by. */
export function searchableText(event: TaskEvent): string {
  switch (event.type) {
    case 'prompt':
    case 'text':
      return event.data.text;
    case 'tool_use': {
      const input = isRecord(event.data.input) ? event.data.input : {};
      const detail = [input.command, input.file_path, input.pattern, input.description].filter(
        (value) => typeof value === 'string',
      );
      return [event.data.name, ...detail].join(' ');
    }
    case 'tool_result':
      return event.data.content.slice(0, 4096);
    default:
      return '';
  }
}

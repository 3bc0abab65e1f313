import type { Message, Session } from './storage/conversation-store.js';
import { editAsDiff } from './tasks/proposed-diff.js';

/**
 * Conversations and task transcripts as files a person keeps: Markdown to read (and paste into
 * notes or a pull request), JSON with everything Perch has.
 */

export type ExportFormat = 'md' | 'json';

export interface ExportFile {
  filename: string;
  contentType: string;
  body: string;
}

/** A file name from a title: lower case, words joined by dashes, never empty. */
export function exportName(title: string, id: string, format: ExportFormat): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `perch-${slug || id}.${format}`;
}

const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

const usd = (cost: number | null): string =>
  cost === null ? 'cost unknown' : `$${cost < 0.01 ? cost.toFixed(4) : cost.toFixed(2)}`;

/** A fence long enough that nothing inside the text can close it. */
function fenced(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`;
}

export function sessionExport(session: Session, messages: Message[], format: ExportFormat, exportedAt: string): ExportFile {
  if (format === 'json') {
    return {
      filename: exportName(session.title, session.id, 'json'),
      contentType: 'application/json; charset=utf-8',
      body: `${JSON.stringify({ exported_at: exportedAt, ...session, messages }, null, 2)}\n`,
    };
  }
  const parts = [`# ${session.title || 'Untitled chat'}`, `Exported from Perch on ${when(exportedAt)}.`];
  if (session.system) parts.push(`**System prompt:**\n\n${session.system}`);
  for (const message of messages) {
    if (message.role === 'user') {
      parts.push(`## You — ${when(message.created_at)}`);
      if (message.context) parts.push(fenced(message.context));
      if (message.attachments.length > 0) {
        parts.push(message.attachments.map((file) => `- Attached: ${file.name} (${file.media_type})`).join('\n'));
      }
      parts.push(message.content);
    } else {
      const tokens = message.usage ? message.usage.input_tokens + message.usage.output_tokens : 0;
      const details = [message.model, tokens ? `${tokens} tokens` : '', message.usage ? usd(message.cost_usd) : '']
        .filter(Boolean)
        .join(' · ');
      parts.push(`## Claude — ${when(message.created_at)}${details ? ` · ${details}` : ''}`);
      parts.push(message.content || '_(no answer)_');
      if (message.status === 'partial') parts.push('_(The answer was cut short here.)_');
      if (message.error) parts.push(`> Error: ${message.error.message}`);
    }
  }
  return {
    filename: exportName(session.title, session.id, 'md'),
    contentType: 'text/markdown; charset=utf-8',
    body: `${parts.join('\n\n')}\n`,
  };
}

/** What a task export needs (the task as the API shows it, with its transcript and changes). */
export interface TaskForExport {
  id: string;
  title: string;
  status: string;
  workspace: { name: string; path: string };
  permission_mode: string;
  model: string;
  turns: number;
  duration_ms: number;
  cost_usd: number | null;
  usage: { input_tokens: number; output_tokens: number };
  created_at: string | null;
  transcript: Array<{ seq: number; type: string; data: unknown; created_at: string | null }>;
  changes: Array<{ path: string; kind: string; diff: string; note?: string }>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** One transcript event as Markdown (nothing for the bookkeeping ones). */
function eventMarkdown(type: string, data: unknown, tools: Map<string, string>): string | undefined {
  const event = isRecord(data) ? data : {};
  switch (type) {
    case 'prompt':
      return `## You\n\n${text(event.text)}`;
    case 'text':
      return text(event.text);
    case 'tool_use': {
      const name = text(event.name);
      tools.set(text(event.id), name);
      const input = isRecord(event.input) ? event.input : {};
      if (name === 'Bash') return `**Ran** \`${text(input.command)}\``;
      if (name === 'Read') return `**Read** \`${text(input.file_path)}\``;
      if (name === 'Write') return `**Wrote** \`${text(input.file_path)}\`\n\n${fenced(text(input.content))}`;
      if (name === 'Edit')
        return `**Edited** \`${text(input.file_path)}\`\n\n${fenced(editAsDiff(text(input.old_string), text(input.new_string)), 'diff')}`;
      return `**${name}**\n\n${fenced(JSON.stringify(input, null, 2), 'json')}`;
    }
    case 'tool_result': {
      const output = text(event.content);
      if (!output.trim()) return undefined;
      const from = tools.get(text(event.tool_use_id));
      if (event.is_error === true) return `> ${output.split('\n').slice(0, 6).join('\n> ')}`;
      return from === 'Bash' ? fenced(output) : undefined;
    }
    case 'permission_request':
      return `_Asked to use ${text(event.tool)}._`;
    case 'permission_decision':
      return `_${text(event.decision).replace('_', ' ')}${event.message ? `: ${text(event.message)}` : ''}._`;
    case 'error': {
      const error = isRecord(event.error) ? event.error : {};
      return `> **Error:** ${text(error.message)}`;
    }
    default:
      return undefined;
  }
}

export function taskExport(task: TaskForExport, format: ExportFormat, exportedAt: string): ExportFile {
  if (format === 'json') {
    return {
      filename: exportName(task.title, task.id, 'json'),
      contentType: 'application/json; charset=utf-8',
      body: `${JSON.stringify({ exported_at: exportedAt, ...task }, null, 2)}\n`,
    };
  }
  const tokens = task.usage.input_tokens + task.usage.output_tokens;
  const parts = [
    `# ${task.title}`,
    [
      `- Workspace: ${task.workspace.name} (\`${task.workspace.path}\`)`,
      `- Status: ${task.status.replace('_', ' ')} · ${task.permission_mode} mode · ${task.model}`,
      `- ${task.turns} turns · ${tokens} tokens · ${usd(task.cost_usd)} · ${(task.duration_ms / 1000).toFixed(1)} s`,
      `- Exported from Perch on ${when(exportedAt)}`,
    ].join('\n'),
  ];
  const tools = new Map<string, string>();
  for (const event of task.transcript) {
    const markdown = eventMarkdown(event.type, event.data, tools);
    if (markdown) parts.push(markdown);
  }
  if (task.changes.length > 0) {
    parts.push('## Files changed');
    for (const change of task.changes) {
      parts.push(`### ${change.path} (${change.kind})`);
      parts.push(change.note ? `_${change.note}_` : fenced(change.diff, 'diff'));
    }
  }
  return {
    filename: exportName(task.title, task.id, 'md'),
    contentType: 'text/markdown; charset=utf-8',
    body: `${parts.join('\n\n')}\n`,
  };
}

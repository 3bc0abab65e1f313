import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveDataDir } from '../core/paths.js';
import type { CliEnvironment } from './program.js';
import type { Output } from './output.js';
import { ServiceClient, ServiceError, type ServerSentEvent } from './service-client.js';

/** A task as the API answers with it (the fields the CLI shows). */
interface Task {
  id: string;
  title: string;
  status: string;
  workspace: { name: string; path: string };
  permission_mode: string;
  result: string | null;
  error: { type: string; message: string } | null;
  turns: number;
  duration_ms: number;
  cost_usd: number | null;
  usage: { input_tokens: number; output_tokens: number };
  created_at: string;
}

interface Change {
  path: string;
  kind: 'added' | 'modified' | 'deleted';
  diff: string;
  note?: string;
}

export interface TaskFlags {
  workspace?: string;
  mode?: string;
  model?: string;
  maxTurns?: number;
  maxBudget?: number;
  follow?: string;
  continue?: string;
  stop?: string;
  list?: boolean;
  diff?: boolean;
  json?: boolean;
  dataDir?: string;
}

const MODES = ['default', 'acceptEdits', 'plan', 'bypassPermissions'];
/** Lines of a command's output (or a written file) shown before "… N more lines". */
const SHOWN_LINES = 12;

const positiveNumber = (integer: boolean) => (value: string) => {
  const number = Number(value);
  if (!(number > 0) || (integer && !Number.isInteger(number))) {
    throw new InvalidArgumentError(integer ? 'expected a whole number above 0.' : 'expected a number above 0.');
  }
  return number;
};

/** Asks one line of the person at the terminal (or of piped input); undefined when there is none. */
export type LineReader = (prompt: string) => Promise<string | undefined>;

/** Colours for a terminal that shows them (and NO_COLOR unset); plain text elsewhere. */
function palette(enabled: boolean) {
  const wrap = (code: string) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { dim: wrap('2'), bold: wrap('1'), green: wrap('32'), red: wrap('31'), yellow: wrap('33'), cyan: wrap('36') };
}

function clipLines(text: string, limit = SHOWN_LINES): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.length <= limit ? lines : [...lines.slice(0, limit), `… ${lines.length - limit} more lines`];
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Prints a task's events as they arrive: Claude's words as they stream, each tool call on a
 * line of its own (edits as the lines they change), command output shortened, and every
 * permission request asked at the terminal.
 */
export class TaskPrinter {
  private streaming = false;
  private readonly color;
  private readonly toolNames = new Map<string, string>();
  /** Permission requests by id → their tool call, and the calls a person declined (their error result says it again). */
  private readonly requestTools = new Map<string, string>();
  private readonly declined = new Set<string>();

  constructor(
    private readonly out: Output,
    private readonly workspace: string,
    colors: boolean,
  ) {
    this.color = palette(colors);
  }

  private relative(file: string): string {
    const relative = path.relative(this.workspace, file);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  }

  private endStream(): void {
    if (this.streaming) this.out.write('\n');
    this.streaming = false;
  }

  /** What a tool call does, in a line a person reads at a glance. */
  describeTool(name: string, input: Record<string, unknown>): string[] {
    const { dim, cyan, green, red } = this.color;
    switch (name) {
      case 'Bash':
        return [cyan(`$ ${str(input.command)}`)];
      case 'Read':
        return [`${dim('→')} Read ${this.relative(str(input.file_path))}`];
      case 'Write':
        return [
          `${cyan('✎')} Write ${this.relative(str(input.file_path))}`,
          ...clipLines(str(input.content)).map((line) => green(`  + ${line}`)),
        ];
      case 'Edit':
        return [
          `${cyan('✎')} Edit ${this.relative(str(input.file_path))}`,
          ...clipLines(str(input.old_string), 6).map((line) => red(`  - ${line}`)),
          ...clipLines(str(input.new_string), 6).map((line) => green(`  + ${line}`)),
        ];
      case 'Glob':
      case 'Grep':
        return [`${dim('→')} ${name} ${str(input.pattern)}${input.path ? ` in ${this.relative(str(input.path))}` : ''}`];
      default: {
        const summary = JSON.stringify(input);
        return [`${dim('→')} ${name} ${summary.length > 120 ? `${summary.slice(0, 119)}…` : summary}`];
      }
    }
  }

  print(event: ServerSentEvent): void {
    const { dim, red, yellow, green } = this.color;
    const data = event.data as Record<string, unknown>;
    switch (event.event) {
      case 'text_delta':
        this.out.write(str(data.text));
        this.streaming = true;
        return;
      case 'text':
        // Streamed already (live), or a replay: then the whole block at once.
        if (this.streaming) this.endStream();
        else this.out.stdout(str(data.text));
        return;
      case 'tool_use':
        this.endStream();
        this.toolNames.set(str(data.id), str(data.name));
        for (const line of this.describeTool(str(data.name), (data.input ?? {}) as Record<string, unknown>))
          this.out.stdout(line);
        return;
      case 'tool_result': {
        this.endStream();
        const content = str(data.content);
        if (this.declined.has(str(data.tool_use_id))) return;
        if (data.is_error === true) {
          for (const line of clipLines(content, 4)) this.out.stdout(red(`  ✗ ${line}`));
        } else if (this.toolNames.get(str(data.tool_use_id)) === 'Bash' && content.trim()) {
          for (const line of clipLines(content)) this.out.stdout(dim(`  ${line}`));
        }
        return;
      }
      case 'permission_request':
        this.endStream();
        this.requestTools.set(str(data.id), str(data.tool_use_id));
        return;
      case 'permission_decision': {
        this.endStream();
        const decision = str(data.decision);
        if (decision !== 'allowed') this.declined.add(this.requestTools.get(str(data.id)) ?? '');
        const mark = decision === 'allowed' ? green('✓ allowed') : yellow(`✗ ${decision.replace('_', ' ')}`);
        this.out.stdout(`  ${mark}${data.message ? dim(` — ${str(data.message)}`) : ''}`);
        return;
      }
      case 'retry':
        this.endStream();
        this.out.stdout(dim(`  (Claude did not answer: ${str(data.error)}; trying again)`));
        return;
      case 'error': {
        this.endStream();
        const error = data.error as { message?: string } | undefined;
        this.out.stdout(red(`✗ ${error?.message ?? 'The task failed.'}`));
        return;
      }
      default:
        return;
    }
  }
}

/** A tool call in a few words, for the question that asks whether it may run. */
function shortLabel(tool: string, input: Record<string, unknown>): string {
  const file = str(input.file_path);
  switch (tool) {
    case 'Bash':
      return `running \`${str(input.command)}\``;
    case 'Write':
      return `writing ${path.basename(file)}`;
    case 'Edit':
    case 'MultiEdit':
      return `editing ${path.basename(file)}`;
    default:
      return tool;
  }
}

/** Asks about one permission request at the terminal; undefined when nobody can answer here. */
async function askAt(
  readLine: LineReader,
  out: Output,
  request: { id: string; tool: string; input: Record<string, unknown> },
): Promise<{ decision: 'allow' | 'deny'; message?: string; answers?: Record<string, string> } | undefined> {
  if (request.tool === 'AskUserQuestion') {
    const questions = (request.input.questions ?? []) as Array<{ question: string; options?: Array<{ label: string }> }>;
    const answers: Record<string, string> = {};
    for (const question of questions) {
      out.stdout(`? ${question.question}`);
      (question.options ?? []).forEach((option, index) => out.stdout(`  ${index + 1}. ${option.label}`));
      const reply = await readLine('  Your answer (a number or your own words): ');
      if (reply === undefined) return undefined;
      const chosen = question.options?.[Number(reply.trim()) - 1];
      answers[question.question] = chosen ? chosen.label : reply.trim();
    }
    return { decision: 'allow', answers };
  }
  const reply = await readLine(`? Allow ${shortLabel(request.tool, request.input)}? [y/N] `);
  if (reply === undefined) return undefined;
  if (/^y(es)?$/i.test(reply.trim())) return { decision: 'allow' };
  const reason = await readLine('  Why not? (told to Claude; Enter to skip) ');
  return reason?.trim() ? { decision: 'deny', message: reason.trim() } : { decision: 'deny' };
}

function formatCost(usd: number | null): string {
  if (usd === null) return 'cost unknown';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

function changeLine(change: Change): string {
  const mark = change.kind === 'added' ? 'A' : change.kind === 'deleted' ? 'D' : 'M';
  if (change.note) return `  ${mark} ${change.path} (${change.note})`;
  const lines = change.diff.split('\n');
  const added = lines.filter((line) => line.startsWith('+') && !line.startsWith('+++')).length;
  const removed = lines.filter((line) => line.startsWith('-') && !line.startsWith('---')).length;
  return `  ${mark} ${change.path} (+${added} −${removed})`;
}

/** Follows a task until its turn ends, answering its permission requests; returns the task. */
async function followTask(
  client: ServiceClient,
  taskId: string,
  workspace: string,
  environment: CliEnvironment,
  readLine: LineReader,
  colors: boolean,
  quiet: boolean,
): Promise<Task> {
  const { out } = environment;
  const printer = new TaskPrinter(out, workspace, colors);
  let after = 0;
  // A dropped connection is picked up again where it stopped (events carry their seq).
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const pending: Array<{ id: string; tool: string; input: Record<string, unknown> }> = [];
    let asking: Promise<void> = Promise.resolve();
    for await (const event of client.follow(`/api/v1/tasks/${taskId}/events?after=${after}`, environment.signal)) {
      if (event.id !== undefined) after = Number(event.id);
      if (event.event === 'done') {
        await asking;
        return event.data as Task;
      }
      if (!quiet) printer.print(event);
      if (event.event === 'permission_request') {
        pending.push(event.data as (typeof pending)[number]);
        // One question at a time, in order; the stream goes on being read meanwhile.
        asking = asking.then(async () => {
          const request = pending.shift();
          if (!request) return;
          const answer = await askAt(readLine, out, request);
          if (!answer) {
            if (!quiet) out.stdout('  (Nobody can answer here: decide in the web UI, or with POST …/permissions/<id>. Waiting.)');
            return;
          }
          try {
            await client.post(`/api/v1/tasks/${taskId}/permissions/${request.id}`, answer, environment.signal);
          } catch (error) {
            // Someone else decided first: the stream says how.
            if (!(error instanceof ServiceError && error.status === 409)) throw error;
          }
        });
      }
    }
    await asking;
  }
  throw new ServiceError(
    502,
    'stream_cut',
    'The connection to Perch kept dropping; the task goes on. Follow it again with --follow.',
  );
}

async function runTask(
  prompt: string | undefined,
  flags: TaskFlags,
  environment: CliEnvironment,
  readLine: LineReader,
): Promise<number> {
  const { env, out } = environment;
  const client = ServiceClient.forDataDir(resolveDataDir(flags.dataDir, env), env);
  if (flags.list) {
    const { tasks, needs_approval } = await client.get<{ tasks: Task[]; needs_approval: number }>('/api/v1/tasks?limit=20');
    if (flags.json) out.stdout(JSON.stringify({ tasks, needs_approval }, null, 2));
    else if (tasks.length === 0) out.stdout('No tasks yet. Start one with: npx perch task "…"');
    else
      for (const task of tasks)
        out.stdout(`${task.id}  ${task.status.padEnd(14)} ${task.workspace.name.padEnd(16)} ${task.title}`);
    return 0;
  }
  if (flags.stop) {
    const task = await client.post<Task>(`/api/v1/tasks/${flags.stop}/stop`, {}, environment.signal);
    out.stdout(`Task ${task.id} is ${task.status}.`);
    return 0;
  }
  let task: Task;
  if (flags.follow) {
    task = await client.get<Task>(`/api/v1/tasks/${flags.follow}`);
  } else if (flags.continue) {
    if (!prompt) throw new ServiceError(400, 'invalid_request_error', 'Say what to do next: perch task --continue <id> "…".');
    task = await client.post<Task>(`/api/v1/tasks/${flags.continue}/messages`, { prompt }, environment.signal);
  } else {
    if (!prompt)
      throw new ServiceError(
        400,
        'invalid_request_error',
        'Nothing to do: give the task in words, perch task "make the failing test pass".',
      );
    const folder = path.resolve(flags.workspace ?? '.');
    task = await client.post<Task>(
      '/api/v1/tasks',
      {
        prompt,
        // A folder (the current one by default), or a workspace's name.
        workspace: flags.workspace !== undefined && !existsSync(folder) ? flags.workspace : folder,
        source: 'cli',
        ...(flags.mode ? { permission_mode: flags.mode } : {}),
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.maxTurns ? { max_turns: flags.maxTurns } : {}),
        ...(flags.maxBudget ? { max_budget_usd: flags.maxBudget } : {}),
      },
      environment.signal,
    );
  }

  const colors = process.stdout.isTTY && !env.NO_COLOR && !flags.json;
  const { bold, dim } = palette(colors);
  if (!flags.json)
    out.stdout(dim(`Task ${task.id} in ${task.workspace.name} (${task.workspace.path}), ${task.permission_mode} mode`));
  let finished: Task;
  try {
    finished = await followTask(
      client,
      task.id,
      task.workspace.path,
      environment,
      flags.json ? () => Promise.resolve(undefined) : readLine,
      colors,
      flags.json === true,
    );
  } catch (error) {
    if ((error as Error).name === 'AbortError') {
      out.stderr(
        `\nLeft the task running. Follow it with: npx perch task --follow ${task.id}\nStop it with: npx perch task --stop ${task.id}`,
      );
    }
    throw error;
  }
  const { changes } = await client.get<{ changes: Change[] }>(`/api/v1/tasks/${task.id}/changes`);
  if (flags.json) {
    out.stdout(JSON.stringify({ ...finished, changes }, null, 2));
  } else {
    out.stdout('');
    if (changes.length > 0) {
      out.stdout(bold('Files changed:'));
      for (const change of changes) out.stdout(changeLine(change));
      if (flags.diff)
        for (const change of changes) if (change.diff) out.write(change.diff.endsWith('\n') ? change.diff : `${change.diff}\n`);
    } else {
      out.stdout('No files changed.');
    }
    const tokens = finished.usage.input_tokens + finished.usage.output_tokens;
    out.stdout(
      `${finished.status === 'done' ? '✓' : '✗'} ${finished.status} · ${formatCost(finished.cost_usd)} · ${tokens.toLocaleString('en')} tokens · ${finished.turns} turns · ${(finished.duration_ms / 1000).toFixed(1)} s`,
    );
    if (finished.status === 'done') {
      out.stdout(dim(`Follow up with: npx perch task --continue ${finished.id} "…"`));
    } else if (finished.error) {
      out.stderr(`perch: ${finished.error.message}`);
    }
  }
  return finished.status === 'done' ? 0 : 1;
}

export function addTaskCommand(program: Command, environment: CliEnvironment, dataDirOption: readonly [string, string]): void {
  program
    .command('task')
    .description('have Claude Code do something in a workspace (the current folder by default), and watch it work')
    .argument('[prompt...]', 'what to do, in words')
    .option('-w, --workspace <folder>', 'the workspace: a registered folder (or one inside it), or its name')
    .addOption(new Option('--mode <mode>', 'permission mode').choices(MODES))
    .option('--model <model>', 'model for this task (default: setting tasks.model)')
    .option('--max-turns <n>', 'stop after this many turns', positiveNumber(true))
    .option('--max-budget <usd>', 'stop once the task has spent this much', positiveNumber(false))
    .option('--follow <id>', 'follow a task that is already running (answering its questions here)')
    .option('--continue <id>', 'send a follow-up to a finished task, in the same Claude Code session')
    .option('--stop <id>', 'stop a task')
    .option('--list', 'list recent tasks')
    .option('--diff', 'print the whole diff of each changed file at the end')
    .option('--json', 'print the finished task as JSON (permission requests are left to other clients)')
    .option(...dataDirOption)
    .action(async (words: string[], flags: TaskFlags) => {
      const prompt = words.join(' ').trim() || undefined;
      environment.setExitCode(await runTask(prompt, flags, environment, environment.readLine));
    });
}

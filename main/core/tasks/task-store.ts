import { PerchError, notFound } from '../errors.js';
import type { Db } from '../storage/database.js';
import { toFtsQuery } from '../storage/conversation-store.js';
import { newId } from '../storage/ids.js';
import { searchableText, type PermissionStatus, type TaskError, type TaskEvent, type TaskStatus } from './task-events.js';
import type { Workspace } from './workspaces.js';

export type PermissionMode = 'default' | 'acceptEdits' | 'plan' | 'bypassPermissions';
/** Where a task was started from. */
export type TaskSource = 'api' | 'cli' | 'ui' | 'job';

export interface TaskRecord {
  id: string;
  workspace_id: string | null;
  workspace_name: string;
  workspace_path: string;
  title: string;
  prompt: string;
  status: TaskStatus;
  permission_mode: PermissionMode;
  model: string;
  max_turns: number | null;
  max_budget_usd: number | null;
  allowed_tools: string[];
  source: TaskSource;
  /** Nobody is watching (a schedule): questions pause the task instead of waiting at a prompt. */
  unattended: boolean;
  pending_prompt: string | null;
  agent_session_id: string | null;
  agent_info: Record<string, unknown> | null;
  result: string | null;
  error: TaskError | null;
  turns: number;
  duration_ms: number;
  pid: number | null;
  pid_started: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** What a new task is made of: where, what, and how freely the agent may act. */
export type NewTask = Pick<
  TaskRecord,
  'prompt' | 'permission_mode' | 'model' | 'max_turns' | 'max_budget_usd' | 'allowed_tools' | 'source' | 'unattended'
> & { workspace: Workspace };

export interface StoredEvent {
  seq: number;
  type: TaskEvent['type'];
  data: unknown;
  created_at: number;
}

export interface PermissionRecord {
  id: string;
  task_id: string;
  tool_use_id: string | null;
  tool: string;
  input: unknown;
  status: PermissionStatus;
  message: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface FileBefore {
  path: string;
  existed: boolean;
  content: Buffer | null;
  too_large: boolean;
}

interface TaskRow extends Omit<TaskRecord, 'allowed_tools' | 'unattended' | 'agent_info' | 'error'> {
  allowed_tools: string;
  unattended: number;
  agent_info: string | null;
  error_type: string | null;
  error_message: string | null;
}

interface PermissionRow extends Omit<PermissionRecord, 'input'> {
  input: string;
}

const toTask = ({ error_type, error_message, ...row }: TaskRow): TaskRecord => ({
  ...row,
  allowed_tools: JSON.parse(row.allowed_tools) as string[],
  unattended: row.unattended === 1,
  agent_info: row.agent_info === null ? null : (JSON.parse(row.agent_info) as Record<string, unknown>),
  error: error_type === null ? null : { type: error_type, message: error_message ?? '' },
});

const toPermission = (row: PermissionRow): PermissionRecord => ({ ...row, input: JSON.parse(row.input) as unknown });

/** A task's title: the first line of its prompt, short. */
export function titleOf(prompt: string): string {
  const line = prompt.trim().split('\n')[0]?.trim() ?? '';
  return line.length <= 80 ? line : `${line.slice(0, 79)}…`;
}

export interface TaskSearchResult {
  task_id: string;
  title: string;
  snippet: string;
  created_at: string;
}

/** Tasks, their events, their approvals and the files they changed, in SQLite. */
export class TaskStore {
  private readonly statements;
  private readonly appendTransaction: (taskId: string, raw: unknown, events: TaskEvent[]) => StoredEvent[];
  /** The next event number of each task seen since start. */
  private readonly nextSeq = new Map<string, number>();
  private readonly nextMessage = new Map<string, number>();

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO tasks (id, workspace_id, workspace_name, workspace_path, title, prompt, status, permission_mode, model,
           max_turns, max_budget_usd, allowed_tools, source, unattended, pending_prompt, created_at, updated_at)
         VALUES (@id, @workspace_id, @workspace_name, @workspace_path, @title, @prompt, 'queued', @permission_mode, @model,
           @max_turns, @max_budget_usd, @allowed_tools, @source, @unattended, @prompt, @now, @now)`,
      ),
      byId: db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?'),
      page: db.prepare<[number], TaskRow>('SELECT * FROM tasks ORDER BY created_at DESC, id DESC LIMIT ?'),
      pageBefore: db.prepare<[number, number, string, number], TaskRow>(
        'SELECT * FROM tasks WHERE created_at < ? OR (created_at = ? AND id < ?) ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      withStatus: db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE status = ? ORDER BY created_at, id'),
      active: db.prepare<[], TaskRow>(`SELECT * FROM tasks WHERE status IN ('running', 'needs_approval') ORDER BY created_at`),
      update: db.prepare('UPDATE tasks SET status = @status, updated_at = @now WHERE id = @id'),
      queueTurn: db.prepare(
        `UPDATE tasks SET status = 'queued', pending_prompt = @prompt, error_type = NULL, error_message = NULL,
           updated_at = @now WHERE id = @id`,
      ),
      startTurn: db.prepare(
        `UPDATE tasks SET status = 'running', pending_prompt = NULL, started_at = COALESCE(started_at, @now),
           finished_at = NULL, updated_at = @now WHERE id = @id`,
      ),
      setProcess: db.prepare('UPDATE tasks SET pid = @pid, pid_started = @pid_started, updated_at = @now WHERE id = @id'),
      setAgent: db.prepare('UPDATE tasks SET agent_session_id = @session, agent_info = @info, updated_at = @now WHERE id = @id'),
      endTurn: db.prepare(
        `UPDATE tasks SET status = @status, result = COALESCE(@result, result), error_type = @error_type,
           error_message = @error_message, turns = turns + @turns, duration_ms = duration_ms + @duration_ms,
           pid = NULL, pid_started = NULL, pending_prompt = NULL, finished_at = @now, updated_at = @now
         WHERE id = @id`,
      ),
      maxSeq: db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM task_events WHERE task_id = ?'),
      maxMessage: db.prepare<[string], { seq: number | null }>('SELECT MAX(seq) AS seq FROM task_messages WHERE task_id = ?'),
      insertEvent: db.prepare('INSERT INTO task_events (task_id, seq, type, data, text, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      insertMessage: db.prepare('INSERT INTO task_messages (task_id, seq, message) VALUES (?, ?, ?)'),
      eventsAfter: db.prepare<[string, number], { seq: number; type: TaskEvent['type']; data: string; created_at: number }>(
        'SELECT seq, type, data, created_at FROM task_events WHERE task_id = ? AND seq > ? ORDER BY seq',
      ),
      insertPermission: db.prepare(
        `INSERT INTO task_permissions (id, task_id, tool_use_id, tool, input, status, created_at)
         VALUES (@id, @task_id, @tool_use_id, @tool, @input, 'pending', @now)`,
      ),
      decide: db.prepare(
        `UPDATE task_permissions SET status = @status, message = @message, decided_at = @now
         WHERE id = @id AND task_id = @task_id AND status = 'pending'`,
      ),
      permission: db.prepare<[string, string], PermissionRow>('SELECT * FROM task_permissions WHERE id = ? AND task_id = ?'),
      permissions: db.prepare<[string], PermissionRow>(
        'SELECT * FROM task_permissions WHERE task_id = ? ORDER BY created_at, id',
      ),
      pending: db.prepare<[string], PermissionRow>(
        `SELECT * FROM task_permissions WHERE task_id = ? AND status = 'pending' ORDER BY created_at, id`,
      ),
      pendingCount: db.prepare<[], { count: number }>(`SELECT COUNT(*) AS count FROM task_permissions WHERE status = 'pending'`),
      captureFile: db.prepare(
        `INSERT OR IGNORE INTO task_files (task_id, path, existed, content, too_large, captured_at)
         VALUES (@task_id, @path, @existed, @content, @too_large, @now)`,
      ),
      hasFile: db.prepare<[string, string], { found: number }>(
        'SELECT 1 AS found FROM task_files WHERE task_id = ? AND path = ?',
      ),
      files: db.prepare<[string], { path: string; existed: number; content: Buffer | null; too_large: number }>(
        'SELECT path, existed, content, too_large FROM task_files WHERE task_id = ? ORDER BY path',
      ),
      // Newest matches first; one task may match many times, so the caller keeps each task once.
      search: db.prepare<[string, number], { task_id: string; title: string; snippet: string; created_at: number }>(
        `SELECT t.id AS task_id, t.title AS title, snippet(task_events_fts, 0, '**', '**', '…', 16) AS snippet,
           t.created_at AS created_at
         FROM task_events_fts JOIN task_events e ON e.id = task_events_fts.rowid JOIN tasks t ON t.id = e.task_id
         WHERE task_events_fts MATCH ? ORDER BY task_events_fts.rowid DESC LIMIT ?`,
      ),
    };
    this.appendTransaction = db.transaction((taskId: string, raw: unknown, events: TaskEvent[]) => {
      const now = this.now();
      if (raw !== undefined) {
        const seq = this.nextMessage.get(taskId) ?? (this.statements.maxMessage.get(taskId)?.seq ?? 0) + 1;
        this.statements.insertMessage.run(taskId, seq, JSON.stringify(raw));
        this.nextMessage.set(taskId, seq + 1);
      }
      let seq = this.nextSeq.get(taskId) ?? (this.statements.maxSeq.get(taskId)?.seq ?? 0) + 1;
      const stored: StoredEvent[] = [];
      for (const event of events) {
        this.statements.insertEvent.run(taskId, seq, event.type, JSON.stringify(event.data), searchableText(event), now);
        stored.push({ seq, type: event.type, data: event.data, created_at: now });
        seq += 1;
      }
      this.nextSeq.set(taskId, seq);
      return stored;
    });
  }

  create(task: NewTask): TaskRecord {
    const id = newId('task', this.now());
    this.statements.insert.run({
      id,
      workspace_id: task.workspace.id,
      workspace_name: task.workspace.name,
      workspace_path: task.workspace.path,
      title: titleOf(task.prompt),
      prompt: task.prompt,
      permission_mode: task.permission_mode,
      model: task.model,
      max_turns: task.max_turns,
      max_budget_usd: task.max_budget_usd,
      allowed_tools: JSON.stringify(task.allowed_tools),
      source: task.source,
      unattended: task.unattended ? 1 : 0,
      now: this.now(),
    });
    return this.require(id);
  }

  get(id: string): TaskRecord | undefined {
    const row = this.statements.byId.get(id);
    return row ? toTask(row) : undefined;
  }

  require(id: string): TaskRecord {
    const task = this.get(id);
    if (!task) throw notFound(`No task with id '${id}': GET /api/v1/tasks lists the ones there are.`);
    return task;
  }

  /** Newest first; `before` is the id of the last task of the previous page. */
  list(limit: number, before?: string): { tasks: TaskRecord[]; has_more: boolean } {
    let rows: TaskRow[];
    if (before) {
      const cursor = this.statements.byId.get(before);
      if (!cursor) throw notFound(`No task with id '${before}' to page before.`);
      rows = this.statements.pageBefore.all(cursor.created_at, cursor.created_at, cursor.id, limit + 1);
    } else {
      rows = this.statements.page.all(limit + 1);
    }
    return { tasks: rows.slice(0, limit).map(toTask), has_more: rows.length > limit };
  }

  withStatus(status: TaskStatus): TaskRecord[] {
    return this.statements.withStatus.all(status).map(toTask);
  }

  /** Tasks whose agent should be running (after a crash: whose agent was running). */
  active(): TaskRecord[] {
    return this.statements.active.all().map(toTask);
  }

  setStatus(id: string, status: TaskStatus): void {
    this.statements.update.run({ id, status, now: this.now() });
  }

  /** A turn waits in the queue: the first prompt, or a follow-up. */
  queueTurn(id: string, prompt: string): void {
    this.statements.queueTurn.run({ id, prompt, now: this.now() });
  }

  startTurn(id: string): void {
    this.statements.startTurn.run({ id, now: this.now() });
  }

  /** The agent's process, so a restart after a crash can find it; null once it is gone. */
  setProcess(id: string, pid: number | null, started: string | null): void {
    this.statements.setProcess.run({ id, pid, pid_started: started, now: this.now() });
  }

  setAgent(id: string, sessionId: string, info: Record<string, unknown>): void {
    this.statements.setAgent.run({ id, session: sessionId, info: JSON.stringify(info), now: this.now() });
  }

  endTurn(
    id: string,
    outcome: { status: TaskStatus; result?: string | null; error?: TaskError | null; turns?: number; duration_ms?: number },
  ): void {
    this.statements.endTurn.run({
      id,
      status: outcome.status,
      result: outcome.result ?? null,
      error_type: outcome.error?.type ?? null,
      error_message: outcome.error?.message ?? null,
      turns: outcome.turns ?? 0,
      duration_ms: Math.round(outcome.duration_ms ?? 0),
      now: this.now(),
    });
  }

  /**
   * Saves one SDK message (when given) and the events made from it, in one transaction, so a
   * crash never keeps one without the other. Returns the events with their numbers.
   */
  append(taskId: string, events: TaskEvent[], raw?: unknown): StoredEvent[] {
    if (events.length === 0 && raw === undefined) return [];
    return this.appendTransaction(taskId, raw, events);
  }

  eventsAfter(taskId: string, afterSeq: number): StoredEvent[] {
    return this.statements.eventsAfter
      .all(taskId, afterSeq)
      .map((row) => ({ seq: row.seq, type: row.type, data: JSON.parse(row.data) as unknown, created_at: row.created_at }));
  }

  addPermission(taskId: string, request: { tool: string; input: unknown; toolUseId: string | null }): PermissionRecord {
    const id = newId('perm', this.now());
    this.statements.insertPermission.run({
      id,
      task_id: taskId,
      tool_use_id: request.toolUseId,
      tool: request.tool,
      input: JSON.stringify(request.input ?? {}),
      now: this.now(),
    });
    return this.requirePermission(taskId, id);
  }

  requirePermission(taskId: string, id: string): PermissionRecord {
    const row = this.statements.permission.get(id, taskId);
    if (!row) throw notFound(`Task '${taskId}' has no permission request '${id}'.`);
    return toPermission(row);
  }

  /**
   * Decides a pending request, once: the first decision wins, whoever sends it. Returns the
   * request as decided; a request decided before is a 409 that says how it was decided.
   */
  decide(taskId: string, id: string, status: Exclude<PermissionStatus, 'pending'>, message: string | null): PermissionRecord {
    const changed = this.statements.decide.run({ id, task_id: taskId, status, message, now: this.now() }).changes;
    const request = this.requirePermission(taskId, id);
    if (changed === 0) {
      throw new PerchError(
        'already_decided',
        409,
        `Permission request '${id}' was already ${request.status.replace('_', ' ')}${request.message ? ` (${request.message})` : ''}.`,
      );
    }
    return request;
  }

  permissions(taskId: string): PermissionRecord[] {
    return this.statements.permissions.all(taskId).map(toPermission);
  }

  pendingPermissions(taskId: string): PermissionRecord[] {
    return this.statements.pending.all(taskId).map(toPermission);
  }

  /** How many requests wait for a person, across all tasks (the UI's "needs you" count). */
  pendingCount(): number {
    return this.statements.pendingCount.get()?.count ?? 0;
  }

  /** Keeps a file as it was before the task first changed it (later calls keep the first). */
  captureFile(taskId: string, file: FileBefore): void {
    this.statements.captureFile.run({
      task_id: taskId,
      path: file.path,
      existed: file.existed ? 1 : 0,
      content: file.content,
      too_large: file.too_large ? 1 : 0,
      now: this.now(),
    });
  }

  hasFile(taskId: string, path: string): boolean {
    return this.statements.hasFile.get(taskId, path) !== undefined;
  }

  files(taskId: string): FileBefore[] {
    return this.statements.files
      .all(taskId)
      .map((row) => ({ path: row.path, existed: row.existed === 1, content: row.content, too_large: row.too_large === 1 }));
  }

  search(text: string, limit: number): TaskSearchResult[] {
    const match = toFtsQuery(text);
    if (!match) return [];
    const seen = new Set<string>();
    const results: TaskSearchResult[] = [];
    for (const row of this.statements.search.all(match, limit * 8)) {
      if (seen.has(row.task_id)) continue;
      seen.add(row.task_id);
      results.push({ ...row, created_at: new Date(row.created_at).toISOString() });
      if (results.length === limit) break;
    }
    return results;
  }
}

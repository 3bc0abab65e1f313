import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Schema migrations, applied in order and recorded in `PRAGMA user_version`. Append new
 * entries; never edit one that has shipped.
 */
const MIGRATIONS: ReadonlyArray<string> = [
  `
  -- Small facts about the database itself; the health check writes here to prove it can.
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    title_is_custom INTEGER NOT NULL DEFAULT 0,
    system TEXT,
    model TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_by_recency ON sessions (updated_at DESC, id DESC);

  -- seq is the rowid alias: stable under VACUUM, so the full-text index can point at it.
  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL DEFAULT '',
    context TEXT,
    status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'partial', 'error')),
    model TEXT,
    stop_reason TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cache_creation_input_tokens INTEGER,
    cache_read_input_tokens INTEGER,
    cost_usd REAL,
    error_type TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX messages_by_session ON messages (session_id, seq);

  CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE INDEX attachments_by_message ON attachments (message_id, position);

  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
  END;
  `,
  `
  -- Every answer's tokens, whoever asked (chat, the Anthropic relay, the OpenAI endpoint):
  -- what Perch spent, kept even when the session it belonged to is deleted.
  CREATE TABLE usage (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_input_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL,
    session_id TEXT
  );
  CREATE INDEX usage_by_time ON usage (created_at);
  `,
  `
  -- Scheduled prompts. Times are epoch milliseconds; output says where results go besides history.
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prompt TEXT NOT NULL,
    cron TEXT,
    timezone TEXT,
    interval_seconds INTEGER,
    model TEXT,
    system TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    missed TEXT NOT NULL DEFAULT 'run_once' CHECK (missed IN ('skip', 'run_once')),
    output TEXT NOT NULL DEFAULT '{}',
    last_run_at INTEGER,
    next_run_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE job_runs (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch_up')),
    scheduled_for INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'missed')),
    output TEXT,
    error TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    delivery TEXT
  );
  CREATE INDEX job_runs_by_job ON job_runs (job_id, started_at DESC);

  -- Webhook deliveries already handled, so a redelivery does the work once.
  CREATE TABLE webhook_deliveries (
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (source, delivery_id)
  );

  -- Pull-request reviews posted (or attempted) for GitHub webhooks.
  CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    pr_number INTEGER NOT NULL,
    head_sha TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'posted', 'failed')),
    comment_url TEXT,
    error TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX reviews_by_time ON reviews (created_at DESC);
  `,
  `
  -- Folders tasks may work in (added only from the desktop app or the CLI). path is the real path.
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );

  -- Claude Code at work in a workspace. Times are epoch ms; the process columns let a restart
  -- find an agent left running by a crash.
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    -- The workspace as it was when the task was made: a removed workspace leaves its tasks readable.
    workspace_id TEXT REFERENCES workspaces (id) ON DELETE SET NULL,
    workspace_name TEXT NOT NULL,
    workspace_path TEXT NOT NULL,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'needs_approval', 'done', 'failed', 'stopped')),
    permission_mode TEXT NOT NULL,
    model TEXT NOT NULL,
    max_turns INTEGER,
    max_budget_usd REAL,
    allowed_tools TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL,
    unattended INTEGER NOT NULL DEFAULT 0,
    -- The prompt of the turn waiting in the queue (the first, or a follow-up).
    pending_prompt TEXT,
    agent_session_id TEXT,
    agent_info TEXT,
    result TEXT,
    error_type TEXT,
    error_message TEXT,
    turns INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    pid INTEGER,
    pid_started TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX tasks_by_recency ON tasks (created_at DESC, id DESC);
  CREATE INDEX tasks_by_status ON tasks (status, created_at);

  -- What the agent did, as Perch's events (text, tool_use, tool_result, …), in order.
  CREATE TABLE task_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (task_id, seq)
  );

  -- The agent's own messages, exactly as the SDK gave them (partial stream events aside).
  CREATE TABLE task_messages (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
  );

  CREATE TABLE task_permissions (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tool_use_id TEXT,
    tool TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'allowed', 'denied', 'timed_out', 'cancelled')),
    message TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
  );
  CREATE INDEX task_permissions_by_task ON task_permissions (task_id, created_at);

  -- Each file as it was before the task first changed it (exists = 0: it did not exist).
  CREATE TABLE task_files (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    existed INTEGER NOT NULL,
    content BLOB,
    too_large INTEGER NOT NULL DEFAULT 0,
    captured_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, path)
  );

  CREATE VIRTUAL TABLE task_events_fts USING fts5 (
    text,
    content = 'task_events',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER task_events_fts_insert AFTER INSERT ON task_events WHEN new.text != '' BEGIN
    INSERT INTO task_events_fts (rowid, text) VALUES (new.id, new.text);
  END;
  CREATE TRIGGER task_events_fts_delete AFTER DELETE ON task_events WHEN old.text != '' BEGIN
    INSERT INTO task_events_fts (task_events_fts, rowid, text) VALUES ('delete', old.id, old.text);
  END;

  -- Usage by a task's agent, through the relay.
  ALTER TABLE usage ADD COLUMN task_id TEXT;
  CREATE INDEX usage_by_task ON usage (task_id) WHERE task_id IS NOT NULL;
  `,
  `
  -- A job may run its prompt as a task ({workspace_id, permission_mode, allowed_tools}); its runs
  -- then name the task they started.
  ALTER TABLE jobs ADD COLUMN task TEXT;
  ALTER TABLE job_runs ADD COLUMN task_id TEXT;
  `,
  `
  -- 1 where output_tokens is Perch's estimate from the text that arrived, not the upstream's count:
  -- the answer ended (stopped, cut) before its final count came.
  ALTER TABLE usage ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE job_runs ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- A job may be run by a signed POST to /webhook/jobs/<id> (HMAC-SHA256 with this secret).
  ALTER TABLE jobs ADD COLUMN webhook_secret TEXT;
  -- Runs a webhook started: SQLite cannot widen a CHECK in place, so job_runs is rebuilt
  -- (nothing refers to it; its rows and index are kept).
  CREATE TABLE job_runs_new (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'catch_up', 'webhook')),
    scheduled_for INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'missed')),
    output TEXT,
    error TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_usd REAL,
    delivery TEXT,
    task_id TEXT,
    usage_estimated INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO job_runs_new (id, job_id, trigger, scheduled_for, started_at, finished_at, status, output, error, model,
    input_tokens, output_tokens, cost_usd, delivery, task_id, usage_estimated)
  SELECT id, job_id, trigger, scheduled_for, started_at, finished_at, status, output, error, model,
    input_tokens, output_tokens, cost_usd, delivery, task_id, usage_estimated FROM job_runs;
  DROP TABLE job_runs;
  ALTER TABLE job_runs_new RENAME TO job_runs;
  CREATE INDEX job_runs_by_job ON job_runs (job_id, started_at DESC);
  `,
  `
  -- 1 where a review's output_tokens is Perch's estimate (its answer was cut before the final count).
  ALTER TABLE reviews ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings a database up to this version's schema (or, for tests of a migration, to `upTo`). */
export function migrate(db: Db, upTo: number = MIGRATIONS.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `The history database was written by a newer version of Perch (schema ${current}, this version knows ${MIGRATIONS.length}). Update Perch.`,
    );
  }
  for (let version = current; version < upTo; version += 1) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/**
 * Opens (creating if needed) the history database: owner-only file, WAL so readers never
 * block the writer and a killed process leaves a consistent file, foreign keys enforced.
 */
export function openDatabase(filePath: string): Db {
  if (filePath !== ':memory:') closeSync(openSync(filePath, 'a', 0o600));
  const db = new Database(filePath);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a crashed or killed process; only power loss can drop the
  // last transactions, which is the usual trade for desktop apps.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

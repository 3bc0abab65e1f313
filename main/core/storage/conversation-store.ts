import type { Db } from './database.js';
import { newId } from './ids.js';
import { invalidRequest, notFound, PerchError } from '../errors.js';
import type { TokenUsage } from '../claude/pricing.js';

export type MessageStatus = 'streaming' | 'complete' | 'partial' | 'error';

export interface AttachmentInput {
  name: string;
  media_type: string;
  data: Buffer;
}

export interface AttachmentInfo {
  id: string;
  name: string;
  media_type: string;
  size: number;
}

export interface Session {
  id: string;
  title: string;
  system: string | null;
  model: string | null;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export interface Message {
  id: string;
  session_id: string;
  role: 'user' | 'assistant';
  content: string;
  context: string | null;
  attachments: AttachmentInfo[];
  status: MessageStatus;
  model: string | null;
  stop_reason: string | null;
  usage: TokenUsage | null;
  cost_usd: number | null;
  error: { type: string; message: string } | null;
  created_at: string;
  updated_at: string;
}

/** A past message as Claude needs to see it again: text plus attachment bytes. */
export interface ContextMessage {
  role: 'user' | 'assistant';
  content: string;
  context: string | null;
  attachments: AttachmentInput[];
}

export interface SearchResult {
  session_id: string;
  session_title: string;
  message_id: string;
  role: 'user' | 'assistant';
  snippet: string;
  created_at: string;
}

export interface NewSession {
  title?: string | undefined;
  system?: string | undefined;
  model?: string | undefined;
  /** An earlier exchange to continue from, questions and answers taking turns. */
  messages?: ReadonlyArray<{ role: 'user' | 'assistant'; content: string }> | undefined;
}

export interface NewTurn {
  /** Continue this session; when absent a new session is created. */
  sessionId?: string | undefined;
  newSession?: Pick<NewSession, 'system' | 'model'>;
  user: { content: string; context?: string | undefined; attachments?: AttachmentInput[] | undefined };
  /**
   * Edit or regenerate: this user message of the session and everything after it are deleted
   * first; its attachments carry over to the new question when it brings none of its own.
   */
  replaceFrom?: string | undefined;
  model: string;
}

export interface StartedTurn {
  session: Session;
  userMessage: Message;
  assistantMessageId: string;
  createdSession: boolean;
}

export interface AnswerOutcome {
  content: string;
  status: Exclude<MessageStatus, 'streaming'>;
  model: string;
  stop_reason: string | null;
  usage: TokenUsage | null;
  cost_usd: number | null;
  error?: { type: string; message: string } | undefined;
}

interface SessionRow {
  id: string;
  title: string;
  title_is_custom: number;
  system: string | null;
  model: string | null;
  created_at: number;
  updated_at: number;
  message_count: number;
}

interface MessageRow {
  seq: number;
  id: string;
  session_id: string;
  role: 'user' | 'assistant';
  content: string;
  context: string | null;
  status: MessageStatus;
  model: string | null;
  stop_reason: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
  usage_estimated: number;
  cost_usd: number | null;
  error_type: string | null;
  error_message: string | null;
  created_at: number;
  updated_at: number;
}

const TITLE_LENGTH = 60;
const iso = (ms: number): string => new Date(ms).toISOString();

/** A session is titled from its first message: first line, whitespace collapsed, cut at a word. */
export function titleFrom(text: string): string {
  const line = text.split(/\r?\n/).find((candidate) => candidate.trim() !== '') ?? '';
  const collapsed = line.replace(/\s+/g, ' ').trim();
  if (collapsed.length <= TITLE_LENGTH) return collapsed;
  const cut = collapsed.slice(0, TITLE_LENGTH);
  const lastSpace = cut.lastIndexOf(' ');
  return `${(lastSpace > TITLE_LENGTH / 2 ? cut.slice(0, lastSpace) : cut).trimEnd()}…`;
}

/** Turns what a person typed into an FTS5 query: every word must match, the last as a prefix. */
export function toFtsQuery(text: string): string | undefined {
  const words = text.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return undefined;
  return words.map((word, index) => `"${word}"${index === words.length - 1 ? '*' : ''}`).join(' ');
}

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    title: row.title,
    system: row.system,
    model: row.model,
    message_count: row.message_count,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function toMessage(row: MessageRow, attachments: AttachmentInfo[]): Message {
  const hasUsage = row.input_tokens !== null || row.output_tokens !== null;
  return {
    id: row.id,
    session_id: row.session_id,
    role: row.role,
    content: row.content,
    context: row.context,
    attachments,
    status: row.status,
    model: row.model,
    stop_reason: row.stop_reason,
    usage: hasUsage
      ? {
          input_tokens: row.input_tokens ?? 0,
          output_tokens: row.output_tokens ?? 0,
          cache_creation_input_tokens: row.cache_creation_input_tokens,
          cache_read_input_tokens: row.cache_read_input_tokens,
          // Only on an answer that ended before its final count came: absent means Anthropic's own count.
          ...(row.usage_estimated ? { estimated: true } : {}),
        }
      : null,
    cost_usd: row.cost_usd,
    error: row.error_type ? { type: row.error_type, message: row.error_message ?? '' } : null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

const SESSION_COLUMNS = `s.id, s.title, s.title_is_custom, s.system, s.model, s.created_at, s.updated_at,
  (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count`;

/**
 * Sessions and messages in SQLite. Every write is its own transaction and happens the moment
 * the fact is known (the question before Claude is asked, the answer before it is returned),
 * so a crash never loses what a client already saw.
 */
export class ConversationStore {
  private readonly statements;
  // Built once: wrapping a transaction on every call shows up in profiles of the chat path.
  private readonly startTurnTransaction: (turn: NewTurn) => StartedTurn;
  private readonly createSessionTransaction: (options: NewSession) => Session;
  private readonly finishAnswerTransaction: (messageId: string, outcome: AnswerOutcome) => void;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.statements = {
      session: db.prepare<[string], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.id = ?`),
      insertSession: db.prepare(
        `INSERT INTO sessions (id, title, title_is_custom, system, model, created_at, updated_at)
         VALUES (@id, @title, @title_is_custom, @system, @model, @now, @now)`,
      ),
      touchSession: db.prepare(`UPDATE sessions SET updated_at = ? WHERE id = ?`),
      newestSessions: db.prepare<[number], SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions s ORDER BY s.updated_at DESC, s.id DESC LIMIT ?`,
      ),
      sessionsBefore: db.prepare<[number, number, string, number], SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM sessions s
         WHERE s.updated_at < ? OR (s.updated_at = ? AND s.id < ?)
         ORDER BY s.updated_at DESC, s.id DESC LIMIT ?`,
      ),
      autoTitle: db.prepare(`UPDATE sessions SET title = ? WHERE id = ? AND title_is_custom = 0 AND title = ''`),
      deleteSession: db.prepare(`DELETE FROM sessions WHERE id = ?`),
      messages: db.prepare<[string], MessageRow>(`SELECT * FROM messages WHERE session_id = ? ORDER BY seq`),
      message: db.prepare<[string], MessageRow>(`SELECT * FROM messages WHERE id = ?`),
      attachmentsOfSession: db.prepare<[string], AttachmentInfo & { message_id: string }>(
        `SELECT a.id, a.message_id, a.name, a.media_type, a.size FROM attachments a
         JOIN messages m ON m.id = a.message_id WHERE m.session_id = ? ORDER BY a.message_id, a.position`,
      ),
      attachmentsOfMessage: db.prepare<[string], AttachmentInfo>(
        `SELECT id, name, media_type, size FROM attachments WHERE message_id = ? ORDER BY position`,
      ),
      attachmentDataOfSession: db.prepare<[string], { message_id: string; name: string; media_type: string; data: Buffer }>(
        `SELECT a.message_id, a.name, a.media_type, a.data FROM attachments a
         JOIN messages m ON m.id = a.message_id WHERE m.session_id = ? ORDER BY a.message_id, a.position`,
      ),
      attachmentDataOfMessage: db.prepare<[string], { name: string; media_type: string; data: Buffer }>(
        `SELECT name, media_type, data FROM attachments WHERE message_id = ? ORDER BY position`,
      ),
      attachmentOfSession: db.prepare<[string, string], { name: string; media_type: string; data: Buffer }>(
        `SELECT a.name, a.media_type, a.data FROM attachments a
         JOIN messages m ON m.id = a.message_id WHERE a.id = ? AND m.session_id = ?`,
      ),
      answering: db.prepare<[string], { yes: 1 }>(
        `SELECT 1 AS yes FROM messages WHERE session_id = ? AND status = 'streaming' LIMIT 1`,
      ),
      deleteFrom: db.prepare(`DELETE FROM messages WHERE session_id = ? AND seq >= ?`),
      insertMessage: db.prepare(
        `INSERT INTO messages (id, session_id, role, content, context, status, model, created_at, updated_at)
         VALUES (@id, @session_id, @role, @content, @context, @status, @model, @now, @now)`,
      ),
      insertAttachment: db.prepare(
        `INSERT INTO attachments (id, message_id, position, name, media_type, size, data)
         VALUES (@id, @message_id, @position, @name, @media_type, @size, @data)`,
      ),
      saveProgress: db.prepare(`UPDATE messages SET content = ?, updated_at = ? WHERE id = ? AND status = 'streaming'`),
      finish: db.prepare(
        `UPDATE messages SET content = @content, status = @status, model = @model, stop_reason = @stop_reason,
           input_tokens = @input_tokens, output_tokens = @output_tokens,
           cache_creation_input_tokens = @cache_creation_input_tokens, cache_read_input_tokens = @cache_read_input_tokens,
           usage_estimated = @usage_estimated, cost_usd = @cost_usd, error_type = @error_type, error_message = @error_message,
           updated_at = @now
         WHERE id = @id`,
      ),
      recoverWithText: db.prepare(
        `UPDATE messages SET status = 'partial', error_type = 'interrupted',
           error_message = 'Perch stopped before this answer finished.', updated_at = ?
         WHERE status = 'streaming' AND content <> ''`,
      ),
      recoverEmpty: db.prepare(
        `UPDATE messages SET status = 'error', error_type = 'interrupted',
           error_message = 'Perch stopped before this answer began.', updated_at = ?
         WHERE status = 'streaming' AND content = ''`,
      ),
      search: db.prepare<[string, number], SearchResult & { created_ms: number }>(
        `SELECT m.session_id, s.title AS session_title, m.id AS message_id, m.role,
                snippet(messages_fts, 0, '**', '**', '…', 16) AS snippet, m.created_at AS created_ms
         FROM messages_fts
         JOIN messages m ON m.seq = messages_fts.rowid
         JOIN sessions s ON s.id = m.session_id
         WHERE messages_fts MATCH ?
         ORDER BY messages_fts.rowid DESC
         LIMIT ?`,
      ),
      count: db.prepare<[], { sessions: number; messages: number }>(
        `SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM messages) AS messages`,
      ),
    };
    this.startTurnTransaction = db.transaction((turn: NewTurn) => this.recordTurn(turn));
    this.createSessionTransaction = db.transaction((options: NewSession) => this.recordSession(options));
    this.finishAnswerTransaction = db.transaction((messageId: string, outcome: AnswerOutcome) =>
      this.recordOutcome(messageId, outcome),
    );
  }

  /** A new session: empty, or holding an earlier exchange (saved as complete messages) to continue from. */
  createSession(options: NewSession = {}): Session {
    return this.createSessionTransaction(options);
  }

  private recordSession(options: NewSession): Session {
    const now = this.now();
    const id = newId('ses', now);
    const title = options.title?.trim() ?? '';
    this.statements.insertSession.run({
      id,
      title,
      title_is_custom: title ? 1 : 0,
      system: options.system ?? null,
      model: options.model ?? null,
      now,
    });
    for (const message of options.messages ?? []) {
      this.statements.insertMessage.run({
        id: newId('msg', now),
        session_id: id,
        role: message.role,
        content: message.content,
        context: null,
        status: 'complete',
        model: null,
        now,
      });
    }
    const first = options.messages?.[0]?.content;
    if (!title && first) this.statements.autoTitle.run(titleFrom(first), id);
    return this.requireSession(id);
  }

  getSession(id: string): Session | undefined {
    const row = this.statements.session.get(id);
    return row ? toSession(row) : undefined;
  }

  requireSession(id: string): Session {
    const session = this.getSession(id);
    if (!session) throw notFound(`No session with id '${id}'. List sessions with GET /api/v1/sessions.`);
    return session;
  }

  /** Newest first. `before` is the id of the last session of the previous page. */
  listSessions(options: { limit: number; before?: string | undefined }): { sessions: Session[]; has_more: boolean } {
    const { limit } = options;
    let rows: SessionRow[];
    if (options.before) {
      const cursor = this.statements.session.get(options.before);
      if (!cursor) throw notFound(`No session with id '${options.before}' to page before.`);
      rows = this.statements.sessionsBefore.all(cursor.updated_at, cursor.updated_at, cursor.id, limit + 1);
    } else {
      rows = this.statements.newestSessions.all(limit + 1);
    }
    return { sessions: rows.slice(0, limit).map(toSession), has_more: rows.length > limit };
  }

  updateSession(
    id: string,
    changes: { title?: string | undefined; system?: string | null | undefined; model?: string | null | undefined },
  ): Session {
    this.requireSession(id);
    this.db.transaction(() => {
      if (changes.title !== undefined) {
        const title = changes.title.trim();
        this.db.prepare(`UPDATE sessions SET title = ?, title_is_custom = ? WHERE id = ?`).run(title, title ? 1 : 0, id);
        if (!title) this.retitleFromFirstMessage(id);
      }
      if (changes.system !== undefined) this.db.prepare(`UPDATE sessions SET system = ? WHERE id = ?`).run(changes.system, id);
      if (changes.model !== undefined) this.db.prepare(`UPDATE sessions SET model = ? WHERE id = ?`).run(changes.model, id);
      this.statements.touchSession.run(this.now(), id);
    })();
    return this.requireSession(id);
  }

  deleteSession(id: string): void {
    const result = this.statements.deleteSession.run(id);
    if (result.changes === 0) throw notFound(`No session with id '${id}'.`);
  }

  messages(sessionId: string): Message[] {
    this.requireSession(sessionId);
    const attachments = new Map<string, AttachmentInfo[]>();
    for (const { message_id, ...info } of this.statements.attachmentsOfSession.all(sessionId)) {
      const list = attachments.get(message_id) ?? [];
      list.push(info);
      attachments.set(message_id, list);
    }
    return this.statements.messages.all(sessionId).map((row) => toMessage(row, attachments.get(row.id) ?? []));
  }

  message(id: string): Message | undefined {
    const row = this.statements.message.get(id);
    return row ? toMessage(row, this.statements.attachmentsOfMessage.all(id)) : undefined;
  }

  /** One attached file of a session, with its bytes. */
  attachment(sessionId: string, attachmentId: string): AttachmentInput {
    this.requireSession(sessionId);
    const found = this.statements.attachmentOfSession.get(attachmentId, sessionId);
    if (!found) throw notFound(`Session ${sessionId} has no attachment ${attachmentId}.`);
    return found;
  }

  /**
   * The conversation so far as Claude should see it: questions, and answers that produced
   * text (complete or partial). Failed and empty answers are left out.
   */
  context(sessionId: string): ContextMessage[] {
    const data = new Map<string, AttachmentInput[]>();
    for (const { message_id, name, media_type, data: bytes } of this.statements.attachmentDataOfSession.all(sessionId)) {
      const list = data.get(message_id) ?? [];
      list.push({ name, media_type, data: bytes });
      data.set(message_id, list);
    }
    return this.statements.messages
      .all(sessionId)
      .filter((row) => row.role === 'user' || ((row.status === 'complete' || row.status === 'partial') && row.content !== ''))
      .map((row) => ({ role: row.role, content: row.content, context: row.context, attachments: data.get(row.id) ?? [] }));
  }

  /**
   * Records a question and reserves its answer in one transaction: the session (new or
   * existing), the user's message with its attachments, and an assistant message in
   * `streaming` state that `saveProgress` and `finishAnswer` fill in.
   */
  startTurn(turn: NewTurn): StartedTurn {
    return this.startTurnTransaction(turn);
  }

  private recordTurn(turn: NewTurn): StartedTurn {
    const now = this.now();
    let createdSession = false;
    let sessionId = turn.sessionId;
    let user = turn.user;
    if (sessionId) {
      this.requireSession(sessionId);
      if (turn.replaceFrom) user = this.cutFrom(sessionId, turn.replaceFrom, user);
    } else {
      sessionId = this.recordSession(turn.newSession ?? {}).id;
      createdSession = true;
    }
    const userMessageId = newId('msg', now);
    this.statements.insertMessage.run({
      id: userMessageId,
      session_id: sessionId,
      role: 'user',
      content: user.content,
      context: user.context ?? null,
      status: 'complete',
      model: null,
      now,
    });
    (user.attachments ?? []).forEach((attachment, position) => {
      this.statements.insertAttachment.run({
        id: newId('att', now),
        message_id: userMessageId,
        position,
        name: attachment.name,
        media_type: attachment.media_type,
        size: attachment.data.length,
        data: attachment.data,
      });
    });
    const assistantMessageId = newId('msg', now);
    this.statements.insertMessage.run({
      id: assistantMessageId,
      session_id: sessionId,
      role: 'assistant',
      content: '',
      context: null,
      status: 'streaming',
      model: turn.model,
      now,
    });
    const firstAttachment = user.attachments?.[0]?.name;
    const title = titleFrom(user.content) || (firstAttachment ? titleFrom(firstAttachment) : '');
    if (title) this.statements.autoTitle.run(title, sessionId);
    this.statements.touchSession.run(now, sessionId);
    return {
      session: this.requireSession(sessionId),
      userMessage: this.message(userMessageId) as Message,
      assistantMessageId,
      createdSession,
    };
  }

  /**
   * Deletes a question and everything after it, for an edit or a regenerate; returns the
   * question to ask in its place (with the old one's attachments when it brings none).
   */
  private cutFrom(sessionId: string, messageId: string, user: NewTurn['user']): NewTurn['user'] {
    const row = this.statements.message.get(messageId);
    if (!row || row.session_id !== sessionId || row.role !== 'user') {
      throw notFound(`Session ${sessionId} has no question with id ${messageId} to replace.`);
    }
    if (this.statements.answering.get(sessionId)) {
      throw new PerchError(
        'answer_in_progress',
        409,
        'This conversation is still being answered: stop the answer (or wait for it) before editing or regenerating.',
      );
    }
    const attachments =
      user.attachments ??
      this.statements.attachmentDataOfMessage.all(messageId).map(({ name, media_type, data }) => ({ name, media_type, data }));
    this.statements.deleteFrom.run(sessionId, row.seq);
    if (user.content.trim() === '' && attachments.length === 0) {
      throw invalidRequest("Field 'message' must not be empty.");
    }
    return { ...user, attachments };
  }

  /** Saves the text streamed so far, so a crash mid-answer keeps it. */
  saveProgress(messageId: string, content: string): void {
    this.statements.saveProgress.run(content, this.now(), messageId);
  }

  finishAnswer(messageId: string, outcome: AnswerOutcome): Message {
    this.finishAnswerTransaction(messageId, outcome);
    return this.message(messageId) as Message;
  }

  private recordOutcome(messageId: string, outcome: AnswerOutcome): void {
    const now = this.now();
    this.statements.finish.run({
      id: messageId,
      content: outcome.content,
      status: outcome.status,
      model: outcome.model,
      stop_reason: outcome.stop_reason,
      input_tokens: outcome.usage?.input_tokens ?? null,
      output_tokens: outcome.usage?.output_tokens ?? null,
      cache_creation_input_tokens: outcome.usage?.cache_creation_input_tokens ?? null,
      cache_read_input_tokens: outcome.usage?.cache_read_input_tokens ?? null,
      usage_estimated: outcome.usage?.estimated ? 1 : 0,
      cost_usd: outcome.cost_usd,
      error_type: outcome.error?.type ?? null,
      error_message: outcome.error?.message ?? null,
      now,
    });
    const row = this.statements.message.get(messageId);
    if (row) this.statements.touchSession.run(now, row.session_id);
  }

  /** At start: answers left `streaming` by a crash become partial (or error when empty). */
  recoverInterruptedAnswers(): number {
    const now = this.now();
    return this.db.transaction(
      () => this.statements.recoverWithText.run(now).changes + this.statements.recoverEmpty.run(now).changes,
    )();
  }

  /**
   * Messages matching every word, newest first. Walking the index in rowid order lets FTS5
   * stop after `limit` hits instead of ranking every match, which keeps common words fast.
   */
  search(query: string, limit: number): SearchResult[] {
    const match = toFtsQuery(query);
    if (!match) return [];
    return this.statements.search.all(match, limit).map(({ created_ms, ...result }) => ({
      ...result,
      created_at: iso(created_ms),
    }));
  }

  counts(): { sessions: number; messages: number } {
    return this.statements.count.get() ?? { sessions: 0, messages: 0 };
  }

  private retitleFromFirstMessage(sessionId: string): void {
    const first = this.db
      .prepare<[string], { content: string }>(
        `SELECT content FROM messages WHERE session_id = ? AND role = 'user' ORDER BY seq LIMIT 1`,
      )
      .get(sessionId);
    if (first) this.statements.autoTitle.run(titleFrom(first.content), sessionId);
  }
}

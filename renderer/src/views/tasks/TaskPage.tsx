import { lazy, Suspense, useEffect, useMemo, useState, type KeyboardEvent, type ReactNode, type SubmitEvent } from 'react';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { formatCost } from '../../answers/format';
import { ApiError, messageOf } from '../../api/client';
import type { PermissionRequest, Task, TaskChange, TaskEvent } from '../../api/types';
import { useApi } from '../../app/api-context';
import { ExportMenu } from '../../app/ExportMenu';
import { isSendKey } from '../../app/keyboard';
import { taskHref } from '../../app/router';
import { AnswerBody, UserBubble } from '../chat/MessageView';
import { StatusChip } from './StatusChip';
import { ToolCard, shortPath, type Decision, type ToolCall } from './ToolCard';
import { ACTIVE_STATUSES, useTask } from './use-task';
import './tasks.css';

const CodeBlock = lazy(() => import('../../markdown').then((module) => ({ default: module.CodeBlock })));

type Item =
  | { kind: 'prompt'; key: string; text: string }
  | { kind: 'text'; key: string; text: string }
  | { kind: 'tool'; key: string; call: ToolCall }
  | { kind: 'note'; key: string; text: string }
  | { kind: 'error'; key: string; error: { type: string; message: string } };

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};

/** The transcript as a person reads it: each tool call one card, with its result and its approval. */
function itemsOf(events: TaskEvent[], requests: PermissionRequest[]): Item[] {
  const items: Item[] = [];
  const calls = new Map<string, ToolCall>();
  const requestFor = new Map(requests.filter((request) => request.tool_use_id).map((request) => [request.tool_use_id, request]));
  for (const event of events) {
    const data = record(event.data);
    const key = String(event.seq);
    switch (event.type) {
      case 'prompt':
        items.push({ kind: 'prompt', key, text: text(data.text) });
        break;
      case 'text':
        items.push({ kind: 'text', key, text: text(data.text) });
        break;
      case 'tool_use': {
        const call: ToolCall = {
          id: String(data.id),
          name: String(data.name),
          input: record(data.input),
          request: requestFor.get(String(data.id)),
        };
        calls.set(call.id, call);
        items.push({ kind: 'tool', key, call });
        break;
      }
      case 'tool_result': {
        const call = calls.get(String(data.tool_use_id));
        if (call) call.result = { content: text(data.content), is_error: data.is_error === true };
        break;
      }
      case 'turn_end':
        items.push({
          kind: 'note',
          key,
          text: `Turn finished · ${String(data.turns)} turns · ${(Number(data.duration_ms) / 1000).toFixed(1)} s`,
        });
        break;
      case 'retry':
        items.push({ kind: 'note', key, text: `Claude did not answer (${String(data.error)}); trying again.` });
        break;
      case 'error':
        items.push({ kind: 'error', key, error: record(data.error) as { type: string; message: string } });
        break;
      case 'status':
        if (data.status === 'stopped') items.push({ kind: 'note', key, text: 'Stopped.' });
        break;
      default:
        break;
    }
  }
  return items;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function Stats({ task }: { task: Task }) {
  const tokens = task.usage.input_tokens + task.usage.output_tokens;
  return (
    <dl className="task-stats">
      <div>
        <dt>Workspace</dt>
        <dd title={task.workspace.path}>{task.workspace.name}</dd>
      </div>
      <div>
        <dt>Mode</dt>
        <dd>{task.permission_mode}</dd>
      </div>
      <div>
        <dt>Turns</dt>
        <dd>{task.turns}</dd>
      </div>
      <div>
        <dt>Tokens</dt>
        <dd>{tokens.toLocaleString()}</dd>
      </div>
      <div>
        <dt>Cost</dt>
        <dd>{formatCost(task.cost_usd)}</dd>
      </div>
      <div>
        <dt>Time</dt>
        <dd>{formatDuration(task.duration_ms)}</dd>
      </div>
    </dl>
  );
}

/** The files the task changed, each with its diff and a download. */
function Changes({ taskId, workspace, version }: { taskId: string; workspace: string; version: string }) {
  const { api } = useApi();
  const [changes, setChanges] = useState<TaskChange[] | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  useEffect(() => {
    const controller = new AbortController();
    api.get<{ changes: TaskChange[] }>(`/api/v1/tasks/${encodeURIComponent(taskId)}/changes`, controller.signal).then(
      (found) => setChanges(found.changes),
      (error: unknown) => setProblem(messageOf(error, 'The changes could not be loaded.')),
    );
    return () => controller.abort();
  }, [api, taskId, version]);
  if (problem) return <ErrorNotice error={{ type: 'error', message: problem }} />;
  if (!changes) return <p className="hint">Looking at the files…</p>;
  if (changes.length === 0) return <p className="task-empty">No files changed yet in {shortPath(workspace, workspace)}.</p>;
  return (
    <ul className="change-list" aria-label="Files changed">
      {changes.map((change) => (
        <li key={change.path} className="change">
          <header className="change-head">
            <span className={`change-kind ${change.kind}`}>{change.kind}</span>
            <code className="change-path">{change.path}</code>
            {change.kind !== 'deleted' && (
              <button
                className="button quiet"
                type="button"
                aria-label={`Download ${change.path}`}
                onClick={() =>
                  void api
                    .download(
                      `/api/v1/tasks/${encodeURIComponent(taskId)}/files?path=${encodeURIComponent(change.path)}`,
                      change.path.split('/').pop() ?? 'file',
                    )
                    .catch((error: unknown) => setProblem(messageOf(error, 'The download failed.')))
                }
              >
                Download
              </button>
            )}
          </header>
          {change.note ? (
            <p className="hint">{change.note}</p>
          ) : (
            <Suspense
              fallback={
                <pre className="output-block tool-output">
                  <code>{change.diff}</code>
                </pre>
              }
            >
              <CodeBlock code={change.diff.replace(/\n$/, '')} lang="diff" finished />
            </Suspense>
          )}
        </li>
      ))}
    </ul>
  );
}

function FollowUp({ onSend }: { onSend: (prompt: string) => Promise<void> }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const send = async (event?: SubmitEvent): Promise<void> => {
    event?.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true);
    try {
      await onSend(text.trim());
      setText('');
    } finally {
      setBusy(false);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (isSendKey(event)) {
      event.preventDefault();
      void send();
    }
  };
  return (
    <form className="task-follow-up" onSubmit={(event) => void send(event)}>
      <textarea
        className="input"
        aria-label="Follow-up"
        placeholder="What next? (Enter sends, Shift+Enter for a new line)"
        rows={2}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button className="button primary" type="submit" disabled={!text.trim() || busy}>
        Send
      </button>
    </form>
  );
}

/** One task: what Claude does as it happens, what it asks, what it changed; follow up or stop it. */
export default function TaskPage({ taskId }: { taskId: string }) {
  const { api } = useApi();
  const { task, events, liveText, error, refresh } = useTask(taskId);
  const [tab, setTab] = useState<'transcript' | 'changes'>('transcript');
  const [problem, setProblem] = useState<string | undefined>();
  const items = useMemo(() => itemsOf(events, task?.permission_requests ?? []), [events, task?.permission_requests]);
  const active = task !== undefined && ACTIVE_STATUSES.has(task.status);
  const pending = task?.permission_requests.filter((request) => request.status === 'pending').length ?? 0;
  const base = `/api/v1/tasks/${encodeURIComponent(taskId)}`;

  const act = async (run: () => Promise<unknown>): Promise<void> => {
    setProblem(undefined);
    try {
      await run();
    } catch (caught) {
      setProblem(caught instanceof ApiError ? caught.message : 'Perch did not answer.');
    } finally {
      refresh();
    }
  };
  const decide = (request: PermissionRequest, decision: Decision): Promise<void> =>
    act(() => api.request('POST', `${base}/permissions/${encodeURIComponent(request.id)}`, decision));

  let body: ReactNode;
  if (tab === 'changes' && task) {
    body = <Changes taskId={taskId} workspace={task.workspace.path} version={`${task.status}-${task.updated_at}`} />;
  } else {
    body = (
      <>
        {items.map((item) => {
          switch (item.kind) {
            case 'prompt':
              return <UserBubble key={item.key} text={item.text} attachments={[]} />;
            case 'text':
              return (
                <article key={item.key} className="message assistant" aria-label="Claude">
                  <AnswerBody text={item.text} streaming={false} />
                </article>
              );
            case 'tool':
              return <ToolCard key={item.key} call={item.call} workspace={task?.workspace.path ?? ''} onDecide={decide} />;
            case 'note':
              return (
                <p key={item.key} className="task-note">
                  {item.text}
                </p>
              );
            case 'error':
              return <ErrorNotice key={item.key} error={item.error} />;
          }
        })}
        {liveText && (
          <article className="message assistant" aria-label="Claude">
            <AnswerBody text={liveText} streaming />
          </article>
        )}
        {task?.status === 'running' && !liveText && <p className="task-note working">Claude is working…</p>}
        {task?.status === 'queued' && (
          <p className="task-note">Waiting for its turn (tasks.maxConcurrent, one writer per workspace).</p>
        )}
      </>
    );
  }

  return (
    <div className="task-page">
      <header className="task-header">
        <a className="button quiet" href={taskHref()}>
          ← Tasks
        </a>
        <h1 className="task-title">{task?.title ?? 'Task'}</h1>
        {task && <StatusChip status={task.status} />}
        <div className="task-actions">
          {active && (
            <button className="button danger" type="button" onClick={() => void act(() => api.request('POST', `${base}/stop`))}>
              Stop
            </button>
          )}
          <ExportMenu path={`${base}/export`} what="this task" />
        </div>
      </header>
      {task && <Stats task={task} />}
      <div className="task-tabs" role="tablist" aria-label="Task">
        <button
          className={`tab${tab === 'transcript' ? ' selected' : ''}`}
          type="button"
          role="tab"
          aria-selected={tab === 'transcript'}
          onClick={() => setTab('transcript')}
        >
          Transcript{pending > 0 ? ` (${pending} waiting)` : ''}
        </button>
        <button
          className={`tab${tab === 'changes' ? ' selected' : ''}`}
          type="button"
          role="tab"
          aria-selected={tab === 'changes'}
          onClick={() => setTab('changes')}
        >
          Changes
        </button>
      </div>
      <main className="task-body" aria-busy={task?.status === 'running'}>
        {error && <ErrorNotice error={{ type: 'error', message: error }} />}
        {problem && <ErrorNotice error={{ type: 'error', message: problem }} />}
        {task?.error && !active && tab === 'transcript' && items.every((item) => item.kind !== 'error') && (
          <ErrorNotice error={task.error} />
        )}
        {body}
      </main>
      {task && !active && (
        <footer className="task-footer">
          <FollowUp onSend={(prompt) => act(() => api.request('POST', `${base}/messages`, { prompt }))} />
        </footer>
      )}
    </div>
  );
}

import { useCallback, useEffect, useState, type SubmitEvent } from 'react';
import { formatCost, formatWhen } from '../../answers/format';
import { ApiError, messageOf } from '../../api/client';
import type { Task, TaskList, Workspace } from '../../api/types';
import { useApi } from '../../app/api-context';
import { navigate, taskHref } from '../../app/router';
import { usePollWhile } from '../../app/use-poll-while';
import { StatusChip } from './StatusChip';
import { ModeSelect, WorkspaceSelect, type PickableMode } from './TaskFields';
import { ACTIVE_STATUSES } from './use-task';
import './tasks.css';

/** Starting a task: where, what, and how freely Claude may act. */
function NewTaskForm({ workspaces }: { workspaces: Workspace[] }) {
  const { api } = useApi();
  const [workspace, setWorkspace] = useState(workspaces[0]?.id ?? '');
  const [prompt, setPrompt] = useState('');
  const [mode, setMode] = useState<PickableMode>('default');
  const [model, setModel] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  if (workspaces.length === 0) {
    return (
      <div className="notice" role="note">
        <p>
          <strong>Add a workspace first.</strong> A task works in a project folder you allowed: run this in a terminal, in the
          folder Claude should work in, then come back:
        </p>
        <pre className="command">
          <code>npx perch workspace add .</code>
        </pre>
      </div>
    );
  }

  const start = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (!prompt.trim()) {
      setProblem('Say what Claude should do.');
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      const task = await api.request<Task>('POST', '/api/v1/tasks', {
        prompt: prompt.trim(),
        workspace: workspace || (workspaces[0]?.id ?? ''),
        permission_mode: mode,
        source: 'ui',
        ...(model.trim() ? { model: model.trim() } : {}),
      });
      navigate(taskHref(task.id));
    } catch (error) {
      setProblem(messageOf(error, 'Perch did not answer.'));
      setBusy(false);
    }
  };

  return (
    <form className="task-form" aria-label="New task" onSubmit={(event) => void start(event)}>
      <div className="field">
        <label htmlFor="task-prompt">What should Claude do?</label>
        <textarea
          id="task-prompt"
          className="input"
          rows={3}
          placeholder="Make the failing test pass"
          value={prompt}
          autoFocus
          onChange={(event) => setPrompt(event.target.value)}
        />
      </div>
      <div className="task-form-row">
        <div className="field">
          <label htmlFor="task-workspace">Workspace</label>
          <WorkspaceSelect id="task-workspace" workspaces={workspaces} value={workspace} onChange={setWorkspace} />
        </div>
        <div className="field">
          <label htmlFor="task-mode">Permissions</label>
          <ModeSelect id="task-mode" value={mode} onChange={setMode} />
        </div>
        <div className="field">
          <label htmlFor="task-model">Model</label>
          <input
            id="task-model"
            className="input"
            placeholder="default"
            value={model}
            onChange={(event) => setModel(event.target.value)}
          />
        </div>
      </div>
      {problem && (
        <div className="notice error" role="alert">
          {problem}
        </div>
      )}
      <div className="form-actions">
        <button className="button primary" type="submit" disabled={busy}>
          Start task
        </button>
      </div>
    </form>
  );
}

function TaskRow({ task }: { task: Task }) {
  return (
    <li className={`task-row ${task.status}`}>
      <a className="task-link" href={taskHref(task.id)}>
        <span className="task-row-title">{task.title}</span>
        <span className="task-row-meta">
          <StatusChip status={task.status} />
          <span>{task.workspace.name}</span>
          <span>{formatCost(task.cost_usd)}</span>
          <span>{formatWhen(task.created_at)}</span>
        </span>
      </a>
    </li>
  );
}

/** Tasks, newest first, and a form to start one. */
export default function TasksView() {
  const { api } = useApi();
  const [list, setList] = useState<TaskList | undefined>();
  const [workspaces, setWorkspaces] = useState<Workspace[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  const refresh = useCallback(() => {
    api
      .get<TaskList>('/api/v1/tasks?limit=50')
      .then(setList, (caught: unknown) =>
        setError(caught instanceof ApiError ? caught.message : 'The tasks could not be loaded.'),
      );
  }, [api]);

  useEffect(() => {
    refresh();
    const controller = new AbortController();
    api.workspaces(controller.signal).then(setWorkspaces, () => setWorkspaces([]));
    return () => controller.abort();
  }, [api, refresh]);

  // While any task works, look again every two seconds.
  usePollWhile(list?.tasks.some((task) => ACTIVE_STATUSES.has(task.status)) ?? false, refresh, 2000);

  return (
    <div className="tasks">
      <header className="tasks-header">
        <a className="button quiet" href="#/chat">
          ← Chat
        </a>
        <h1>Tasks</h1>
        {list && list.needs_approval > 0 && (
          <span className="needs-you" role="status">
            {list.needs_approval} {list.needs_approval === 1 ? 'request needs' : 'requests need'} you
          </span>
        )}
      </header>
      <main className="tasks-body">
        {error && (
          <div className="notice error" role="alert">
            {error}
          </div>
        )}
        <section className="task-new" aria-label="Start a task">
          {workspaces && <NewTaskForm workspaces={workspaces} />}
        </section>
        {list?.tasks.length === 0 && (
          <p className="task-empty">
            No tasks yet. A task is Claude Code at work in one of your folders: it reads, edits and runs commands, and asks you
            before anything that needs a yes.
          </p>
        )}
        {list && list.tasks.length > 0 && (
          <ul className="task-list" aria-label="Tasks">
            {list.tasks.map((task) => (
              <TaskRow key={task.id} task={task} />
            ))}
          </ul>
        )}
      </main>
    </div>
  );
}

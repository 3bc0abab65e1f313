import { useEffect, useState, type SubmitEvent } from 'react';
import { ApiError } from '../../api/client';
import type { Job, Workspace } from '../../api/types';
import { useApi } from '../../app/api-context';
import { ModeSelect, WorkspaceSelect, type PickableMode } from '../tasks/TaskFields';

type ScheduleKind = 'cron' | 'interval';
type IntervalUnit = 60 | 3600 | 86_400;

const UNITS: Array<[IntervalUnit, string]> = [
  [60, 'minutes'],
  [3600, 'hours'],
  [86_400, 'days'],
];

function intervalParts(seconds: number | null): { amount: string; unit: IntervalUnit } {
  if (!seconds) return { amount: '30', unit: 60 };
  for (const [unit] of [...UNITS].reverse()) if (seconds % unit === 0) return { amount: String(seconds / unit), unit };
  return { amount: String(Math.max(1, Math.round(seconds / 60))), unit: 60 };
}

/** Creating or changing a scheduled prompt: what to ask, when, and where the answer goes. */
export function JobForm({
  job,
  outputsDir,
  onSaved,
  onCancel,
}: {
  job?: Job;
  /** Perch's folder for results, where a file name given here is kept. */
  outputsDir?: string | undefined;
  onSaved: (job: Job) => void;
  onCancel: () => void;
}) {
  const { api } = useApi();
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [name, setName] = useState(job?.name ?? '');
  const [prompt, setPrompt] = useState(job?.prompt ?? '');
  const [kind, setKind] = useState<ScheduleKind>(job?.interval_seconds ? 'interval' : 'cron');
  const [cron, setCron] = useState(job?.cron ?? '0 9 * * 1-5');
  const [timezone, setTimezone] = useState(job?.timezone ?? browserZone);
  const initialInterval = intervalParts(job?.interval_seconds ?? null);
  const [amount, setAmount] = useState(initialInterval.amount);
  const [unit, setUnit] = useState<IntervalUnit>(initialInterval.unit);
  const [missed, setMissed] = useState(job?.missed ?? 'run_once');
  const [notify, setNotify] = useState(job?.output.notify ?? false);
  const [file, setFile] = useState(job?.output.file ?? '');
  const [url, setUrl] = useState(job?.output.url ?? '');
  const [asTask, setAsTask] = useState(job?.task !== null && job?.task !== undefined);
  const [taskWorkspace, setTaskWorkspace] = useState(job?.task?.workspace ?? '');
  const [taskMode, setTaskMode] = useState<PickableMode>(job?.task?.permission_mode ?? 'default');
  const [allowedTools, setAllowedTools] = useState(job?.task?.allowed_tools.join(', ') ?? '');
  const [workspaces, setWorkspaces] = useState<Workspace[]>([]);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    const controller = new AbortController();
    api.workspaces(controller.signal).then(setWorkspaces, () => undefined);
    return () => controller.abort();
  }, [api]);

  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const body = {
      name,
      prompt,
      ...(kind === 'cron' ? { cron, timezone, interval_seconds: null } : { interval_seconds: Number(amount) * unit, cron: null }),
      missed,
      output: { notify, ...(file.trim() ? { file: file.trim() } : {}), ...(url.trim() ? { url: url.trim() } : {}) },
      task: asTask
        ? {
            workspace: taskWorkspace || (workspaces[0]?.id ?? ''),
            permission_mode: taskMode,
            allowed_tools: allowedTools
              .split(',')
              .map((tool) => tool.trim())
              .filter(Boolean),
          }
        : null,
    };
    try {
      onSaved(
        job
          ? await api.request<Job>('PATCH', `/api/v1/jobs/${encodeURIComponent(job.id)}`, body)
          : await api.request<Job>('POST', '/api/v1/jobs', body),
      );
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : (caught as Error).message);
    }
  };

  return (
    <form
      className="job-form"
      noValidate
      onSubmit={(event) => void save(event)}
      aria-label={job ? `Edit ${job.name}` : 'New job'}
    >
      <div className="field">
        <label htmlFor="job-name">Name</label>
        <input
          id="job-name"
          className="input"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="Morning summary"
        />
      </div>
      <div className="field">
        <label htmlFor="job-prompt">Prompt</label>
        <textarea
          id="job-prompt"
          className="input"
          rows={4}
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          placeholder="Summarise what I should focus on today ({{date}})."
        />
        <p className="hint">
          Can use <code>{'{{date}}'}</code>, <code>{'{{time}}'}</code> and <code>{'{{last_output}}'}</code> (the previous answer).
        </p>
      </div>
      <fieldset className="field">
        <legend className="label">When</legend>
        <label className="check">
          <input type="radio" name="schedule-kind" checked={kind === 'cron'} onChange={() => setKind('cron')} /> On a schedule
          (cron)
        </label>
        {kind === 'cron' && (
          <div className="inline">
            <input
              className="input"
              aria-label="Cron expression"
              value={cron}
              onChange={(event) => setCron(event.target.value)}
            />
            <input
              className="input"
              aria-label="Time zone"
              value={timezone}
              onChange={(event) => setTimezone(event.target.value)}
            />
          </div>
        )}
        {kind === 'cron' && <p className="hint">Minute hour day month weekday — “0 9 * * 1-5” is 9:00 on weekdays.</p>}
        <label className="check">
          <input type="radio" name="schedule-kind" checked={kind === 'interval'} onChange={() => setKind('interval')} /> Every…
        </label>
        {kind === 'interval' && (
          <div className="inline">
            <input
              className="input narrow"
              type="number"
              min={1}
              aria-label="Every how many"
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
            />
            <select
              className="input narrow"
              aria-label="Unit"
              value={unit}
              onChange={(event) => setUnit(Number(event.target.value) as IntervalUnit)}
            >
              {UNITS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor="job-missed">If a run is missed (computer asleep, Perch off)</label>
        <select
          id="job-missed"
          className="input"
          value={missed}
          onChange={(event) => setMissed(event.target.value as 'skip' | 'run_once')}
        >
          <option value="run_once">Run once, late</option>
          <option value="skip">Skip it</option>
        </select>
      </div>
      <fieldset className="field">
        <legend className="label">How it works</legend>
        <label className="check">
          <input type="checkbox" checked={asTask} onChange={(event) => setAsTask(event.target.checked)} /> Run as a task: Claude
          Code at work in a workspace
        </label>
        {asTask &&
          (workspaces.length === 0 ? (
            <p className="hint">
              Add a workspace first: <code>npx perch workspace add &lt;folder&gt;</code>
            </p>
          ) : (
            <>
              <WorkspaceSelect
                label="Task workspace"
                workspaces={workspaces}
                value={taskWorkspace || (workspaces[0]?.id ?? '')}
                onChange={setTaskWorkspace}
              />
              <ModeSelect label="Task permissions" value={taskMode} onChange={setTaskMode} />
              <input
                className="input"
                aria-label="Tools it may use without asking"
                placeholder="Tools it may use without asking, e.g. Bash(npm test), Read"
                value={allowedTools}
                onChange={(event) => setAllowedTools(event.target.value)}
              />
              <p className="hint">
                Nobody watches a scheduled task: anything else it wants to do pauses it and waits for you (Tasks).
              </p>
            </>
          ))}
      </fieldset>
      <fieldset className="field">
        <legend className="label">Besides the history, send the answer to</legend>
        <label className="check">
          <input type="checkbox" checked={notify} onChange={(event) => setNotify(event.target.checked)} /> A desktop notification
        </label>
        <input
          className="input"
          aria-label="Append to file"
          aria-describedby="job-file-hint"
          placeholder="Append to file: morning.md"
          value={file}
          onChange={(event) => setFile(event.target.value)}
        />
        <p className="hint" id="job-file-hint">
          A file name is kept in Perch’s outputs folder{outputsDir ? <> ({outputsDir})</> : null}. Another folder, or a URL on
          this computer or your network, can be chosen only in the Perch desktop app.
        </p>
        <input
          className="input"
          aria-label="Post to URL"
          placeholder="POST to URL (a Slack incoming webhook works)"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
        />
      </fieldset>
      {error && (
        <div className="notice error" role="alert">
          {error}
        </div>
      )}
      <div className="form-actions">
        <button className="button" type="button" onClick={onCancel}>
          Cancel
        </button>
        <button className="button primary" type="submit">
          {job ? 'Save job' : 'Create job'}
        </button>
      </div>
    </form>
  );
}

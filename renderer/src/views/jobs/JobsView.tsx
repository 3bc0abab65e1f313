import { useCallback, useEffect, useRef, useState } from 'react';
import { formatCost, formatWhen } from '../../answers/format';
import { ApiError } from '../../api/client';
import type { Job, JobList, JobRun } from '../../api/types';
import { useApi } from '../../app/api-context';
import { ConfirmDelete } from '../../app/ConfirmDelete';
import { taskHref } from '../../app/router';
import { usePollWhile } from '../../app/use-poll-while';
import { JobForm } from './JobForm';
import { ReviewList } from './ReviewList';
import './jobs.css';

function describeSchedule(job: Job): string {
  if (job.cron) return `${job.cron} (${job.timezone ?? 'system time'})`;
  const seconds = job.interval_seconds ?? 0;
  if (seconds % 86_400 === 0) return `every ${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `every ${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `every ${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `every ${seconds} seconds`;
}

const absolute = (iso: string): string => new Date(iso).toLocaleString();

function RunHistory({ job, version }: { job: Job; version: number }) {
  const { api } = useApi();
  const [runs, setRuns] = useState<JobRun[] | undefined>();
  useEffect(() => {
    const controller = new AbortController();
    api.get<{ runs: JobRun[] }>(`/api/v1/jobs/${encodeURIComponent(job.id)}/runs?limit=20`, controller.signal).then(
      (page) => setRuns(page.runs),
      () => undefined,
    );
    return () => controller.abort();
  }, [api, job.id, version]);
  if (!runs) return <p className="hint">Loading history…</p>;
  if (runs.length === 0) return <p className="hint">No runs yet.</p>;
  return (
    <ol className="run-list" aria-label={`History of ${job.name}`}>
      {runs.map((run) => (
        <li key={run.id} className={`run ${run.status}`}>
          <div className="run-head">
            <span className={`badge ${run.status}`}>{run.status}</span>
            <span title={absolute(run.started_at)}>{formatWhen(run.started_at)}</span>
            {run.trigger !== 'schedule' && (
              <span className="hint">{run.trigger === 'manual' ? 'run by hand' : 'late (caught up)'}</span>
            )}
            {run.cost_usd !== null && <span className="hint">{formatCost(run.cost_usd)}</span>}
          </div>
          {run.output && <div className="run-output">{run.output}</div>}
          {run.error && <p className="run-error">{run.error}</p>}
          {run.task_id && (
            <a className="hint" href={taskHref(run.task_id)}>
              Open its task
            </a>
          )}
          {run.delivery && (
            <p className="hint">
              {Object.entries(run.delivery)
                .map(([channel, outcome]) => `${channel}: ${outcome}`)
                .join(' · ')}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}

function JobCard({ job, onChanged, onEdit }: { job: Job; onChanged: () => void; onEdit: () => void }) {
  const { api } = useApi();
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const dialog = useRef<HTMLDialogElement>(null);
  const act = async (method: string, path: string, body?: unknown): Promise<void> => {
    setProblem(undefined);
    try {
      await api.request(method, path, body);
      onChanged();
      setVersion((current) => current + 1);
    } catch (error) {
      setProblem(error instanceof ApiError ? error.message : (error as Error).message);
    }
  };
  const base = `/api/v1/jobs/${encodeURIComponent(job.id)}`;
  return (
    <li className="job-card">
      <div className="job-head">
        <div className="job-title">
          <h2>{job.name}</h2>
          <p className="hint">
            {describeSchedule(job)} ·{' '}
            {job.running
              ? 'running now'
              : job.next_run_at
                ? `next ${formatWhen(job.next_run_at)} (${absolute(job.next_run_at)})`
                : 'paused'}
          </p>
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={job.enabled}
            onChange={(event) => void act('PATCH', base, { enabled: event.target.checked })}
          />{' '}
          Enabled
        </label>
      </div>
      <p className="job-prompt">{job.prompt}</p>
      {job.task && <p className="hint">Runs as a task ({job.task.permission_mode} mode)</p>}
      <div className="job-actions">
        <button className="button" type="button" disabled={job.running} onClick={() => void act('POST', `${base}/run`)}>
          Run now
        </button>
        <button className="button quiet" type="button" aria-expanded={open} onClick={() => setOpen((current) => !current)}>
          History
        </button>
        <button className="button quiet" type="button" onClick={onEdit}>
          Edit
        </button>
        <button className="button quiet danger" type="button" onClick={() => dialog.current?.showModal()}>
          Delete
        </button>
      </div>
      {problem && (
        <div className="notice error" role="alert">
          {problem}
        </div>
      )}
      {open && <RunHistory job={job} version={version + (job.last_run_at ? Date.parse(job.last_run_at) : 0)} />}
      <ConfirmDelete
        dialogRef={dialog}
        question={`Delete “${job.name}” and its history?`}
        onConfirm={() => void act('DELETE', base)}
      />
    </li>
  );
}

/** Scheduled prompts: what runs when, its history, and a way to add more. */
export default function JobsView() {
  const { api } = useApi();
  const [jobs, setJobs] = useState<Job[] | undefined>();
  const [outputsDir, setOutputsDir] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState<Job | 'new' | undefined>();

  const refresh = useCallback(async () => {
    try {
      setJobs((await api.get<JobList>('/api/v1/jobs')).jobs);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : (caught as Error).message);
    }
  }, [api]);

  useEffect(() => {
    const controller = new AbortController();
    api.get<JobList>('/api/v1/jobs', controller.signal).then(
      (list) => {
        setJobs(list.jobs);
        setOutputsDir(list.outputs_dir);
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [api]);

  // While a run is going, look again every two seconds.
  const pollJobs = useCallback(() => void refresh(), [refresh]);
  usePollWhile(jobs?.some((job) => job.running) ?? false, pollJobs, 2000);

  return (
    <div className="jobs">
      <header className="jobs-header">
        <a className="button quiet" href="#/chat">
          ← Chat
        </a>
        <h1>Scheduled prompts</h1>
        <button className="button primary" type="button" onClick={() => setEditing('new')}>
          New job
        </button>
      </header>
      <main className="jobs-body">
        {error && (
          <div className="notice error" role="alert">
            {error}
          </div>
        )}
        {editing && (
          <section className="job-editor" aria-label={editing === 'new' ? 'New job' : `Edit ${editing.name}`}>
            <JobForm
              {...(editing === 'new' ? {} : { job: editing })}
              outputsDir={outputsDir}
              onCancel={() => setEditing(undefined)}
              onSaved={() => {
                setEditing(undefined);
                void refresh();
              }}
            />
          </section>
        )}
        {jobs?.length === 0 && !editing && (
          <p className="jobs-empty">
            Nothing scheduled yet. A job asks Claude a prompt on a schedule — “every weekday at 9, summarise…” — and keeps every
            answer here.
          </p>
        )}
        <ul className="job-list">
          {jobs?.map((job) => (
            <JobCard key={job.id} job={job} onChanged={() => void refresh()} onEdit={() => setEditing(job)} />
          ))}
        </ul>
        <ReviewList />
      </main>
    </div>
  );
}

import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { formatCost, formatWhen } from '../../answers/format';
import { messageOf, resolveConnection } from '../../api/client';
import type { Job, JobList, JobRun, Session } from '../../api/types';
import { useApi } from '../../app/api-context';
import { ConfirmDelete } from '../../app/ConfirmDelete';
import { chatHref, navigate, taskHref } from '../../app/router';
import { useCopy } from '../../app/use-copy';
import { usePollWhile } from '../../app/use-poll-while';
import { JobForm } from './JobForm';
import { ReviewList } from './ReviewList';
import { formatInZone } from './schedule';
import './jobs.css';

// The chat's Markdown renderer, loaded when a history is first opened (as the chat loads it).
const StreamingMarkdown = lazy(() => import('../../markdown').then((module) => ({ default: module.StreamingMarkdown })));

function describeSchedule(job: Job): string {
  if (job.cron) return `${job.cron} (${job.timezone ?? 'system time'})`;
  const seconds = job.interval_seconds ?? 0;
  if (seconds % 86_400 === 0) return `every ${seconds / 86_400} day${seconds === 86_400 ? '' : 's'}`;
  if (seconds % 3600 === 0) return `every ${seconds / 3600} hour${seconds === 3600 ? '' : 's'}`;
  if (seconds % 60 === 0) return `every ${seconds / 60} minute${seconds === 60 ? '' : 's'}`;
  return `every ${seconds} seconds`;
}

const absolute = (iso: string): string => new Date(iso).toLocaleString();

const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Copies `text`; `what` ("the address") names it to screen readers, and is said once it is copied. */
function CopyButton({ text, what, className = 'button quiet' }: { text: string; what?: string; className?: string }) {
  const { label, copy } = useCopy();
  return (
    <>
      <button className={className} type="button" aria-label={what && `Copy ${what}`} onClick={() => copy(text)}>
        {label ?? 'Copy'}
      </button>
      {what && (
        <span className="visually-hidden" role="status">
          {label === 'Copied' ? `Copied ${what} to the clipboard` : label}
        </span>
      )}
    </>
  );
}

/** A job with no schedule: only its webhook runs it. */
const webhookOnly = (job: Job): boolean => !job.cron && !job.interval_seconds;

/**
 * Where other programs reach Perch: in a browser, the address this page came from (the one that
 * reached Perch); in the desktop app, the service's own.
 */
function useServiceOrigin(): string | undefined {
  const [origin, setOrigin] = useState<string | undefined>(() => (window.perch ? undefined : window.location.origin));
  useEffect(() => {
    if (!window.perch) return;
    let current = true;
    resolveConnection().then(
      (connection) => {
        if (current) setOrigin(connection.baseUrl);
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, []);
  return origin;
}

/** A shell command that signs a body with the secret and posts it, as any program calling the webhook does. */
function webhookExample(address: string, secret: string): string {
  return [
    `address='${address}'`,
    `secret='${secret}'`,
    `body='{"text":"hello"}'`,
    `sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)`,
    `curl -X POST -H "X-Perch-Signature-256: sha256=$sig" \\`,
    `  -H 'Content-Type: application/json' --data "$body" "$address"`,
  ].join('\n');
}

const HIDDEN_SECRET = '••••••••••••••••••••••••';

/** A job's webhook on its card: the address to post to, its secret (hidden until asked), and how to call it. */
function JobWebhook({ job, webhook, origin }: { job: Job; webhook: NonNullable<Job['webhook']>; origin: string }) {
  const [shown, setShown] = useState(false);
  const address = `${origin}${webhook.path}`;
  const id = `webhook-${job.id}`;
  const example = webhookExample(address, webhook.secret);
  return (
    <section className="job-webhook" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Webhook</h3>
      <div className="webhook-fields">
        <div className="webhook-row">
          <span className="webhook-label" id={`${id}-address`}>
            Address
          </span>
          <output className="webhook-value" aria-labelledby={`${id}-address`}>
            {address}
          </output>
          <span className="webhook-buttons">
            <CopyButton className="button quiet webhook-button" text={address} what="the address" />
          </span>
        </div>
        <div className="webhook-row">
          <span className="webhook-label" id={`${id}-secret`}>
            Secret
          </span>
          <output className="webhook-value" aria-labelledby={`${id}-secret`}>
            {shown ? (
              webhook.secret
            ) : (
              <>
                <span aria-hidden="true">{HIDDEN_SECRET}</span>
                <span className="visually-hidden">hidden</span>
              </>
            )}
          </output>
          <span className="webhook-buttons">
            <button className="button quiet webhook-button" type="button" onClick={() => setShown((current) => !current)}>
              {shown ? 'Hide secret' : 'Show secret'}
            </button>
            <CopyButton className="button quiet webhook-button" text={webhook.secret} what="the secret" />
          </span>
        </div>
      </div>
      <details className="webhook-howto">
        <summary>How to call it</summary>
        <p className="hint">
          POST to the address, signed: <code>X-Perch-Signature-256: sha256=</code> and the HMAC-SHA256 of the exact body, keyed
          with the secret. A GitHub repository webhook with this secret works too. Perch answers 202 and runs the job; the body
          fills <code>{'{{payload}}'}</code>.
        </p>
        <pre className="output-block webhook-example">
          <code>{shown ? example : example.replace(webhook.secret, HIDDEN_SECRET)}</code>
        </pre>
        <div className="run-actions">
          <CopyButton text={example} what="the command" />
          {!shown && <span className="hint">The copied command holds the secret.</span>}
        </div>
      </details>
    </section>
  );
}

/** Opens a chat that holds the run's prompt and answer, so the person can follow up on it. */
function OpenInChat({ job, run }: { job: Job; run: JobRun }) {
  const { api } = useApi();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  // One chat per run and visit: a second click opens the same one.
  const opened = useRef<string | undefined>(undefined);
  const open = async (): Promise<void> => {
    if (opened.current) {
      navigate(chatHref(opened.current));
      return;
    }
    setBusy(true);
    setProblem(undefined);
    try {
      const day = new Date(run.started_at).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
      const session = await api.request<Session>('POST', '/api/v1/sessions', {
        title: `${job.name.slice(0, 180)} · ${day}`,
        ...(job.system ? { system: job.system } : {}),
        ...(job.model ? { model: job.model } : {}),
        messages: [
          { role: 'user', content: job.prompt },
          { role: 'assistant', content: run.output ?? '' },
        ],
      });
      opened.current = session.id;
      navigate(chatHref(session.id));
    } catch (error) {
      setProblem(messageOf(error));
      setBusy(false);
    }
  };
  return (
    <>
      <button className="button quiet" type="button" disabled={busy} onClick={() => void open()}>
        Open in chat
      </button>
      {problem && (
        <p className="run-error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}

/** A run's answer as the chat shows answers (Markdown), with what a person does next with it. */
function RunAnswer({ job, run, output }: { job: Job; run: JobRun; output: string }) {
  return (
    <>
      <div className="run-output">
        <Suspense fallback={<div className="plain-answer">{output}</div>}>
          <StreamingMarkdown text={output} streaming={false} />
        </Suspense>
      </div>
      <div className="run-actions">
        <CopyButton text={output} />
        <OpenInChat job={job} run={run} />
      </div>
    </>
  );
}

/** "Mon, Dec 8, 9:00 AM Europe/Berlin (in 21 hours)": when a job runs next, on its zone's clock. */
function nextRunText(job: Job): string {
  if (job.running) return 'running now';
  if (!job.next_run_at) return 'paused';
  return `next ${formatInZone(job.next_run_at, job.timezone ?? browserZone())} (${formatWhen(job.next_run_at)})`;
}

/** The newest run of a job, fetched again whenever the job has run since. */
function useLastRun(job: Job): JobRun | undefined {
  const { api } = useApi();
  const [run, setRun] = useState<JobRun | undefined>();
  useEffect(() => {
    if (!job.last_run_at) return;
    const controller = new AbortController();
    api.get<{ runs: JobRun[] }>(`/api/v1/jobs/${encodeURIComponent(job.id)}/runs?limit=1`, controller.signal).then(
      (page) => setRun(page.runs[0]),
      () => undefined,
    );
    return () => controller.abort();
  }, [api, job.id, job.last_run_at, job.running]);
  return run;
}

/** How a run started, when not on schedule. */
const TRIGGERS: Record<Exclude<JobRun['trigger'], 'schedule'>, string> = {
  manual: 'run by hand',
  catch_up: 'late (caught up)',
  webhook: 'run by webhook',
};

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
            {run.trigger !== 'schedule' && <span className="hint">{TRIGGERS[run.trigger]}</span>}
            {run.cost_usd !== null && <span className="hint">{formatCost(run.cost_usd)}</span>}
          </div>
          {run.output && <RunAnswer job={job} run={run} output={run.output} />}
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

function JobCard({
  job,
  origin,
  onChanged,
  onEdit,
}: {
  job: Job;
  /** Where Perch is reached, for the webhook's address. */
  origin: string | undefined;
  onChanged: () => void;
  onEdit: () => void;
}) {
  const { api } = useApi();
  const [open, setOpen] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const dialog = useRef<HTMLDialogElement>(null);
  const lastRun = useLastRun(job);
  const act = async (method: string, path: string, body?: unknown): Promise<void> => {
    setProblem(undefined);
    try {
      await api.request(method, path, body);
      onChanged();
      setVersion((current) => current + 1);
    } catch (error) {
      setProblem(messageOf(error));
    }
  };
  const base = `/api/v1/jobs/${encodeURIComponent(job.id)}`;
  return (
    <li className="job-card">
      <div className="job-head">
        <div className="job-title">
          <h2>{job.name}</h2>
          <p className="hint">
            {webhookOnly(job)
              ? ['Runs when its webhook is called', job.running ? 'running now' : job.enabled ? '' : 'paused']
                  .filter(Boolean)
                  .join(' · ')
              : `${describeSchedule(job)} · ${nextRunText(job)}`}
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
      {lastRun?.status === 'failed' && !job.running && (
        <div className="job-failed" data-testid="last-run-failed">
          <strong>Last run failed</strong> <span title={absolute(lastRun.started_at)}>{formatWhen(lastRun.started_at)}</span>
          {lastRun.error && <>: {lastRun.error}</>}
        </div>
      )}
      {job.task && <p className="hint">Runs as a task ({job.task.permission_mode} mode)</p>}
      {job.webhook && origin !== undefined && <JobWebhook job={job} webhook={job.webhook} origin={origin} />}
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

/** Jobs (scheduled prompts): what runs when, its history, and a way to add more. */
export default function JobsView() {
  const { api } = useApi();
  const [jobs, setJobs] = useState<Job[] | undefined>();
  const [outputsDir, setOutputsDir] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState<Job | 'new' | undefined>();
  const newJobButton = useRef<HTMLButtonElement>(null);
  const origin = useServiceOrigin();
  const closeEditor = (): void => {
    // Back where the person started a new job (an edit's card may have moved).
    if (editing === 'new') newJobButton.current?.focus();
    setEditing(undefined);
  };

  const refresh = useCallback(async () => {
    try {
      setJobs((await api.get<JobList>('/api/v1/jobs')).jobs);
    } catch (caught) {
      setError(messageOf(caught));
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
        {/* The same name as its link in the navigation. */}
        <h1>Jobs</h1>
        <button ref={newJobButton} className="button primary" type="button" onClick={() => setEditing('new')}>
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
              key={editing === 'new' ? 'new' : editing.id}
              {...(editing === 'new' ? {} : { job: editing })}
              outputsDir={outputsDir}
              onCancel={closeEditor}
              onSaved={() => {
                closeEditor();
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
            <JobCard key={job.id} job={job} origin={origin} onChanged={() => void refresh()} onEdit={() => setEditing(job)} />
          ))}
        </ul>
        <ReviewList />
      </main>
    </div>
  );
}

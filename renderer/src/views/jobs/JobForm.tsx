import { useEffect, useMemo, useRef, useState, type SubmitEvent } from 'react';
import type { Job, Workspace } from '../../api/types';
import { useApi } from '../../app/api-context';
import {
  Field,
  FieldError,
  found,
  numberProblem,
  Plain,
  urlProblem,
  useFieldErrors,
  type Problems,
} from '../../app/field-errors';
import { ModeSelect, WorkspaceSelect, type PickableMode } from '../tasks/TaskFields';
import { cronProblem, formatInZone, nextCronRun, timeZoneProblem, timeZones } from './schedule';

/** On a cron schedule, every so often, or only when its webhook is called ('none', offered with a webhook). */
type ScheduleKind = 'cron' | 'interval' | 'none';
type IntervalUnit = 60 | 3600 | 86_400;

const UNITS: Array<[IntervalUnit, string]> = [
  [60, 'minutes'],
  [3600, 'hours'],
  [86_400, 'days'],
];

type FieldId =
  'job-name' | 'job-prompt' | 'job-cron' | 'job-timezone' | 'job-every' | 'job-webhook' | 'job-tools' | 'job-file' | 'job-url';

/** The API's name for each field → its control here, so the service's refusals land next to them. */
const PATHS: Record<string, FieldId> = {
  name: 'job-name',
  prompt: 'job-prompt',
  cron: 'job-cron',
  timezone: 'job-timezone',
  interval_seconds: 'job-every',
  webhook: 'job-webhook',
  'task.allowed_tools': 'job-tools',
  'output.file': 'job-file',
  'output.url': 'job-url',
};

/** How a saved job runs: its schedule's kind, or none when only its webhook runs it. */
function kindOf(job: Job | undefined): ScheduleKind {
  if (job?.interval_seconds) return 'interval';
  if (job && !job.cron && job.webhook) return 'none';
  return 'cron';
}

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
  const [kind, setKind] = useState<ScheduleKind>(kindOf(job));
  const [webhook, setWebhook] = useState(Boolean(job?.webhook));
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
  const [saving, setSaving] = useState(false);
  const nameField = useRef<HTMLInputElement>(null);

  const fields = useFieldErrors<FieldId>({
    values: {
      'job-name': name,
      'job-prompt': prompt,
      'job-cron': cron,
      'job-timezone': timezone,
      'job-every': amount,
      'job-webhook': webhook,
      'job-tools': allowedTools,
      'job-file': file,
      'job-url': url,
    },
    check: () => {
      const problems: Problems<FieldId> = {};
      if (!name.trim()) problems['job-name'] = 'Give the job a name, e.g. “Morning summary”.';
      if (!prompt.trim()) problems['job-prompt'] = 'Write what Claude should be asked.';
      if (kind === 'cron') {
        problems['job-cron'] = cronProblem(cron);
        problems['job-timezone'] = timeZoneProblem(timezone);
      } else if (kind === 'interval') {
        problems['job-every'] = numberProblem(amount, { min: 1 });
      }
      if (url.trim()) problems['job-url'] = urlProblem(url);
      return found(problems);
    },
    paths: PATHS,
  });
  const { problems } = fields;

  // Opening the form puts the person in its first field.
  useEffect(() => {
    nameField.current?.focus();
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    api.workspaces(controller.signal).then(setWorkspaces, () => undefined);
    return () => controller.abort();
  }, [api]);

  const zones = useMemo(() => timeZones(), []);
  const nextRun = kind === 'cron' ? nextCronRun(cron, timezone) : undefined;
  const intervalSeconds = Number(amount) * unit;
  const changeWebhook = (on: boolean): void => {
    setWebhook(on);
    // "No schedule" is a choice only for a job its webhook runs.
    if (!on && kind === 'none') setKind('cron');
  };

  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setError(undefined);
    if (!fields.validate()) return;
    const body = {
      name,
      prompt,
      ...(kind === 'cron'
        ? { cron: cron.trim(), timezone: timezone.trim(), interval_seconds: null }
        : kind === 'interval'
          ? { interval_seconds: intervalSeconds, cron: null }
          : { cron: null, interval_seconds: null }),
      webhook,
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
    setSaving(true);
    try {
      onSaved(
        job
          ? await api.request<Job>('PATCH', `/api/v1/jobs/${encodeURIComponent(job.id)}`, body)
          : await api.request<Job>('POST', '/api/v1/jobs', body),
      );
    } catch (caught) {
      setError(fields.refusal(caught));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      className="job-form"
      noValidate
      onSubmit={(event) => void save(event)}
      aria-label={job ? `Edit ${job.name}` : 'New job'}
    >
      <Field id="job-name" label="Name" problem={problems['job-name']}>
        {(control) => (
          <input
            {...control}
            ref={nameField}
            className="input"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="Morning summary"
          />
        )}
      </Field>
      <Field
        id="job-prompt"
        label="Prompt"
        problem={problems['job-prompt']}
        hint={
          <>
            Can use <code>{'{{date}}'}</code>, <code>{'{{time}}'}</code>
            {webhook ? ', ' : ' and '}
            <code>{'{{last_output}}'}</code> (the previous answer)
            {webhook && (
              <>
                {' '}
                and <code>{'{{payload}}'}</code> (what the webhook’s request sent)
              </>
            )}
            .
          </>
        }
      >
        {(control) => (
          <textarea
            {...control}
            className="input"
            rows={4}
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
            placeholder="Summarise what I should focus on today ({{date}})."
          />
        )}
      </Field>
      <fieldset className="field">
        <legend className="label">When</legend>
        <label className="check">
          <input type="radio" name="schedule-kind" checked={kind === 'cron'} onChange={() => setKind('cron')} /> On a schedule
          (cron)
        </label>
        {kind === 'cron' && (
          <div className="schedule-fields">
            <div className="field">
              <label htmlFor="job-cron">Cron expression</label>
              <input
                {...fields.control('job-cron', 'job-cron-hint')}
                className="input"
                spellCheck={false}
                autoComplete="off"
                value={cron}
                onChange={(event) => setCron(event.target.value)}
              />
              <FieldError id="job-cron" problem={problems['job-cron']} />
              <p className="hint" id="job-cron-hint">
                Minute hour day month weekday — “0 9 * * 1-5” is 9:00 on weekdays.
              </p>
            </div>
            <div className="field">
              <label htmlFor="job-timezone">Time zone</label>
              <input
                {...fields.control('job-timezone')}
                className="input"
                list="job-timezones"
                spellCheck={false}
                autoComplete="off"
                value={timezone}
                onChange={(event) => setTimezone(event.target.value)}
              />
              <datalist id="job-timezones">
                {zones.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
              <FieldError id="job-timezone" problem={problems['job-timezone']} />
            </div>
          </div>
        )}
        {kind === 'cron' && nextRun && (
          <p className="next-run" data-testid="job-next-run">
            Next run: <strong>{formatInZone(nextRun, timezone.trim())}</strong>
          </p>
        )}
        <label className="check">
          <input type="radio" name="schedule-kind" checked={kind === 'interval'} onChange={() => setKind('interval')} /> Every…
        </label>
        {kind === 'interval' && (
          <div className="inline">
            <input
              {...fields.control('job-every')}
              className="input narrow"
              type="number"
              min={1}
              step={1}
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
        {kind === 'interval' && <FieldError id="job-every" problem={problems['job-every']} />}
        {webhook && (
          <label className="check">
            <input type="radio" name="schedule-kind" checked={kind === 'none'} onChange={() => setKind('none')} /> No schedule
            (webhook only)
          </label>
        )}
        <div className="webhook-choice">
          <label className="check">
            <input
              {...fields.control('job-webhook', 'job-webhook-hint')}
              type="checkbox"
              checked={webhook}
              onChange={(event) => changeWebhook(event.target.checked)}
            />{' '}
            Run when a signed request arrives (webhook)
          </label>
          <FieldError id="job-webhook" problem={problems['job-webhook']} />
          <p className="hint" id="job-webhook-hint">
            Another program — CI, a script, a GitHub webhook — runs the job by posting to its address; what it sends fills{' '}
            <code>{'{{payload}}'}</code>.
            {job?.webhook && !webhook && <> Saving turns it off; turning it on again later makes a new secret.</>}
          </p>
        </div>
      </fieldset>
      {kind !== 'none' && (
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
      )}
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
                {...fields.control('job-tools')}
                className="input"
                aria-label="Tools it may use without asking"
                placeholder="Tools it may use without asking, e.g. Bash(npm test), Read"
                value={allowedTools}
                onChange={(event) => setAllowedTools(event.target.value)}
              />
              <FieldError id="job-tools" problem={problems['job-tools']} />
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
          {...fields.control('job-file', 'job-file-hint')}
          className="input"
          aria-label="Append to file"
          placeholder="Append to file: morning.md"
          value={file}
          onChange={(event) => setFile(event.target.value)}
        />
        <FieldError id="job-file" problem={problems['job-file']} />
        <p className="hint" id="job-file-hint">
          A file name is kept in Perch’s outputs folder{outputsDir ? <> ({outputsDir})</> : null}. Another folder, or a URL on
          this computer or your network, can be chosen only in the Perch desktop app.
        </p>
        <input
          {...fields.control('job-url')}
          className="input"
          type="url"
          inputMode="url"
          aria-label="Post to URL"
          placeholder="POST to URL (a Slack incoming webhook works)"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
        />
        <FieldError id="job-url" problem={problems['job-url']} />
      </fieldset>
      {error && (
        <div className="notice error" role="alert">
          <Plain text={error} />
        </div>
      )}
      <div className="form-actions">
        <button className="button" type="button" onClick={onCancel}>
          Cancel
        </button>
        <button className="button primary" type="submit" disabled={saving}>
          {job ? 'Save job' : 'Create job'}
        </button>
      </div>
    </form>
  );
}

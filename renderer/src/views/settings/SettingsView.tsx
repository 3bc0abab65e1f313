import { useCallback, useEffect, useState, type SubmitEvent, type ReactNode } from 'react';
import type { DesktopStatus } from '../../../../preload/bridge';
import { ApiError, messageOf } from '../../api/client';
import type { ApiKeyState, ModelList, SettingsResponse } from '../../api/types';
import { useApi } from '../../app/api-context';
import { controlProps, Field, FieldError, found, numberProblem, Plain, urlProblem, useFieldErrors } from '../../app/field-errors';
import { settingsHref, useRoute } from '../../app/router';
import { applyTheme, type ThemeChoice } from '../../app/theme';
import './settings.css';

type Outcome = { kind: 'ok' | 'error' | 'warning' | 'pending'; text: string } | undefined;

function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return (
    <div className={`notice ${outcome.kind}`} role={outcome.kind === 'error' ? 'alert' : 'status'}>
      <Plain text={outcome.text} />
    </div>
  );
}

/** A whole (or, with `decimal`, fractional) number setting with its label and an optional hint. */
function NumberField({
  id,
  label,
  value,
  onChange,
  min,
  max,
  step,
  decimal = false,
  hint,
  problem,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max?: number;
  step?: string;
  decimal?: boolean;
  hint?: ReactNode;
  problem: string | undefined;
}) {
  return (
    <Field id={id} label={label} hint={hint} problem={problem}>
      {(control) => (
        <input
          {...control}
          className="input narrow"
          type="number"
          inputMode={decimal ? 'decimal' : 'numeric'}
          min={min}
          max={max}
          step={step}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </Field>
  );
}

/** Every settings form ends with the same submit button. */
function SaveButton() {
  return (
    <div className="form-actions">
      <button className="button primary" type="submit">
        Save
      </button>
    </div>
  );
}

/** Under a setting a browser may not change: the command that changes it. */
function CliHint({ view, setting }: { view: SettingsResponse; setting: string }) {
  if (view.editable.security) return null;
  return (
    <p className="hint">
      For safety this changes only in the desktop app or with <code>{view.cli[setting]}</code>
    </p>
  );
}

/** The page's sections, in order: what the list at the top jumps to (`#/settings/<id>`). */
const SECTIONS = [
  ['claude', 'Claude'],
  ['limits', 'Spending and limits'],
  ['local-api', 'Local API'],
  ['desktop', 'Desktop'],
  ['automation', 'Automation'],
  ['appearance', 'Appearance'],
] as const;

type SectionId = (typeof SECTIONS)[number][0];

const sectionTitle = (id: SectionId): string => SECTIONS.find(([section]) => section === id)?.[1] ?? id;

function Section({ id, children, note }: { id: SectionId; children: ReactNode; note?: ReactNode }) {
  const headingId = `section-${id}`;
  return (
    <section className="settings-section" id={`settings-${id}`} aria-labelledby={headingId}>
      {/* Focusable so a jump from the list of sections takes the keyboard there too. */}
      <h2 id={headingId} tabIndex={-1}>
        {sectionTitle(id)}
      </h2>
      {note && <p className="section-note">{note}</p>}
      {children}
    </section>
  );
}

/** Brings a section to the top of the page and the focus to its heading. */
function jumpTo(id: string): void {
  const heading = document.getElementById(`section-${id}`);
  if (!heading) return;
  document.getElementById(`settings-${id}`)?.scrollIntoView({ block: 'start' });
  heading.focus({ preventScroll: true });
}

function SectionLinks() {
  return (
    <nav className="settings-nav" aria-label="Settings sections">
      <ul>
        {SECTIONS.map(([id, title]) => (
          <li key={id}>
            <a href={settingsHref(id)} onClick={() => jumpTo(id)}>
              {title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * Runs a change and says how it went: its confirmation, or the service's reason for refusing it
 * (what `refusal` places next to a field is not said again below the form).
 */
function useOutcome(): [
  Outcome,
  (change: () => Promise<string>, refusal?: (error: unknown) => string | undefined) => Promise<void>,
  (outcome: Outcome) => void,
] {
  const [outcome, setOutcome] = useState<Outcome>();
  const run = async (change: () => Promise<string>, refusal?: (error: unknown) => string | undefined): Promise<void> => {
    try {
      setOutcome({ kind: 'ok', text: await change() });
    } catch (error) {
      const rest = refusal ? refusal(error) : messageOf(error);
      setOutcome(rest ? { kind: 'error', text: rest } : undefined);
    }
  };
  return [outcome, run, setOutcome];
}

function ApiKeyForm({ state, onChange }: { state: ApiKeyState; onChange: (state: ApiKeyState) => void }) {
  const { api } = useApi();
  const [key, setKey] = useState('');
  const [checking, setChecking] = useState(false);
  const [outcome, run, setOutcome] = useOutcome();
  const fields = useFieldErrors<'api-key'>({ values: { 'api-key': key }, check: () => ({}), paths: { api_key: 'api-key' } });
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    fields.clear();
    setChecking(true);
    setOutcome({ kind: 'pending', text: 'Checking the key with Anthropic…' });
    try {
      const saved = await api.request<ApiKeyState>('PUT', '/api/v1/settings/api-key', { api_key: key.trim() });
      setKey('');
      onChange({ configured: saved.configured, source: saved.source });
      setOutcome(
        saved.verified === false
          ? { kind: 'warning', text: saved.warning ?? 'Saved, but Perch could not check the key with Anthropic.' }
          : {
              kind: 'ok',
              text: saved.verified ? 'Key works ✓ Saved; Perch never shows it again.' : 'API key saved. It is never shown again.',
            },
      );
    } catch (error) {
      // Anthropic turned the key down: nothing was saved, and the reason belongs next to the key.
      const rest =
        error instanceof ApiError && error.type === 'invalid_api_key' ? fields.refusal(error, 'api-key') : fields.refusal(error);
      setOutcome(rest ? { kind: 'error', text: rest } : undefined);
    } finally {
      setChecking(false);
    }
  };
  const removeKey = async (): Promise<void> => {
    fields.clear();
    await run(async () => {
      onChange(await api.request<ApiKeyState>('DELETE', '/api/v1/settings/api-key'));
      return 'Stored API key removed.';
    });
  };
  const status = state.configured ? (state.source === 'environment' ? 'Set (from ANTHROPIC_API_KEY)' : 'Set') : 'Not set';
  const problem = fields.problems['api-key'];
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <div className="field">
        <label htmlFor="api-key">API key</label>
        <p className="hint" id="api-key-hint">
          Status: <strong data-testid="api-key-status">{status}</strong>. The key stays in Perch and is never displayed.
        </p>
        <div className="inline">
          <input
            {...controlProps('api-key', problem, 'api-key-hint')}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder={state.configured ? 'Paste a new key to replace it' : 'sk-ant-…'}
            value={key}
            onChange={(event) => setKey(event.target.value)}
          />
          <button className="button primary" type="submit" disabled={key.trim() === '' || checking}>
            {checking ? 'Checking…' : state.configured ? 'Replace key' : 'Save key'}
          </button>
          {state.source === 'stored' && (
            <button className="button danger" type="button" disabled={checking} onClick={() => void removeKey()}>
              Remove
            </button>
          )}
        </div>
        <FieldError id="api-key" problem={problem} />
      </div>
      <OutcomeNotice outcome={outcome} />
    </form>
  );
}

function ClaudeForm({
  view,
  models,
  onSaved,
}: {
  view: SettingsResponse;
  models: ModelList | undefined;
  onSaved: (view: SettingsResponse) => void;
}) {
  const { api } = useApi();
  const { claude } = view.settings;
  const [model, setModel] = useState(claude.model);
  const [maxTokens, setMaxTokens] = useState(String(claude.maxTokens));
  const [upstreamUrl, setUpstreamUrl] = useState(claude.upstreamUrl);
  const [systemPrompt, setSystemPrompt] = useState(claude.systemPrompt);
  const [outcome, run, setOutcome] = useOutcome();
  const secure = view.editable.security;
  const fields = useFieldErrors<'default-model' | 'max-tokens' | 'upstream-url' | 'system-prompt'>({
    values: { 'default-model': model, 'max-tokens': maxTokens, 'upstream-url': upstreamUrl, 'system-prompt': systemPrompt },
    check: () =>
      found({
        'default-model': model.trim() ? undefined : 'Name the model new chats use, e.g. claude-sonnet-5-5.',
        'max-tokens': numberProblem(maxTokens, { min: 1, max: 128_000 }),
        'upstream-url': secure ? urlProblem(upstreamUrl) : undefined,
      }),
    paths: {
      'claude.model': 'default-model',
      'claude.maxTokens': 'max-tokens',
      'claude.upstreamUrl': 'upstream-url',
      'claude.systemPrompt': 'system-prompt',
    },
  });
  const { problems } = fields;
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (!fields.validate()) return;
    await run(async () => {
      const next = await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
        claude: {
          model: model.trim(),
          maxTokens: Number(maxTokens),
          systemPrompt,
          // Where the API key goes: only the desktop app (or the CLI) may change it.
          ...(secure ? { upstreamUrl: upstreamUrl.trim() } : {}),
        },
      });
      onSaved(next);
      return 'Saved.';
    }, fields.refusal);
  };
  const listed = models?.models ?? [];
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <Field id="default-model" label="Default model" problem={problems['default-model']}>
        {(control) =>
          listed.length > 0 ? (
            <select {...control} className="input" value={model} onChange={(event) => setModel(event.target.value)}>
              {!listed.some((entry) => entry.id === model) && <option value={model}>{model}</option>}
              {listed.map((entry) => (
                <option key={entry.id} value={entry.id}>
                  {entry.display_name} ({entry.id})
                </option>
              ))}
            </select>
          ) : (
            <input {...control} className="input" value={model} onChange={(event) => setModel(event.target.value)} />
          )
        }
      </Field>
      <NumberField
        id="max-tokens"
        label="Max tokens per answer"
        min={1}
        max={128_000}
        value={maxTokens}
        onChange={setMaxTokens}
        problem={problems['max-tokens']}
      />
      <div className="field">
        <label htmlFor="upstream-url">Anthropic API URL</label>
        <input
          {...fields.control('upstream-url')}
          className="input"
          type="url"
          value={upstreamUrl}
          readOnly={!secure}
          onChange={(event) => setUpstreamUrl(event.target.value)}
        />
        <FieldError id="upstream-url" problem={problems['upstream-url']} />
        <CliHint view={view} setting="claude.upstreamUrl" />
        {view.overridden['claude.upstreamUrl'] && (
          <p className="hint">
            {view.overridden['claude.upstreamUrl']} is set, so this run uses {view.effective.claude.upstreamUrl}.
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="system-prompt">System prompt for new chats</label>
        <textarea
          {...fields.control('system-prompt')}
          className="input"
          rows={3}
          value={systemPrompt}
          onChange={(event) => setSystemPrompt(event.target.value)}
        />
        <FieldError id="system-prompt" problem={problems['system-prompt']} />
      </div>
      <SaveButton />
      <OutcomeNotice outcome={outcome} />
    </form>
  );
}

/** The guards on what Perch may spend: a daily budget, requests per client, calls to Claude at once. */
function LimitsForm({ view, onSaved }: { view: SettingsResponse; onSaved: (view: SettingsResponse) => void }) {
  const { api } = useApi();
  const { budget, rateLimit, claude } = view.settings;
  const [dailyUsd, setDailyUsd] = useState(String(budget.dailyUsd));
  const [perMinute, setPerMinute] = useState(String(rateLimit.requestsPerMinute));
  const [atOnce, setAtOnce] = useState(String(claude.maxConcurrentRequests));
  const [outcome, run, setOutcome] = useOutcome();
  const fields = useFieldErrors<'daily-budget' | 'requests-per-minute' | 'max-concurrent'>({
    values: { 'daily-budget': dailyUsd, 'requests-per-minute': perMinute, 'max-concurrent': atOnce },
    check: () =>
      found({
        'daily-budget': numberProblem(dailyUsd, { min: 0, max: 1_000_000, decimal: true }),
        'requests-per-minute': numberProblem(perMinute, { min: 0, max: 100_000 }),
        'max-concurrent': numberProblem(atOnce, { min: 1, max: 256 }),
      }),
    paths: {
      'budget.dailyUsd': 'daily-budget',
      'rateLimit.requestsPerMinute': 'requests-per-minute',
      'claude.maxConcurrentRequests': 'max-concurrent',
    },
  });
  const { problems } = fields;
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (!fields.validate()) return;
    await run(async () => {
      const next = await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
        budget: { dailyUsd: Number(dailyUsd) },
        rateLimit: { requestsPerMinute: Number(perMinute) },
        claude: { maxConcurrentRequests: Number(atOnce) },
      });
      onSaved(next);
      return 'Saved. Limits apply at once.';
    }, fields.refusal);
  };
  return (
    <form className="settings-form" noValidate aria-label="Spending and limits" onSubmit={(event) => void save(event)}>
      <NumberField
        id="daily-budget"
        label="Daily budget (US dollars)"
        decimal
        min={0}
        max={1_000_000}
        step="0.01"
        value={dailyUsd}
        onChange={setDailyUsd}
        hint="Once today's estimated spend reaches it, Perch stops asking Claude until midnight. 0 means no budget."
        problem={problems['daily-budget']}
      />
      <NumberField
        id="requests-per-minute"
        label="Requests to Claude per minute, per client"
        min={0}
        max={100_000}
        value={perMinute}
        onChange={setPerMinute}
        hint="Stops a runaway script. 0 turns the limit off."
        problem={problems['requests-per-minute']}
      />
      <NumberField
        id="max-concurrent"
        label="Calls to Claude at once"
        min={1}
        max={256}
        value={atOnce}
        onChange={setAtOnce}
        hint="More wait in line."
        problem={problems['max-concurrent']}
      />
      {!view.editable.security && (
        <p className="hint">
          Any client may lower these limits. Raising one or turning it off happens only in the desktop app or with{' '}
          <code>{view.cli['budget.dailyUsd']}</code> (and the same for the other settings).
        </p>
      )}
      <SaveButton />
      <OutcomeNotice outcome={outcome} />
    </form>
  );
}

function TokenControls({ desktop }: { desktop: boolean }) {
  const { api } = useApi();
  const [token, setToken] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);
  const [outcome, run] = useOutcome();
  const reveal = async (): Promise<void> => {
    if (token) {
      setToken(undefined);
      return;
    }
    setToken((await api.get<{ token: string }>('/api/v1/auth/token')).token);
  };
  const copy = async (): Promise<void> => {
    const value = token ?? (await api.get<{ token: string }>('/api/v1/auth/token')).token;
    await navigator.clipboard.writeText(value);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const regenerate = async (): Promise<void> => {
    if (
      !window.confirm('Make a new token? Every editor and script using the old one stops working until you give it the new one.')
    )
      return;
    await run(async () => {
      setToken((await api.request<{ token: string }>('POST', '/api/v1/auth/token/regenerate')).token);
      return 'New token made. Update your editors and scripts.';
    });
  };
  return (
    <div className="field">
      <span className="label" id="token-label">
        API token
      </span>
      <p className="hint">What editors, scripts and the CLI use to reach Perch.</p>
      <div className="inline">
        <output className="input token-value" aria-labelledby="token-label">
          {token ?? '••••••••••••••••••••••••'}
        </output>
        <button className="button" type="button" onClick={() => void reveal()}>
          {token ? 'Hide' : 'Show'}
        </button>
        <button className="button" type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        {desktop && (
          <button className="button danger" type="button" onClick={() => void regenerate()}>
            Regenerate
          </button>
        )}
      </div>
      {!desktop && (
        <p className="hint">
          To replace it, run <code>npx perch token --regenerate</code>.
        </p>
      )}
      <OutcomeNotice outcome={outcome} />
    </div>
  );
}

const HOST_NAME = /^[A-Za-z0-9.\-:[\]]+$/;

function originProblem(line: string): string | undefined {
  try {
    const url = new URL(line);
    if (url.origin !== 'null' && url.origin === line.replace(/\/$/, '')) return undefined;
  } catch {
    // Said below.
  }
  return `“${line}” is not an origin: give the scheme, the host and an optional port, e.g. https://tool.example (no path).`;
}

function LocalApiForm({
  view,
  servingPort,
  onSaved,
}: {
  view: SettingsResponse;
  /** The port Perch serves on now, which the settings file may no longer say. */
  servingPort: number | undefined;
  onSaved: (view: SettingsResponse) => void;
}) {
  const { api } = useApi();
  const editable = view.editable.security;
  const { api: local } = view.settings;
  const [port, setPort] = useState(String(local.port));
  const [host, setHost] = useState(local.host);
  const [origins, setOrigins] = useState(local.allowedOrigins.join('\n'));
  const [outcome, run, setOutcome] = useOutcome();
  const originLines = origins
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const fields = useFieldErrors<'api-port' | 'api-host' | 'api-origins'>({
    values: { 'api-port': port, 'api-host': host, 'api-origins': origins },
    check: () =>
      editable
        ? found({
            'api-port': numberProblem(port, { min: 1, max: 65_535 }),
            'api-host': HOST_NAME.test(host.trim())
              ? undefined
              : 'Give a host name or an IP address, e.g. 127.0.0.1, without http:// or a path.',
            'api-origins': originLines.map(originProblem).find(Boolean),
          })
        : {},
    paths: { 'api.port': 'api-port', 'api.host': 'api-host', 'api.allowedOrigins': 'api-origins' },
  });
  const { problems } = fields;
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (!fields.validate()) return;
    await run(async () => {
      onSaved(
        await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
          api: { port: Number(port), host: host.trim(), allowedOrigins: originLines },
        }),
      );
      return 'Saved. A new port or address applies when Perch restarts.';
    }, fields.refusal);
  };
  const cli = (key: string): ReactNode =>
    editable ? undefined : (
      <>
        Change it with <code>{view.cli[key]}</code>
      </>
    );
  const overriddenBy = view.overridden['api.port'];
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <div className="field">
        <label htmlFor="api-port">Port</label>
        {servingPort !== undefined && (
          <p className="hint" id="api-port-now" data-testid="serving-port">
            Perch is serving on port <strong>{servingPort}</strong>
            {servingPort === local.port ? (
              '.'
            ) : (
              <>
                {' '}
                now. The port set here, {local.port}, applies{' '}
                {overriddenBy ? `when Perch starts without ${overriddenBy}` : 'after Perch restarts'}.
              </>
            )}
          </p>
        )}
        <input
          {...fields.control('api-port', servingPort === undefined ? undefined : 'api-port-now')}
          className="input narrow"
          type="number"
          value={port}
          readOnly={!editable}
          onChange={(event) => setPort(event.target.value)}
        />
        <FieldError id="api-port" problem={problems['api-port']} />
        {!editable && <p className="hint">{cli('api.port')}</p>}
      </div>
      <Field id="api-host" label="Bind address" hint={cli('api.host')} problem={problems['api-host']}>
        {(control) => (
          <input
            {...control}
            className="input"
            value={host}
            readOnly={!editable}
            onChange={(event) => setHost(event.target.value)}
          />
        )}
      </Field>
      <Field id="api-origins" label="Allowed browser origins" hint={cli('api.allowedOrigins')} problem={problems['api-origins']}>
        {(control) => (
          <textarea
            {...control}
            className="input"
            rows={2}
            placeholder="One per line, e.g. https://tool.example"
            value={origins}
            readOnly={!editable}
            onChange={(event) => setOrigins(event.target.value)}
          />
        )}
      </Field>
      {editable && <SaveButton />}
      <OutcomeNotice outcome={outcome} />
      <TokenControls desktop={editable} />
    </form>
  );
}

/** What the desktop shell says about the shortcut, the login item and the port; undefined in a browser. */
function useDesktopStatus(): [DesktopStatus | undefined, () => Promise<DesktopStatus | undefined>] {
  const [status, setStatus] = useState<DesktopStatus | undefined>();
  const refresh = useCallback(async (): Promise<DesktopStatus | undefined> => {
    const next = await window.perch?.getDesktopStatus?.();
    setStatus(next);
    return next;
  }, []);
  useEffect(() => {
    window.perch?.getDesktopStatus?.().then(setStatus, () => undefined);
  }, []);
  return [status, refresh];
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function DesktopForm({
  view,
  status,
  refreshStatus,
  onSaved,
}: {
  view: SettingsResponse;
  status: DesktopStatus | undefined;
  refreshStatus: () => Promise<DesktopStatus | undefined>;
  onSaved: (view: SettingsResponse) => void;
}) {
  const { api } = useApi();
  const editable = view.editable.desktop;
  const { desktop } = view.settings;
  const [shortcut, setShortcut] = useState(desktop.shortcut);
  const [startAtLogin, setStartAtLogin] = useState(desktop.startAtLogin);
  const [startHidden, setStartHidden] = useState(desktop.startHidden);
  const [outcome, run, setOutcome] = useOutcome();
  const fields = useFieldErrors<'shortcut'>({
    values: { shortcut },
    check: () => found({ shortcut: shortcut.trim() ? undefined : 'Give a key combination, e.g. CommandOrControl+Shift+Space.' }),
    paths: { 'desktop.shortcut': 'shortcut' },
  });
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (!fields.validate()) return;
    await run(async () => {
      const wanted = shortcut.trim();
      await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
        desktop: { shortcut: wanted, startAtLogin, startHidden },
      });
      // The app applies the change a moment later (and may correct it to what the OS allows).
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const next = await refreshStatus();
        if (!next || next.shortcut?.accelerator === wanted) break;
        await pause(150);
      }
      const fresh = await api.get<SettingsResponse>('/api/v1/settings');
      setStartAtLogin(fresh.settings.desktop.startAtLogin);
      setStartHidden(fresh.settings.desktop.startHidden);
      onSaved(fresh);
      return 'Saved.';
    }, fields.refusal);
  };
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <fieldset disabled={!editable}>
        <div className="field">
          <label htmlFor="shortcut">Quick-ask shortcut</label>
          <input
            {...fields.control('shortcut')}
            className="input narrow"
            value={shortcut}
            onChange={(event) => setShortcut(event.target.value)}
          />
          <FieldError id="shortcut" problem={fields.problems.shortcut} />
          {status?.shortcut?.error ? (
            <p className="hint problem" role="alert">
              {status.shortcut.error}
            </p>
          ) : status?.shortcut?.registered ? (
            <p className="hint">Active: press {status.shortcut.accelerator} anywhere.</p>
          ) : null}
        </div>
        <label className="check">
          <input type="checkbox" checked={startAtLogin} onChange={(event) => setStartAtLogin(event.target.checked)} /> Start at
          login
        </label>
        <label className="check">
          <input type="checkbox" checked={startHidden} onChange={(event) => setStartHidden(event.target.checked)} /> Start hidden
          (tray only)
        </label>
        {status?.loginItem.error && (
          <p className="hint problem" role="alert">
            {status.loginItem.error}
          </p>
        )}
        {status?.updatesOff && <p className="hint">{status.updatesOff}</p>}
        {editable && <SaveButton />}
      </fieldset>
      <OutcomeNotice outcome={outcome} />
    </form>
  );
}

/** A write-only secret: says whether it is set, takes a new value, and can clear it. */
function SecretField({
  id,
  label,
  hint,
  isSet,
  value,
  onChange,
  onClear,
  locked,
  problem,
}: {
  id: string;
  label: string;
  hint: ReactNode;
  isSet: boolean;
  value: string;
  onChange: (value: string) => void;
  onClear: () => void;
  /** Shown instead of the controls where this client may not change the secret. */
  locked?: ReactNode;
  problem: string | undefined;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <p className="hint" id={`${id}-hint`}>
        Status: <strong data-testid={`${id}-status`}>{isSet ? 'Set' : 'Not set'}</strong>. {hint}
      </p>
      {locked ?? (
        <div className="inline">
          <input
            {...controlProps(id, problem, `${id}-hint`)}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder={isSet ? 'Type a new value to replace it' : ''}
            value={value}
            onChange={(event) => onChange(event.target.value)}
          />
          {isSet && (
            <button className="button danger" type="button" onClick={onClear}>
              Clear
            </button>
          )}
        </div>
      )}
      <FieldError id={id} problem={problem} />
    </div>
  );
}

function AutomationForm({
  view,
  serviceUrl,
  onSaved,
}: {
  view: SettingsResponse;
  /** Where Perch listens, for the webhook addresses when this page is not served by Perch itself. */
  serviceUrl: string | undefined;
  onSaved: (view: SettingsResponse) => void;
}) {
  const { api } = useApi();
  const { github, jobs } = view.settings;
  const [maxRuns, setMaxRuns] = useState(String(jobs.maxConcurrentRuns));
  const [webhookSecret, setWebhookSecret] = useState('');
  const [token, setToken] = useState('');
  const [apiUrl, setApiUrl] = useState(github.apiUrl);
  const [trigger, setTrigger] = useState(github.trigger);
  const [label, setLabel] = useState(github.label);
  const [signingSecret, setSigningSecret] = useState('');
  const [outcome, run, setOutcome] = useOutcome();
  const isSet = (key: string): boolean => view.secrets[key] === true;
  // Where GitHub and Slack reach Perch: this page's own address (the desktop app's is not one they can use).
  const origin = /^https?:$/.test(window.location.protocol) ? window.location.origin : (serviceUrl ?? window.location.origin);
  const secure = view.editable.security;
  const fields = useFieldErrors<
    'max-runs' | 'github-webhook-secret' | 'github-token' | 'github-label' | 'github-api-url' | 'slack-signing-secret'
  >({
    values: {
      'max-runs': maxRuns,
      'github-webhook-secret': webhookSecret,
      'github-token': token,
      'github-label': label,
      'github-api-url': apiUrl,
      'slack-signing-secret': signingSecret,
    },
    check: () =>
      found({
        'max-runs': numberProblem(maxRuns, { min: 1, max: 16 }),
        'github-label':
          trigger === 'on_demand' && !label.trim() ? 'Name the label that asks for a review, e.g. perch-review.' : undefined,
        'github-api-url': secure ? urlProblem(apiUrl) : undefined,
      }),
    paths: {
      'jobs.maxConcurrentRuns': 'max-runs',
      'github.webhookSecret': 'github-webhook-secret',
      'github.token': 'github-token',
      'github.label': 'github-label',
      'github.apiUrl': 'github-api-url',
      'slack.signingSecret': 'slack-signing-secret',
    },
  });
  const { problems } = fields;

  const patch = async (body: Record<string, Record<string, unknown>>, done: string, after?: () => void): Promise<void> => {
    await run(async () => {
      onSaved(await api.request<SettingsResponse>('PATCH', '/api/v1/settings', body));
      after?.();
      return done;
    }, fields.refusal);
  };
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setOutcome(undefined);
    if (!fields.validate()) return;
    // A blank secret field means "keep what is set": only typed secrets are sent.
    const secret = (name: string, value: string): Record<string, string> => (value.trim() === '' ? {} : { [name]: value.trim() });
    await patch(
      {
        jobs: { maxConcurrentRuns: Number(maxRuns) },
        github: {
          trigger,
          label: label.trim(),
          ...secret('token', token),
          // Where the GitHub token goes, and who may make Perch act: desktop app or CLI only.
          ...(secure ? { apiUrl: apiUrl.trim(), ...secret('webhookSecret', webhookSecret) } : {}),
        },
        ...(secure && signingSecret.trim() !== '' ? { slack: secret('signingSecret', signingSecret) } : {}),
      },
      'Saved. Secrets are never shown again.',
      () => {
        setWebhookSecret('');
        setToken('');
        setSigningSecret('');
      },
    );
  };
  const clear = (group: string, name: string, what: string) => (): void =>
    void patch({ [group]: { [name]: '' } }, `${what} cleared.`);

  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <NumberField
        id="max-runs"
        label="Jobs running at once"
        min={1}
        max={16}
        value={maxRuns}
        onChange={setMaxRuns}
        hint={
          secure ? undefined : (
            <>
              It limits spending: any client may lower it, but raising it happens only in the desktop app or with{' '}
              <code>{view.cli['jobs.maxConcurrentRuns']}</code>
            </>
          )
        }
        problem={problems['max-runs']}
      />
      <h3>GitHub pull-request reviews</h3>
      <p className="hint">
        Add a webhook to a repository with the payload URL <code>{origin}/webhook/github</code> (through a tunnel GitHub can
        reach), content type <code>application/json</code>, and the secret below.
      </p>
      <SecretField
        id="github-webhook-secret"
        label="Webhook secret"
        hint="The same value as in GitHub's webhook settings."
        isSet={isSet('github.webhookSecret')}
        value={webhookSecret}
        onChange={setWebhookSecret}
        onClear={clear('github', 'webhookSecret', 'Webhook secret')}
        locked={secure ? undefined : <CliHint view={view} setting="github.webhookSecret" />}
        problem={problems['github-webhook-secret']}
      />
      <SecretField
        id="github-token"
        label="GitHub token"
        hint="Reads pull requests and writes the review comment."
        isSet={isSet('github.token')}
        value={token}
        onChange={setToken}
        onClear={clear('github', 'token', 'GitHub token')}
        problem={problems['github-token']}
      />
      <div className="field">
        <label htmlFor="github-trigger">When to review</label>
        <select
          id="github-trigger"
          className="input"
          value={trigger}
          onChange={(event) => setTrigger(event.target.value as typeof trigger)}
        >
          <option value="pull_request">Every pull request when it opens or changes</option>
          <option value="on_demand">Only when asked: a label or an “@perch review” comment</option>
        </select>
      </div>
      {trigger === 'on_demand' && (
        <Field id="github-label" label="Label that asks for a review" problem={problems['github-label']}>
          {(control) => (
            <input {...control} className="input narrow" value={label} onChange={(event) => setLabel(event.target.value)} />
          )}
        </Field>
      )}
      <div className="field">
        <label htmlFor="github-api-url">GitHub API URL</label>
        <input
          {...fields.control('github-api-url')}
          className="input"
          type="url"
          value={apiUrl}
          readOnly={!secure}
          onChange={(event) => setApiUrl(event.target.value)}
        />
        <FieldError id="github-api-url" problem={problems['github-api-url']} />
        <CliHint view={view} setting="github.apiUrl" />
        <p className="hint">
          GitHub Enterprise: <code>https://your-host/api/v3</code>.
        </p>
      </div>
      <h3>Slack command</h3>
      <p className="hint">
        Point a slash command’s request URL at <code>{origin}/webhook/slack</code>.
      </p>
      <SecretField
        id="slack-signing-secret"
        label="Signing secret"
        hint="From your Slack app’s Basic Information page."
        isSet={isSet('slack.signingSecret')}
        value={signingSecret}
        onChange={setSigningSecret}
        onClear={clear('slack', 'signingSecret', 'Signing secret')}
        locked={secure ? undefined : <CliHint view={view} setting="slack.signingSecret" />}
        problem={problems['slack-signing-secret']}
      />
      <SaveButton />
      <OutcomeNotice outcome={outcome} />
    </form>
  );
}

function AppearanceForm({ view, onSaved }: { view: SettingsResponse; onSaved: (view: SettingsResponse) => void }) {
  const { api } = useApi();
  const [theme, setTheme] = useState<ThemeChoice>(view.settings.ui.theme);
  const [outcome, run] = useOutcome();
  const choose = async (next: ThemeChoice): Promise<void> => {
    setTheme(next);
    applyTheme(next);
    await run(async () => {
      onSaved(await api.request<SettingsResponse>('PATCH', '/api/v1/settings', { ui: { theme: next } }));
      return 'Saved.';
    });
  };
  return (
    <fieldset className="settings-form theme-choices">
      <legend className="visually-hidden">Theme</legend>
      {(['system', 'light', 'dark'] as const).map((choice) => (
        <label key={choice} className="check">
          <input type="radio" name="theme" value={choice} checked={theme === choice} onChange={() => void choose(choice)} />{' '}
          {choice === 'system' ? 'Follow the system' : choice === 'light' ? 'Light' : 'Dark'}
        </label>
      ))}
      <OutcomeNotice outcome={outcome} />
    </fieldset>
  );
}

/** Where the service listens (GET /api/v1/status). */
interface Listening {
  port: number;
  url: string;
}

/** Settings, headed "Settings": what the person can change from here, and how to change the rest. */
export default function SettingsView() {
  const { api } = useApi();
  const route = useRoute();
  const section = route.view === 'settings' ? route.section : undefined;
  const [view, setView] = useState<SettingsResponse | undefined>();
  const [models, setModels] = useState<ModelList | undefined>();
  const [listening, setListening] = useState<Listening | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [desktopStatus, refreshDesktopStatus] = useDesktopStatus();

  useEffect(() => {
    api.get<SettingsResponse>('/api/v1/settings').then(setView, (caught: unknown) => setError(messageOf(caught)));
    // Where Perch serves now: a changed port waits for a restart, and a busy one makes Perch use another.
    api.get<{ listening?: Listening }>('/api/v1/status').then(
      (status) => setListening(typeof status.listening?.port === 'number' ? status.listening : undefined),
      () => undefined,
    );
  }, [api]);

  // Anthropic's model list needs a key: ask for it once there is one.
  const keyConfigured = view?.api_key.configured === true;
  useEffect(() => {
    if (keyConfigured) api.get<ModelList>('/api/v1/models').then(setModels, () => setModels(undefined));
  }, [api, keyConfigured]);

  // `#/settings/<section>` opens the page at that section (once it is there to jump to).
  const loaded = view !== undefined;
  useEffect(() => {
    if (loaded && section) jumpTo(section);
  }, [loaded, section]);

  return (
    <div className="settings">
      <header className="settings-header">
        <a className="button quiet" href="#/chat">
          ← Chat
        </a>
        <h1>Settings</h1>
      </header>
      <main className="settings-body">
        {view && <SectionLinks />}
        <div className="settings-sections">
          {error && (
            <div className="notice error" role="alert">
              {error}
            </div>
          )}
          {view && (
            <>
              <Section id="claude">
                <ApiKeyForm state={view.api_key} onChange={(apiKey) => setView({ ...view, api_key: apiKey })} />
                <ClaudeForm view={view} models={models} onSaved={setView} />
              </Section>
              <Section
                id="limits"
                note={
                  <>
                    What Perch has spent, by day, model and conversation: <a href="#/usage">Usage</a>.
                  </>
                }
              >
                <LimitsForm view={view} onSaved={setView} />
              </Section>
              <Section
                id="local-api"
                note={
                  view.editable.security
                    ? 'Who can reach Perch on this computer.'
                    : 'Who can reach Perch. For safety these change only in the desktop app or with the perch command.'
                }
              >
                {desktopStatus?.port && (
                  <div className="notice error" role="alert">
                    Port {desktopStatus.port.configured} was in use by another program, so Perch is running on port{' '}
                    {desktopStatus.port.actual} for now. Choose another port below and restart Perch.
                  </div>
                )}
                <LocalApiForm view={view} servingPort={listening?.port ?? desktopStatus?.port?.actual} onSaved={setView} />
              </Section>
              <Section
                id="desktop"
                note={
                  view.editable.desktop ? undefined : 'These apply to the Perch desktop app; change them in its Settings window.'
                }
              >
                <DesktopForm view={view} status={desktopStatus} refreshStatus={refreshDesktopStatus} onSaved={setView} />
              </Section>
              <Section
                id="automation"
                note={
                  <>
                    <a href="#/jobs">Jobs</a> (prompts Perch asks on a schedule), GitHub reviews and a Slack command. Step-by-step
                    setup: <code>docs/webhooks.md</code>.
                  </>
                }
              >
                <AutomationForm view={view} serviceUrl={listening?.url} onSaved={setView} />
              </Section>
              <Section id="appearance">
                <AppearanceForm view={view} onSaved={setView} />
              </Section>
            </>
          )}
        </div>
      </main>
    </div>
  );
}

import { useCallback, useEffect, useState, type SubmitEvent, type ReactNode } from 'react';
import type { DesktopStatus } from '../../../../preload/bridge';
import { ApiError } from '../../api/client';
import type { ApiKeyState, ModelList, SettingsResponse } from '../../api/types';
import { useApi } from '../../app/api-context';
import { applyTheme, type ThemeChoice } from '../../app/theme';
import './settings.css';

type Outcome = { kind: 'ok' | 'error'; text: string } | undefined;

function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return (
    <div className={`notice ${outcome.kind}`} role={outcome.kind === 'error' ? 'alert' : 'status'}>
      {outcome.text}
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
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max?: number;
  step?: string;
  decimal?: boolean;
  hint?: string;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input narrow"
        type="number"
        inputMode={decimal ? 'decimal' : 'numeric'}
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint && <p className="hint">{hint}</p>}
    </div>
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

function Section({ title, children, note }: { title: string; children: ReactNode; note?: ReactNode }) {
  const id = `section-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className="settings-section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {note && <p className="section-note">{note}</p>}
      {children}
    </section>
  );
}

const messageOf = (error: unknown): string => (error instanceof ApiError ? error.message : (error as Error).message);

/** Runs a change and says how it went: its confirmation, or the service's reason for refusing it. */
function useOutcome(): [Outcome, (change: () => Promise<string>) => Promise<void>] {
  const [outcome, setOutcome] = useState<Outcome>();
  const run = async (change: () => Promise<string>): Promise<void> => {
    try {
      setOutcome({ kind: 'ok', text: await change() });
    } catch (error) {
      setOutcome({ kind: 'error', text: messageOf(error) });
    }
  };
  return [outcome, run];
}

function ApiKeyForm({ state, onChange }: { state: ApiKeyState; onChange: (state: ApiKeyState) => void }) {
  const { api } = useApi();
  const [key, setKey] = useState('');
  const [outcome, run] = useOutcome();
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      const next = await api.request<ApiKeyState>('PUT', '/api/v1/settings/api-key', { api_key: key.trim() });
      setKey('');
      onChange(next);
      return 'API key saved. It is never shown again.';
    });
  };
  const removeKey = async (): Promise<void> => {
    await run(async () => {
      onChange(await api.request<ApiKeyState>('DELETE', '/api/v1/settings/api-key'));
      return 'Stored API key removed.';
    });
  };
  const status = state.configured ? (state.source === 'environment' ? 'Set (from ANTHROPIC_API_KEY)' : 'Set') : 'Not set';
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <div className="field">
        <label htmlFor="api-key">API key</label>
        <p className="hint">
          Status: <strong data-testid="api-key-status">{status}</strong>. The key stays in Perch and is never displayed.
        </p>
        <div className="inline">
          <input
            id="api-key"
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder={state.configured ? 'Paste a new key to replace it' : 'sk-ant-…'}
            value={key}
            onChange={(event) => setKey(event.target.value)}
          />
          <button className="button primary" type="submit" disabled={key.trim() === ''}>
            {state.configured ? 'Replace key' : 'Save key'}
          </button>
          {state.source === 'stored' && (
            <button className="button danger" type="button" onClick={() => void removeKey()}>
              Remove
            </button>
          )}
        </div>
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
  const [outcome, run] = useOutcome();
  const secure = view.editable.security;
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
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
    });
  };
  const listed = models?.models ?? [];
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <div className="field">
        <label htmlFor="default-model">Default model</label>
        {listed.length > 0 ? (
          <select id="default-model" className="input" value={model} onChange={(event) => setModel(event.target.value)}>
            {!listed.some((entry) => entry.id === model) && <option value={model}>{model}</option>}
            {listed.map((entry) => (
              <option key={entry.id} value={entry.id}>
                {entry.display_name} ({entry.id})
              </option>
            ))}
          </select>
        ) : (
          <input id="default-model" className="input" value={model} onChange={(event) => setModel(event.target.value)} />
        )}
      </div>
      <NumberField id="max-tokens" label="Max tokens per answer" min={1} value={maxTokens} onChange={setMaxTokens} />
      <div className="field">
        <label htmlFor="upstream-url">Anthropic API URL</label>
        <input
          id="upstream-url"
          className="input"
          type="url"
          value={upstreamUrl}
          readOnly={!secure}
          onChange={(event) => setUpstreamUrl(event.target.value)}
        />
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
          id="system-prompt"
          className="input"
          rows={3}
          value={systemPrompt}
          onChange={(event) => setSystemPrompt(event.target.value)}
        />
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
  const [outcome, run] = useOutcome();
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      const next = await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
        budget: { dailyUsd: Number(dailyUsd) },
        rateLimit: { requestsPerMinute: Number(perMinute) },
        claude: { maxConcurrentRequests: Number(atOnce) },
      });
      onSaved(next);
      return 'Saved. Limits apply at once.';
    });
  };
  return (
    <form className="settings-form" noValidate aria-label="Spending and limits" onSubmit={(event) => void save(event)}>
      <NumberField
        id="daily-budget"
        label="Daily budget (US dollars)"
        decimal
        min={0}
        step="0.01"
        value={dailyUsd}
        onChange={setDailyUsd}
        hint="Once today's estimated spend reaches it, Perch stops asking Claude until midnight. 0 means no budget."
      />
      <NumberField
        id="requests-per-minute"
        label="Requests to Claude per minute, per client"
        min={0}
        value={perMinute}
        onChange={setPerMinute}
        hint="Stops a runaway script. 0 turns the limit off."
      />
      <NumberField
        id="max-concurrent"
        label="Calls to Claude at once"
        min={1}
        max={256}
        value={atOnce}
        onChange={setAtOnce}
        hint="More wait in line."
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

function LocalApiForm({ view, onSaved }: { view: SettingsResponse; onSaved: (view: SettingsResponse) => void }) {
  const { api } = useApi();
  const editable = view.editable.security;
  const { api: local } = view.settings;
  const [port, setPort] = useState(String(local.port));
  const [host, setHost] = useState(local.host);
  const [origins, setOrigins] = useState(local.allowedOrigins.join('\n'));
  const [outcome, run] = useOutcome();
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      const allowedOrigins = origins
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      onSaved(
        await api.request<SettingsResponse>('PATCH', '/api/v1/settings', {
          api: { port: Number(port), host: host.trim(), allowedOrigins },
        }),
      );
      return 'Saved. A new port or address applies when Perch restarts.';
    });
  };
  const cli = (key: string): ReactNode =>
    editable ? null : (
      <p className="hint">
        Change it with <code>{view.cli[key]}</code>
      </p>
    );
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <div className="field">
        <label htmlFor="api-port">Port</label>
        <input
          id="api-port"
          className="input narrow"
          type="number"
          value={port}
          readOnly={!editable}
          onChange={(event) => setPort(event.target.value)}
        />
        {cli('api.port')}
      </div>
      <div className="field">
        <label htmlFor="api-host">Bind address</label>
        <input
          id="api-host"
          className="input"
          value={host}
          readOnly={!editable}
          onChange={(event) => setHost(event.target.value)}
        />
        {cli('api.host')}
      </div>
      <div className="field">
        <label htmlFor="api-origins">Allowed browser origins</label>
        <textarea
          id="api-origins"
          className="input"
          rows={2}
          placeholder="One per line, e.g. https://tool.example"
          value={origins}
          readOnly={!editable}
          onChange={(event) => setOrigins(event.target.value)}
        />
        {cli('api.allowedOrigins')}
      </div>
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
  const [outcome, run] = useOutcome();
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
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
    });
  };
  return (
    <form className="settings-form" noValidate onSubmit={(event) => void save(event)}>
      <fieldset disabled={!editable}>
        <div className="field">
          <label htmlFor="shortcut">Quick-ask shortcut</label>
          <input id="shortcut" className="input narrow" value={shortcut} onChange={(event) => setShortcut(event.target.value)} />
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
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <p className="hint">
        Status: <strong data-testid={`${id}-status`}>{isSet ? 'Set' : 'Not set'}</strong>. {hint}
      </p>
      {locked ?? (
        <div className="inline">
          <input
            id={id}
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
    </div>
  );
}

function AutomationForm({ view, onSaved }: { view: SettingsResponse; onSaved: (view: SettingsResponse) => void }) {
  const { api } = useApi();
  const { github, jobs } = view.settings;
  const [maxRuns, setMaxRuns] = useState(String(jobs.maxConcurrentRuns));
  const [webhookSecret, setWebhookSecret] = useState('');
  const [token, setToken] = useState('');
  const [apiUrl, setApiUrl] = useState(github.apiUrl);
  const [trigger, setTrigger] = useState(github.trigger);
  const [label, setLabel] = useState(github.label);
  const [signingSecret, setSigningSecret] = useState('');
  const [outcome, run] = useOutcome();
  const isSet = (key: string): boolean => view.secrets[key] === true;
  const origin = window.location.origin;
  const secure = view.editable.security;

  const patch = async (body: Record<string, Record<string, unknown>>, done: string, after?: () => void): Promise<void> => {
    await run(async () => {
      onSaved(await api.request<SettingsResponse>('PATCH', '/api/v1/settings', body));
      after?.();
      return done;
    });
  };
  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
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
        label="Scheduled prompts running at once"
        min={1}
        max={16}
        value={maxRuns}
        onChange={setMaxRuns}
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
      />
      <SecretField
        id="github-token"
        label="GitHub token"
        hint="Reads pull requests and writes the review comment."
        isSet={isSet('github.token')}
        value={token}
        onChange={setToken}
        onClear={clear('github', 'token', 'GitHub token')}
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
        <div className="field">
          <label htmlFor="github-label">Label that asks for a review</label>
          <input id="github-label" className="input narrow" value={label} onChange={(event) => setLabel(event.target.value)} />
        </div>
      )}
      <div className="field">
        <label htmlFor="github-api-url">GitHub API URL</label>
        <input
          id="github-api-url"
          className="input"
          type="url"
          value={apiUrl}
          readOnly={!secure}
          onChange={(event) => setApiUrl(event.target.value)}
        />
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

/** Settings, headed "Settings": what the person can change from here, and how to change the rest. */
export default function SettingsView() {
  const { api } = useApi();
  const [view, setView] = useState<SettingsResponse | undefined>();
  const [models, setModels] = useState<ModelList | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [desktopStatus, refreshDesktopStatus] = useDesktopStatus();

  useEffect(() => {
    api.get<SettingsResponse>('/api/v1/settings').then(setView, (caught: unknown) => setError(messageOf(caught)));
  }, [api]);

  // Anthropic's model list needs a key: ask for it once there is one.
  const keyConfigured = view?.api_key.configured === true;
  useEffect(() => {
    if (keyConfigured) api.get<ModelList>('/api/v1/models').then(setModels, () => setModels(undefined));
  }, [api, keyConfigured]);

  return (
    <div className="settings">
      <header className="settings-header">
        <a className="button quiet" href="#/chat">
          ← Chat
        </a>
        <h1>Settings</h1>
      </header>
      <main className="settings-body">
        {error && (
          <div className="notice error" role="alert">
            {error}
          </div>
        )}
        {view && (
          <>
            <Section title="Claude">
              <ApiKeyForm state={view.api_key} onChange={(apiKey) => setView({ ...view, api_key: apiKey })} />
              <ClaudeForm view={view} models={models} onSaved={setView} />
            </Section>
            <Section
              title="Spending and limits"
              note={
                <>
                  What Perch has spent, by day, model and conversation: <a href="#/usage">Usage</a>.
                </>
              }
            >
              <LimitsForm view={view} onSaved={setView} />
            </Section>
            <Section
              title="Local API"
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
              <LocalApiForm view={view} onSaved={setView} />
            </Section>
            <Section
              title="Desktop"
              note={
                view.editable.desktop ? undefined : 'These apply to the Perch desktop app; change them in its Settings window.'
              }
            >
              <DesktopForm view={view} status={desktopStatus} refreshStatus={refreshDesktopStatus} onSaved={setView} />
            </Section>
            <Section
              title="Automation"
              note={
                <>
                  Scheduled prompts (<a href="#/jobs">see them</a>), GitHub reviews and a Slack command. Step-by-step setup:{' '}
                  <code>docs/webhooks.md</code>.
                </>
              }
            >
              <AutomationForm view={view} onSaved={setView} />
            </Section>
            <Section title="Appearance">
              <AppearanceForm view={view} onSaved={setView} />
            </Section>
          </>
        )}
      </main>
    </div>
  );
}

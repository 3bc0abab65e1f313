// @vitest-environment jsdom
import { useRef, useState } from 'react';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorNotice } from '../../renderer/src/answers/ErrorNotice';
import { formatCost, formatTokens } from '../../renderer/src/answers/format';
import { PerchApi } from '../../renderer/src/api/client';
import { ApiProvider } from '../../renderer/src/app/api-context';
import { parseRoute } from '../../renderer/src/app/router';
import { Composer, useAttachments } from '../../renderer/src/views/chat/Composer';
import { ReviewList } from '../../renderer/src/views/jobs/ReviewList';
import SettingsView from '../../renderer/src/views/settings/SettingsView';
import type { SettingsResponse } from '../../renderer/src/api/types';
import { QuickAsk } from '../../renderer/src/views/quick-ask/QuickAsk';
import { SignIn } from '../../renderer/src/views/sign-in/SignIn';

/** A recording fake of the service: answers by path, and remembers what was asked. */
function fakeService(answer: (path: string, init: RequestInit) => Response) {
  const calls: Array<{ path: string; body: unknown }> = [];
  vi.stubGlobal(
    'fetch',
    vi.fn((url: string, init: RequestInit = {}) => {
      const path = url.replace(/^https?:\/\/[^/]+/, '');
      calls.push({ path, body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined });
      return Promise.resolve(answer(path, init));
    }),
  );
  return calls;
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const sse = (events: Array<[string, unknown]>): Response =>
  new Response(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''), {
    headers: { 'content-type': 'text/event-stream' },
  });

const api = (): PerchApi => new PerchApi(Promise.resolve({ baseUrl: 'http://perch.test', headers: {}, desktop: false }));

beforeEach(() => {
  // jsdom has neither; the views use them for smooth streaming and for growing quick ask.
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => setTimeout(() => callback(0), 0));
  vi.stubGlobal('cancelAnimationFrame', (handle: number) => clearTimeout(handle));
  vi.stubGlobal(
    'ResizeObserver',
    class {
      observe(): void {}
      disconnect(): void {}
    },
  );
});
afterEach(() => {
  vi.unstubAllGlobals();
  delete window.perch;
});

describe('sign-in', () => {
  it('exchanges the token on Enter and then checks the session', async () => {
    const calls = fakeService((path) =>
      path === '/api/v1/auth/session' ? new Response(null, { status: 204 }) : json({ signed_in: false }),
    );
    render(
      <ApiProvider api={api()}>
        <SignIn />
      </ApiProvider>,
    );
    await userEvent.type(screen.getByLabelText('API token'), 'perch_secret{Enter}');
    await waitFor(() => expect(calls.map((call) => call.path)).toContain('/api/v1/auth/session'));
    expect(calls[0]?.body).toEqual({ token: 'perch_secret' });
    expect(JSON.stringify(localStorage)).not.toContain('perch_secret');
  });

  it('says so when the token is wrong', async () => {
    fakeService(() => json({ error: { type: 'authentication_error', message: 'no' } }, 401));
    render(
      <ApiProvider api={api()}>
        <SignIn />
      </ApiProvider>,
    );
    await userEvent.type(screen.getByLabelText('API token'), 'wrong{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('That is not the API token');
  });
});

describe('quick ask', () => {
  const renderQuickAsk = () =>
    render(
      <ApiProvider api={api()}>
        <QuickAsk />
      </ApiProvider>,
    );

  it('has its message box focused on open', () => {
    fakeService(() => json({}));
    renderQuickAsk();
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveFocus();
  });

  it('sends on Enter and streams the answer below', async () => {
    const calls = fakeService(() =>
      sse([
        ['start', { session_id: 'ses_1', message_id: 'msg_1', model: 'm' }],
        ['delta', { text: 'Four' }],
        ['done', { response: 'Four', session_id: 'ses_1' }],
      ]),
    );
    renderQuickAsk();
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'What is 2+2?{Enter}');
    expect(await screen.findByText('Four')).toBeInTheDocument();
    expect(calls[0]).toEqual({ path: '/api/v1/chat', body: { message: 'What is 2+2?', stream: true } });
    expect(await screen.findByRole('button', { name: 'Continue in chat' })).toBeInTheDocument();
  });

  it('adds a line on Shift+Enter instead of sending', async () => {
    const calls = fakeService(() => json({}));
    renderQuickAsk();
    const box = screen.getByRole('textbox', { name: 'Message' });
    await userEvent.type(box, 'first{Shift>}{Enter}{/Shift}second');
    expect(box).toHaveValue('first\nsecond');
    expect(calls).toHaveLength(0);
  });

  it('asks the desktop shell to hide on Esc', async () => {
    fakeService(() => json({}));
    const hideQuickAsk = vi.fn();
    window.perch = { getConnection: vi.fn(), hideQuickAsk };
    renderQuickAsk();
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), '{Escape}');
    expect(hideQuickAsk).toHaveBeenCalledOnce();
  });

  it('offers a pin in the desktop app that keeps the window open, and gives the focus back to the message box', async () => {
    fakeService(() => json({}));
    const pinQuickAsk = vi.fn();
    window.perch = { getConnection: vi.fn(), pinQuickAsk };
    renderQuickAsk();
    const pin = screen.getByRole('button', { name: 'Pin' });
    expect(pin).toHaveAttribute('aria-pressed', 'false');
    await userEvent.click(pin);
    expect(pinQuickAsk).toHaveBeenLastCalledWith(true);
    expect(screen.getByRole('button', { name: 'Pinned' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveFocus();
    await userEvent.click(screen.getByRole('button', { name: 'Pinned' }));
    expect(pinQuickAsk).toHaveBeenLastCalledWith(false);
  });

  it('has no pin in a browser, where there is no window to keep', () => {
    fakeService(() => json({}));
    renderQuickAsk();
    expect(screen.queryByRole('button', { name: 'Pin' })).toBeNull();
  });
});

describe('the chat message box', () => {
  /** The message box as the chat view holds it: the text and files are the view's, cleared once a send is accepted. */
  function Harness({ onSend }: { onSend: (text: string, files: unknown[]) => void }) {
    const attachments = useAttachments(1);
    const [text, setText] = useState('');
    const inputRef = useRef<HTMLTextAreaElement>(null);
    return (
      <Composer
        text={text}
        onTextChange={setText}
        streaming={false}
        attachments={attachments}
        inputRef={inputRef}
        onSend={(sent, files) => {
          onSend(sent, files);
          setText('');
          attachments.clear();
        }}
        onStop={() => {}}
      />
    );
  }

  it('sends on Enter with the attached files typed by their bytes', async () => {
    const onSend = vi.fn();
    const { container } = render(<Harness onSend={onSend} />);
    const input = container.querySelector<HTMLInputElement>('input[type="file"]');
    if (!input) throw new Error('no file input');
    await userEvent.upload(input, new File(['print(1)'], 'script.py', { type: 'text/x-python' }));
    expect(await screen.findByRole('button', { name: 'Remove script.py' })).toBeInTheDocument();
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'Review this{Enter}');
    expect(onSend).toHaveBeenCalledWith('Review this', [{ name: 'script.py', media_type: 'text/plain', data: btoa('print(1)') }]);
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveValue('');
    expect(screen.queryByRole('button', { name: 'Remove script.py' })).not.toBeInTheDocument();
  });

  it('refuses a file Perch cannot read, keeps the others and the text', async () => {
    const { container } = render(<Harness onSend={vi.fn()} />);
    const input = container.querySelector<HTMLInputElement>('input[type="file"]');
    if (!input) throw new Error('no file input');
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'Half a question');
    // The picker offers what Perch reads; a person may still choose "All files".
    await act(() =>
      userEvent
        .setup({ applyAccept: false })
        .upload(input, [
          new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0xff])], 'archive.zip'),
          new File(['notes'], 'notes.md'),
        ]),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent("'archive.zip' is not a supported file type");
    expect(screen.getByRole('button', { name: 'Remove notes.md' })).toBeInTheDocument();
    expect(screen.getByRole('textbox', { name: 'Message' })).toHaveValue('Half a question');
  });

  it('refuses a file over the upload limit with a message', async () => {
    const { container } = render(<Harness onSend={vi.fn()} />);
    const input = container.querySelector<HTMLInputElement>('input[type="file"]');
    if (!input) throw new Error('no file input');
    await act(() =>
      userEvent.setup({ applyAccept: false }).upload(input, new File([new Uint8Array(2 * 1024 * 1024)], 'big.bin')),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('big.bin is larger than 1 MB');
  });
});

describe('the pull-request review list', () => {
  const review = (fields: Record<string, unknown>) => ({
    id: 'rev_1',
    repo: 'acme/app',
    pr_number: 7,
    head_sha: '0123456789abcdef',
    status: 'posted',
    comment_url: 'https://github.com/acme/app/pull/7#issuecomment-1',
    error: null,
    model: 'claude-test',
    usage: { input_tokens: 10, output_tokens: 20 },
    cost_usd: null,
    created_at: '2026-11-27T09:00:00.000Z',
    updated_at: '2026-11-27T09:01:00.000Z',
    ...fields,
  });

  it('links a posted review to its comment and says why a failed one failed', async () => {
    fakeService(() =>
      json({
        reviews: [
          review({ id: 'rev_2', pr_number: 8, status: 'failed', comment_url: null, error: 'GitHub refused the token' }),
          review({}),
        ],
      }),
    );
    render(
      <ApiProvider api={api()}>
        <ReviewList />
      </ApiProvider>,
    );
    const link = await screen.findByRole('link', { name: 'acme/app #7' });
    expect(link).toHaveAttribute('href', 'https://github.com/acme/app/pull/7#issuecomment-1');
    expect(screen.getByText('acme/app #8').tagName).toBe('SPAN');
    expect(screen.getByText('GitHub refused the token')).toBeInTheDocument();
  });

  it('never turns a non-http comment URL into a link', async () => {
    fakeService(() => json({ reviews: [review({ comment_url: 'javascript:alert(1)' })] }));
    render(
      <ApiProvider api={api()}>
        <ReviewList />
      </ApiProvider>,
    );
    await screen.findByText('acme/app #7');
    expect(screen.queryByRole('link')).toBeNull();
  });

  it('says how to get reviews when there are none', async () => {
    fakeService(() => json({ reviews: [] }));
    render(
      <ApiProvider api={api()}>
        <ReviewList />
      </ApiProvider>,
    );
    expect(await screen.findByText(/Settings → Automation/)).toBeInTheDocument();
  });
});

/** What GET /api/v1/settings answers with the defaults, for this client's rights and commands. */
function settingsView({
  editable,
  cli = {},
}: {
  editable: { security: boolean; desktop: boolean };
  cli?: Record<string, string>;
}) {
  const settings: SettingsResponse['settings'] = {
    claude: {
      model: 'claude-sonnet-5-5',
      maxTokens: 4096,
      upstreamUrl: 'https://api.anthropic.com',
      systemPrompt: '',
      timeoutSeconds: 120,
      maxConcurrentRequests: 16,
    },
    rateLimit: { requestsPerMinute: 120, webhooksPerMinute: 60 },
    budget: { dailyUsd: 0 },
    api: { port: 8080, host: '127.0.0.1', allowedHosts: [], allowedOrigins: [], maxBodyMb: 10, maxUploadMb: 20 },
    ui: { theme: 'system' },
    jobs: { maxConcurrentRuns: 2 },
    github: { webhookSecret: '', token: '', apiUrl: 'https://api.github.com', trigger: 'pull_request', label: 'perch-review' },
    slack: { signingSecret: '' },
    desktop: { shortcut: 'CommandOrControl+Shift+Space', startAtLogin: false, startHidden: false },
  };
  return {
    settings,
    effective: settings,
    api_key: { configured: false, source: null },
    secrets: {},
    overridden: {},
    editable,
    cli,
  } as unknown as SettingsResponse;
}

describe('settings in the desktop app', () => {
  const view = settingsView({ editable: { security: true, desktop: true } });

  it('shows why the shortcut or the login item could not be applied, and the port Perch fell back to', async () => {
    fakeService((path) => (path === '/api/v1/settings' ? json(view) : json({ models: [] })));
    window.perch = {
      getConnection: vi.fn(),
      getDesktopStatus: vi.fn(() =>
        Promise.resolve({
          shortcut: { accelerator: 'CommandOrControl+Shift+Space', registered: false, error: 'Another app may be using it.' },
          loginItem: { enabled: false, error: 'Allow Perch in System Settings → Login Items.' },
          port: { configured: 8080, actual: 54321 },
        }),
      ),
    };
    render(
      <ApiProvider api={api()}>
        <SettingsView />
      </ApiProvider>,
    );
    const alerts = await screen.findAllByRole('alert');
    const texts = alerts.map((alert) => alert.textContent);
    expect(texts).toContain('Another app may be using it.');
    expect(texts).toContain('Allow Perch in System Settings → Login Items.');
    expect(texts.some((text) => text.includes('running on port 54321'))).toBe(true);
    expect(screen.getByLabelText('Quick-ask shortcut')).toBeEnabled();
  });

  it('says the shortcut is active when it is', async () => {
    fakeService((path) => (path === '/api/v1/settings' ? json(view) : json({ models: [] })));
    window.perch = {
      getConnection: vi.fn(),
      getDesktopStatus: vi.fn(() =>
        Promise.resolve({
          shortcut: { accelerator: 'Alt+Space', registered: true },
          loginItem: { enabled: false },
          port: null,
        }),
      ),
    };
    render(
      <ApiProvider api={api()}>
        <SettingsView />
      </ApiProvider>,
    );
    expect(await screen.findByText('Active: press Alt+Space anywhere.')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('settings in a browser', () => {
  it('says jobs at once may be raised only from the desktop app or the CLI, and puts the refusal next to the field', async () => {
    const command = 'npx perch config set jobs.maxConcurrentRuns <value>';
    const view = settingsView({ editable: { security: false, desktop: false }, cli: { 'jobs.maxConcurrentRuns': command } });
    const refusal = `This setting protects your spending: any client may lower it, but raising it or turning it off happens only in the Perch desktop app or with ${command} on this machine.`;
    const calls = fakeService((path, init) => {
      if (path === '/api/v1/settings' && init.method === 'PATCH') {
        return json(
          {
            error: {
              type: 'forbidden_setting',
              message: `'jobs.maxConcurrentRuns' protects your spending.`,
              fields: [{ field: 'jobs.maxConcurrentRuns', message: refusal }],
            },
          },
          403,
        );
      }
      return path === '/api/v1/settings' ? json(view) : json({ models: [] });
    });
    render(
      <ApiProvider api={api()}>
        <SettingsView />
      </ApiProvider>,
    );
    const field = await screen.findByLabelText('Jobs running at once');
    expect(field).toHaveAccessibleDescription(expect.stringContaining(command));
    await userEvent.clear(field);
    await userEvent.type(field, '8');
    const form = field.closest('form');
    if (!form) throw new Error('the field is in no form');
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(field).toHaveAccessibleDescription(expect.stringContaining('protects your spending')));
    expect(calls.find((call) => call.path === '/api/v1/settings' && call.body !== undefined)?.body).toMatchObject({
      jobs: { maxConcurrentRuns: 8 },
    });
  });
});

describe('small pieces', () => {
  it('says where to add a missing API key', () => {
    render(<ErrorNotice error={{ type: 'no_api_key', message: 'x' }} />);
    expect(screen.getByRole('alert')).toHaveTextContent('No API key yet — add one in Settings.');
    expect(screen.getByRole('link', { name: 'Settings' })).toHaveAttribute('href', '#/settings/claude');
  });

  it('formats tokens and cost for people', () => {
    expect(formatTokens({ input_tokens: 1200, output_tokens: 34 })).toMatch(/1,?200 in · 34 out/);
    expect(formatCost(0.000238)).toBe('$0.0002');
    expect(formatCost(1.5)).toBe('$1.50');
    expect(formatCost(null)).toBe('cost unknown');
  });

  it('routes by hash', () => {
    expect(parseRoute('')).toEqual({ view: 'chat' });
    expect(parseRoute('#/chat/ses_1')).toEqual({ view: 'chat', sessionId: 'ses_1' });
    expect(parseRoute('#/quick-ask')).toEqual({ view: 'quick-ask' });
    expect(parseRoute('#/settings')).toEqual({ view: 'settings' });
  });
});

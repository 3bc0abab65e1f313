import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page, Request } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectStatusErrors, screenshotDir, signIn, useBrowserTests } from './stack.js';

/*
 * The job form and Settings in Chromium against `perch serve`: errors next to the field that is
 * wrong, the next run on the job's clock, run answers a person can act on, sections to jump to.
 */

const ui = useBrowserTests();
const { page, watchedPage, api } = ui;

interface JobRun {
  status: string;
  output: string | null;
}

/** Makes a job through the API and runs it once; resolves with the finished run. */
async function jobThatRan(name: string, prompt: string): Promise<{ id: string; run: JobRun }> {
  const job = (await (
    await api('/api/v1/jobs', { json: { name, prompt, cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' } })
  ).json()) as {
    id: string;
  };
  await api(`/api/v1/jobs/${job.id}/run`, { method: 'POST' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { runs } = (await (await api(`/api/v1/jobs/${job.id}/runs?limit=1`)).json()) as { runs: JobRun[] };
    const run = runs[0];
    if (run && run.status !== 'running') return { id: job.id, run };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The run of '${name}' did not finish within 10 seconds.`);
}

async function deleteAllJobs(): Promise<void> {
  const { jobs } = (await (await api('/api/v1/jobs')).json()) as { jobs: Array<{ id: string }> };
  for (const job of jobs) await api(`/api/v1/jobs/${job.id}`, { method: 'DELETE' });
}

/** What a control says is wrong with it: the text of what describes it, when it is marked invalid. */
async function problemOf(control: Locator): Promise<string | null> {
  return control.evaluate((element) => {
    if (element.getAttribute('aria-invalid') !== 'true') return null;
    const ids = (element.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
  });
}

const focusedId = (p: Page): Promise<string | undefined> => p.evaluate(() => document.activeElement?.id);

/** Records the requests a page makes to one API path with one method. */
function recordRequests(p: Page, method: string, pathname: string): Request[] {
  const seen: Request[] = [];
  p.on('request', (request) => {
    if (request.method() === method && new URL(request.url()).pathname === pathname) seen.push(request);
  });
  return seen;
}

async function openJobs(p: Page): Promise<void> {
  await signIn(p, ui.stack, '#/jobs');
  await p.goto(`${ui.stack.url}/#/jobs`);
  await p.getByRole('heading', { level: 1 }).waitFor();
}

async function openSettings(p: Page, section = ''): Promise<void> {
  await signIn(p, ui.stack, '#/settings');
  await p.goto(`${ui.stack.url}/#/settings${section ? `/${section}` : ''}`);
  await p.getByRole('heading', { name: 'Appearance' }).waitFor();
}

const inViewport = async (p: Page, locator: Locator): Promise<boolean> => {
  const box = await locator.boundingBox();
  const height = p.viewportSize()?.height ?? 0;
  return box !== null && box.y >= 0 && box.y + box.height <= height;
};

describe('the Jobs page', () => {
  it('is named as its link in the navigation', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    const link = p.getByRole('link', { name: 'Jobs', exact: true });
    const linkText = (await link.textContent())?.trim();
    await link.click();
    await p.waitForURL(/#\/jobs$/);
    expect(await p.getByRole('heading', { level: 1 }).textContent()).toBe(linkText);
  });

  it('puts the person in the first field when New job opens, and back on the button when it closes', async () => {
    const p = await page();
    await openJobs(p);
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    await form.waitFor();
    await expect.poll(() => focusedId(p)).toBe('job-name');
    // The time zone starts as the browser's own.
    const zone = await p.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(await form.getByLabel('Time zone').inputValue()).toBe(zone);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => p.evaluate(() => document.activeElement?.textContent)).toBe('New job');
  });
});

describe('the job form', () => {
  it('says what is wrong next to each field, all at once, before asking the service', async () => {
    const p = await page();
    await openJobs(p);
    const posts = recordRequests(p, 'POST', '/api/v1/jobs');
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    await form.getByLabel('Cron expression').fill('0 9 * *');
    await form.getByLabel('Time zone').fill('Mars/Olympus_Mons');
    await form.getByLabel('Post to URL').fill('hooks.slack.example/abc');
    await form.getByRole('button', { name: 'Create job' }).click();

    await expect.poll(() => problemOf(form.getByLabel('Name'))).toContain('Give the job a name');
    expect(await problemOf(form.getByLabel('Prompt'))).toContain('Write what Claude should be asked');
    expect(await problemOf(form.getByLabel('Cron expression'))).toContain('has 5 parts');
    expect(await problemOf(form.getByLabel('Time zone'))).toContain('“Mars/Olympus_Mons” is not a time zone');
    expect(await problemOf(form.getByLabel('Post to URL'))).toContain('starts with https://');
    // The first of them has the focus, so its message is read out; nothing went to the service.
    expect(await focusedId(p)).toBe('job-name');
    expect(posts).toHaveLength(0);

    // A fixed field stops saying so as the person types.
    await form.getByLabel('Name').fill('Morning summary');
    await expect.poll(() => problemOf(form.getByLabel('Name'))).toBeNull();
    await form.getByLabel('Cron expression').fill('0 61 * * *');
    await expect.poll(() => problemOf(form.getByLabel('Cron expression'))).toContain('does not parse');

    await form.getByLabel('Every…').check();
    await form.getByLabel('Every how many').fill('0');
    await form.getByRole('button', { name: 'Create job' }).click();
    await expect.poll(() => problemOf(form.getByLabel('Every how many'))).toContain('a whole number, 1 or more');
    expect(posts).toHaveLength(0);
  });

  it("puts the service's refusal next to the field it is about", async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await openJobs(p);
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    await form.getByLabel('Name').fill('Escape artist');
    await form.getByLabel('Prompt').fill('Write somewhere else');
    await form.getByLabel('Append to file').fill('../outside.md');
    await form.getByRole('button', { name: 'Create job' }).click();
    await expect.poll(() => problemOf(form.getByLabel('Append to file'))).toContain("leads out of Perch's outputs folder");
    expect(await focusedId(p)).toBe('job-file');
    // Said once, where it belongs: not again for the whole form.
    expect(await form.getByRole('alert').count()).toBe(0);
    await form.getByLabel('Append to file').fill('inside.md');
    await expect.poll(() => problemOf(form.getByLabel('Append to file'))).toBeNull();
    expectStatusErrors(watched, 400);
  });

  it("shows the next run on the job's own clock, before saving and after", async () => {
    const p = await page();
    await openJobs(p);
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    await form.getByLabel('Name').fill('Berlin breakfast');
    await form.getByLabel('Prompt').fill('What is on today?');
    await form.getByLabel('Cron expression').fill('0 9 * * *');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    const preview = form.getByTestId('job-next-run');
    await expect.poll(() => preview.textContent()).toMatch(/Next run: .*\b9:00\b.* Europe\/Berlin/);
    await form.getByLabel('Time zone').fill('America/New_York');
    await expect.poll(() => preview.textContent()).toMatch(/\b9:00\b.* America\/New_York/);
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByRole('button', { name: 'Create job' }).click();
    const card = p.getByRole('listitem').filter({ has: p.getByRole('heading', { name: 'Berlin breakfast' }) });
    await expect.poll(() => card.locator('.job-title .hint').textContent()).toMatch(/next .*\b9:00\b.* Europe\/Berlin/);
  });

  it('shows a failed last run on the card, without opening the history', async () => {
    ui.stack.upstream.enqueue({
      kind: 'http-error',
      status: 400,
      type: 'invalid_request_error',
      message: 'prompt is too long: 210000 tokens > 200000 maximum',
    });
    const { run } = await jobThatRan('Long read', 'Read everything');
    expect(run.status).toBe('failed');
    const p = await page();
    await openJobs(p);
    const card = p.getByRole('listitem').filter({ has: p.getByRole('heading', { name: 'Long read' }) });
    await expect
      .poll(() => card.getByTestId('last-run-failed').textContent())
      .toMatch(/^Last run failed .+: .*prompt is too long/);
    expect(await card.getByRole('button', { name: 'History' }).getAttribute('aria-expanded')).toBe('false');
  });
});

describe('a run’s answer', () => {
  const answer = '**Three** meetings today:\n\n- standup at 9\n- design review at 11\n- 1:1 at 3';

  it('reads as Markdown, copies as written, and opens in chat to follow up', async () => {
    ui.stack.upstream.enqueue({ kind: 'answer', text: answer });
    const { run } = await jobThatRan('Agenda', 'What meetings do I have?');
    expect(run.output).toBe(answer);
    const p = await page();
    await openJobs(p);
    const card = p.getByRole('listitem').filter({ has: p.getByRole('heading', { name: 'Agenda' }) });
    await card.getByRole('button', { name: 'History' }).click();
    const history = card.getByRole('list', { name: 'History of Agenda' });
    await history.locator('.run-output strong', { hasText: 'Three' }).waitFor();
    expect(await history.locator('.run-output li').allTextContents()).toEqual([
      'standup at 9',
      'design review at 11',
      '1:1 at 3',
    ]);

    await history.getByRole('button', { name: 'Copy' }).click();
    await history.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(answer);

    await history.getByRole('button', { name: 'Open in chat' }).click();
    await p.waitForURL(/#\/chat\/[^/]+$/);
    const sessionId = decodeURIComponent(p.url().split('#/chat/')[1] ?? '');
    await expect.poll(() => p.getByRole('heading', { level: 1 }).textContent()).toMatch(/^Agenda · /);
    // The chat holds the run: its prompt and answer, on screen and in what Claude sees next.
    const conversation = p.getByRole('region', { name: 'Conversation' });
    await conversation.getByText('What meetings do I have?').waitFor();
    await conversation.locator('.md-root strong', { hasText: 'Three' }).waitFor();
    const session = (await (await api(`/api/v1/sessions/${encodeURIComponent(sessionId)}`)).json()) as {
      messages: Array<{ role: string; content: string }>;
    };
    expect(session.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'What meetings do I have?'],
      ['assistant', answer],
    ]);
  });
});

describe('the Settings forms', () => {
  it('say what is wrong next to each field, all at once, before asking the service', async () => {
    const p = await page();
    await openSettings(p);
    const patches = recordRequests(p, 'PATCH', '/api/v1/settings');
    const limits = p.getByRole('region', { name: 'Spending and limits' });
    await limits.getByLabel('Daily budget (US dollars)').fill('-1');
    await limits.getByLabel('Requests to Claude per minute, per client').fill('1.5');
    await limits.getByLabel('Calls to Claude at once').fill('0');
    await limits.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => problemOf(limits.getByLabel('Daily budget (US dollars)'))).toContain('Enter a number from 0 to');
    expect(await problemOf(limits.getByLabel('Requests to Claude per minute, per client'))).toContain(
      'Enter a whole number from 0 to 100,000.',
    );
    expect(await problemOf(limits.getByLabel('Calls to Claude at once'))).toContain('Enter a whole number from 1 to 256.');
    expect(await focusedId(p)).toBe('daily-budget');

    const claude = p.getByRole('region', { name: 'Claude' });
    await claude.getByLabel('Max tokens per answer').fill('0');
    await claude.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => problemOf(claude.getByLabel('Max tokens per answer'))).toContain('from 1 to 128,000');
    expect(patches).toHaveLength(0);
  });

  it('put a refusal from the service next to its field, in plain words', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await openSettings(p);
    const limits = p.getByRole('region', { name: 'Spending and limits' });
    const perMinute = limits.getByLabel('Requests to Claude per minute, per client');
    // Raising a limit is for the desktop app or the CLI: the browser cannot know the rule, the service says it.
    await perMinute.fill('100000');
    await limits.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => problemOf(perMinute)).toContain('This setting protects your spending');
    const message = (await limits.locator('#requests-per-minute-error').textContent()) ?? '';
    expect(message).toContain('npx perch config set rateLimit.requestsPerMinute <value>');
    expect(message).not.toContain('`');
    expect(message).not.toContain("'rateLimit.requestsPerMinute'");
    expect(await limits.getByRole('alert').count()).toBe(0);
    expectStatusErrors(watched, 403);
  });

  it('show the port Perch serves on, and say when the one set here applies', async () => {
    const p = await page();
    await openSettings(p);
    const local = p.getByRole('region', { name: 'Local API' });
    const serving = new URL(ui.stack.url).port;
    // `perch serve --port 0` took a free port; the settings file still says 8080.
    await expect
      .poll(() => problemOrDescription(local.getByLabel('Port')))
      .toContain(`Perch is serving on port ${serving} now. The port set here, 8080, applies after Perch restarts.`);
  });

  it('jump to a section from the list at the top, on a phone', async () => {
    const p = await page({ width: 390, height: 844 });
    await openSettings(p);
    const sections = p.getByRole('navigation', { name: 'Settings sections' });
    expect(await inViewport(p, sections)).toBe(true);
    await sections.getByRole('link', { name: 'Appearance' }).click();
    await p.waitForURL(/#\/settings\/appearance$/);
    const heading = p.getByRole('heading', { name: 'Appearance' });
    await expect.poll(() => inViewport(p, heading)).toBe(true);
    expect(await focusedId(p)).toBe('section-appearance');
    // Nothing is wider than the phone.
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('keep the list of sections beside the page on a wide screen, and open at a linked section', async () => {
    const p = await page({ width: 1280, height: 800 });
    await openSettings(p, 'local-api');
    await expect.poll(() => inViewport(p, p.getByRole('heading', { name: 'Local API' }))).toBe(true);
    const sections = p.getByRole('navigation', { name: 'Settings sections' });
    await sections.getByRole('link', { name: 'Appearance' }).click();
    await expect.poll(() => inViewport(p, p.getByRole('heading', { name: 'Appearance' }))).toBe(true);
    expect(await inViewport(p, sections.getByRole('link', { name: 'Claude' }))).toBe(true);
    await sections.getByRole('link', { name: 'Claude' }).click();
    await expect.poll(() => inViewport(p, p.getByRole('heading', { name: 'Claude', exact: true }))).toBe(true);
  });
});

/** The text of whatever describes a control (its message or its hints). */
async function problemOrDescription(control: Locator): Promise<string> {
  return control.evaluate((element) =>
    (element.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

describe('saving the API key', () => {
  /** Answers the key route as the service does once it checks keys with Anthropic (after `delayMs`). */
  async function answerKeyRoute(p: Page, status: number, body: unknown, delayMs = 0): Promise<void> {
    await p.route('**/api/v1/settings/api-key', async (route) => {
      if (route.request().method() !== 'PUT') return route.fallback();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
    });
  }

  it('says Checking… while Anthropic is asked, then that the key works', async () => {
    const p = await page();
    await answerKeyRoute(p, 200, { configured: true, source: 'stored', verified: true }, 600);
    await openSettings(p);
    const claude = p.getByRole('region', { name: 'Claude' });
    await claude.getByLabel('API key').fill('sk-ant-a-good-key');
    await claude.getByRole('button', { name: 'Replace key' }).click();
    await claude.getByRole('button', { name: 'Checking…' }).waitFor();
    await claude.getByRole('status').getByText('Checking the key with Anthropic…').waitFor();
    await claude
      .getByRole('status')
      .getByText(/^Key works ✓/)
      .waitFor();
    expect(await claude.getByLabel('API key').inputValue()).toBe('');
    expect(await p.getByTestId('api-key-status').textContent()).toBe('Set');
  });

  it('puts a refused key’s reason next to the key field, and keeps what was typed', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await answerKeyRoute(p, 400, {
      error: { type: 'invalid_api_key', message: 'Anthropic did not accept this key: the key is not valid.' },
    });
    await openSettings(p);
    const claude = p.getByRole('region', { name: 'Claude' });
    const field = claude.getByLabel('API key');
    await field.fill('sk-ant-a-typo');
    await claude.getByRole('button', { name: 'Replace key' }).click();
    await expect.poll(() => problemOf(field)).toContain('Anthropic did not accept this key: the key is not valid.');
    expect(await focusedId(p)).toBe('api-key');
    expect(await field.inputValue()).toBe('sk-ant-a-typo');
    expect(await claude.getByRole('alert').count()).toBe(0);
    expect(await p.getByTestId('api-key-status').textContent()).toBe('Set (from ANTHROPIC_API_KEY)');
    expectStatusErrors(watched, 400);
  });

  it('says so when the key was saved but could not be checked', async () => {
    const p = await page();
    const warning = 'Saved, but Perch could not reach Anthropic to check it: no answer within 5 seconds.';
    await answerKeyRoute(p, 200, { configured: true, source: 'stored', verified: false, warning });
    await openSettings(p);
    const claude = p.getByRole('region', { name: 'Claude' });
    await claude.getByLabel('API key').fill('sk-ant-offline');
    await claude.getByRole('button', { name: 'Replace key' }).click();
    await claude.getByRole('status').getByText(warning).waitFor();
    expect(await claude.getByText('Key works').count()).toBe(0);
  });
});

describe('screenshots for the README', () => {
  /** Phone-width pictures are for looking at, not for the README. */
  const lookDir = path.join(os.tmpdir(), 'perch-screenshots');

  // Two jobs to show: one whose last run failed, one with a Markdown answer.
  beforeAll(async () => {
    await deleteAllJobs();
    ui.stack.upstream.enqueue({
      kind: 'http-error',
      status: 400,
      type: 'invalid_request_error',
      message: 'prompt is too long: 210000 tokens > 200000 maximum',
    });
    await jobThatRan('Weekly report', 'Summarise the week from {{last_output}}');
    ui.stack.upstream.enqueue({
      kind: 'answer',
      text: [
        'Good morning! Today at a glance:',
        '',
        '1. **Standup** at 9:30 — share the release checklist.',
        '2. **Design review** at 11 — bring the new onboarding flow.',
        '3. Reply to *Dana* about the budget before lunch.',
        '',
        '> Focus block from 14:00 to 16:00: no meetings.',
      ].join('\n'),
    });
    await jobThatRan('Morning summary', 'Summarise what I should focus on today ({{date}}).');
  }, 30_000);

  it.each([
    ['light', 1280, 800],
    ['dark', 1280, 800],
    ['phone-light', 390, 844],
    ['phone-dark', 390, 844],
  ] as const)('captures jobs and settings (%s)', async (name, width, height) => {
    const colorScheme = name.endsWith('dark') ? 'dark' : 'light';
    const dir = width < 600 ? lookDir : screenshotDir;
    mkdirSync(dir, { recursive: true });

    const jobs = await page({ colorScheme, width, height });
    await openJobs(jobs);
    const card = jobs.getByRole('listitem').filter({ has: jobs.getByRole('heading', { name: 'Morning summary' }) });
    await card.getByRole('button', { name: 'History' }).click();
    await card.locator('.run-output strong', { hasText: 'Standup' }).waitFor();
    await jobs.getByTestId('last-run-failed').waitFor();
    await jobs.waitForTimeout(300);
    await jobs.screenshot({ path: path.join(dir, `jobs-${name}.png`) });

    await jobs.getByRole('button', { name: 'New job' }).click();
    await jobs.getByRole('button', { name: 'Create job' }).click();
    await jobs.locator('#job-name-error').waitFor();
    await jobs.screenshot({ path: path.join(lookDir, `job-form-${name}.png`), fullPage: true });

    const settings = await page({ colorScheme, width, height: width < 600 ? 3600 : 2500 });
    await openSettings(settings);
    await settings.getByTestId('serving-port').waitFor();
    await settings.screenshot({ path: path.join(dir, `settings-${name}.png`) });
  });
});

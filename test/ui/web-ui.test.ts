import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../helpers/perch.js';
import { cliEnv, runPerch } from '../cli/run-perch.js';
import { expectStatusErrors, openPage, screenshotDir, signIn, startUiStack, useBrowserTests } from './stack.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const ui = useBrowserTests();
const { page, watchedPage } = ui;

const message = (p: Page) => p.getByRole('textbox', { name: 'Message' });

async function ask(p: Page, text: string): Promise<void> {
  await message(p).fill(text);
  await message(p).press('Enter');
}

describe('signing in', () => {
  it('asks for the API token, refuses a wrong one, and signs in with Enter', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await p.goto(`${ui.stack.url}/`);
    const field = p.getByLabel('API token');
    await field.fill('perch_not-the-token');
    await field.press('Enter');
    await expect.poll(() => p.getByRole('alert').textContent()).toContain('not the API token');
    await field.fill(ui.stack.token);
    await field.press('Enter');
    await message(p).waitFor();
    // The refused attempt is the one error the browser may log.
    expectStatusErrors(watched, 401);
  });

  it('stays signed in after a reload, keeping only an HttpOnly cookie (never the token)', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await p.reload();
    await message(p).waitFor();
    const stored = await p.evaluate(() =>
      JSON.stringify({
        local: Object.keys(localStorage).map((key) => [key, localStorage.getItem(key)]),
        session: Object.keys(sessionStorage).map((key) => [key, sessionStorage.getItem(key)]),
        cookie: document.cookie,
      }),
    );
    expect(stored).not.toContain(ui.stack.token);
    expect(stored).not.toContain('perch_session');
  });
});

describe('chat', () => {
  it('streams the answer as it arrives, then shows its tokens and cost', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    const answer = 'The quick brown fox jumps over the lazy dog, step by step, piece by piece, until the end.';
    ui.stack.upstream.enqueue({ kind: 'answer', text: answer, chunks: 12, delayMs: 80 });
    await ask(p, 'Tell me about the fox');
    await p.getByText('The quick brown fox', { exact: false }).first().waitFor();
    // Part of the answer is on screen while the rest is still coming.
    expect(await p.getByText('until the end.').count()).toBe(0);
    await p.getByText('until the end.').waitFor();
    await expect.poll(() => p.locator('.message-meta').last().textContent()).toMatch(/claude-sonnet-5-5 · \d+ in · \d+ out · \$/);
    await expect.poll(() => p.locator('.session-total').textContent()).toMatch(/tokens · \$/);
  });

  it('stops an answer in flight and keeps what arrived', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    const aborts = ui.stack.upstream.clientAborts;
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'Once upon a time '.repeat(40), chunks: 60, delayMs: 60 });
    await ask(p, 'A long story please');
    await p.getByText('Once upon a time', { exact: false }).first().waitFor();
    await p.getByRole('button', { name: 'Stop' }).click();
    await p.getByText('Stopped before the end.').waitFor();
    await expect.poll(() => ui.stack.upstream.clientAborts).toBeGreaterThan(aborts);
    await p.reload();
    await p.getByText('Stopped before the end.').waitFor();
  });

  it('leaves the person in Settings when they go there while an answer is coming, keeping what arrived', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    const aborts = ui.stack.upstream.clientAborts;
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'Slowly, word by word. '.repeat(30), chunks: 30, delayMs: 60 });
    await ask(p, 'Take your time');
    await p.getByText('Slowly, word by word.', { exact: false }).first().waitFor();
    await p.getByRole('link', { name: 'Settings', exact: true }).click();
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    await expect.poll(() => ui.stack.upstream.clientAborts).toBeGreaterThan(aborts);
    // The chat's last steps after an answer (load the saved version, refresh the list) have run by now.
    await p.waitForTimeout(500);
    expect(new URL(p.url()).hash).toBe('#/settings');
    await p.goBack();
    await p.getByText('Stopped before the end.').waitFor();
    await p.getByText('Slowly, word by word.', { exact: false }).first().waitFor();
  });

  it('finds an earlier session after a reload and through history search', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await ask(p, 'How tall is the lighthouse of Alexandria?');
    await p.getByText('You said: How tall is the lighthouse').waitFor();
    await p.goto(`${ui.stack.url}/#/chat`);
    await p.reload();
    await p.getByRole('link', { name: /How tall is the lighthouse/ }).waitFor();
    await p.getByRole('searchbox', { name: 'Search history' }).fill('lighthou');
    const result = p.getByRole('list', { name: 'Search results' }).getByRole('link').first();
    await result.click();
    await p.getByRole('region', { name: 'Conversation' }).getByText('You said: How tall is the lighthouse').waitFor();
    expect(p.url()).toMatch(/#\/chat\/ses_/);
  });

  it('renames and deletes a session', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await ask(p, 'Session to rename');
    await p.getByText('You said: Session to rename').waitFor();
    await p.getByRole('button', { name: 'Rename Session to rename' }).click();
    const title = p.getByRole('textbox', { name: 'New title for Session to rename' });
    await title.fill('Renamed by hand');
    await title.press('Enter');
    await p.getByRole('link', { name: /Renamed by hand/ }).waitFor();
    await p.getByRole('button', { name: 'Delete Renamed by hand' }).click();
    await p.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => p.getByRole('link', { name: /Renamed by hand/ }).count()).toBe(0);
  });

  it('downloads a conversation as Markdown or JSON from Export', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    const question = 'What do herons eat?';
    const answer = 'Mostly **fish**, and now and then a frog.';
    ui.stack.upstream.enqueue({ kind: 'answer', text: answer, chunks: 3 });
    await ask(p, question);
    const claude = p.getByRole('region', { name: 'Conversation' }).getByRole('article', { name: 'Claude' });
    await claude.locator('strong', { hasText: 'fish' }).waitFor();
    // The saved answer (with its cost) is on screen, so the export has both messages.
    await claude.locator('.message-meta').waitFor();

    await p.getByText('Export', { exact: true }).click();
    const menu = p.getByRole('group', { name: 'Export this conversation' });
    const markdownDownload = p.waitForEvent('download');
    await menu.getByRole('button', { name: 'Markdown' }).click();
    const markdownFile = await markdownDownload;
    expect(markdownFile.suggestedFilename()).toBe('perch-what-do-herons-eat.md');
    const markdown = readFileSync(await markdownFile.path(), 'utf8');
    expect(markdown).toMatch(/^# What do herons eat\?\n/);
    expect(markdown).toMatch(
      /\n## You — [^\n]+\n\nWhat do herons eat\?\n\n## Claude — [^\n]+\n\nMostly \*\*fish\*\*, and now and then a frog\.\n/,
    );

    const jsonDownload = p.waitForEvent('download');
    await menu.getByRole('button', { name: 'JSON' }).click();
    const jsonFile = await jsonDownload;
    expect(jsonFile.suggestedFilename()).toBe('perch-what-do-herons-eat.json');
    const exported = JSON.parse(readFileSync(await jsonFile.path(), 'utf8')) as {
      title: string;
      messages: Array<{ role: string; content: string }>;
    };
    expect(exported.title).toBe(question);
    expect(exported.messages.map(({ role, content }) => ({ role, content }))).toEqual([
      { role: 'user', content: question },
      { role: 'assistant', content: answer },
    ]);
  });

  it('attaches a file with the Attach button and sends it as message content', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await p.locator('input[type="file"]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    await p.getByRole('list', { name: 'Files to send' }).getByText('dot.png').waitFor();
    await ask(p, 'What is in this image?');
    await p.getByText('You said: What is in this image?').waitFor();
    const body = ui.stack.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: Array<{ type: string }> }> };
    expect(body.messages.at(-1)?.content.map((block) => block.type)).toEqual(['image', 'text']);
    await p.getByRole('list', { name: 'Attachments' }).getByText('dot.png').waitFor();
  });

  it('takes files dropped on the conversation or pasted into the message box', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    await p.evaluate(() => {
      const drop = new DataTransfer();
      drop.items.add(new File(['dropped text'], 'dropped.txt', { type: 'text/plain' }));
      const target = document.querySelector('section.messages');
      target?.dispatchEvent(new DragEvent('dragover', { dataTransfer: drop, bubbles: true, cancelable: true }));
      target?.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
      const paste = new DataTransfer();
      paste.items.add(new File(['pasted text'], 'pasted.txt', { type: 'text/plain' }));
      document
        .querySelector('textarea[aria-label="Message"]')
        ?.dispatchEvent(new ClipboardEvent('paste', { clipboardData: paste, bubbles: true, cancelable: true }));
    });
    const queued = p.getByRole('list', { name: 'Files to send' });
    await queued.getByText('dropped.txt').waitFor();
    await queued.getByText('pasted.txt').waitFor();
    await ask(p, 'Compare these');
    await p.getByText('You said: Compare these').waitFor();
    const body = ui.stack.upstream.messageRequests.at(-1)?.body as {
      messages: Array<{ content: Array<{ type: string; text?: string }> }>;
    };
    const texts = body.messages.at(-1)?.content.map((block) => block.text ?? '') ?? [];
    expect(texts[0]).toContain('<file name="dropped.txt">');
    expect(texts[1]).toContain('<file name="pasted.txt">');
  });

  it('keeps its layout with a long answer and a very long code line', async () => {
    const p = await page({ width: 680, height: 420 });
    await signIn(p, ui.stack);
    const longLine = `const data = [${Array.from({ length: 120 }, (_, index) => index).join(', ')}];`;
    const answer = `${'A paragraph of words. '.repeat(60)}\n\n\`\`\`js\n${longLine}\n\`\`\`\n\n${'averyveryverylongwordwithoutanyspaces'.repeat(8)}`;
    ui.stack.upstream.enqueue({ kind: 'answer', text: answer, chunks: 20 });
    await ask(p, 'Long one');
    await p.getByRole('button', { name: 'Copy code' }).waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});

describe('quick ask', () => {
  it('is ready to type at once; Enter streams the answer; Continue in chat opens the session', async () => {
    const p = await page({ width: 680, height: 420 });
    await signIn(p, ui.stack, '#/quick-ask');
    await p.goto(`${ui.stack.url}/#/quick-ask`);
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Message');
    await p.keyboard.type('What is the speed of light?');
    await p.keyboard.press('Enter');
    await p.getByText('You said: What is the speed of light?').waitFor();
    await p.getByRole('button', { name: 'Continue in chat' }).click();
    await expect.poll(() => p.url()).toMatch(/#\/chat\/ses_/);
    await p.getByText('You said: What is the speed of light?').waitFor();
  });
});

describe('settings', () => {
  it('says what is wrong with a bad value and confirms a good one', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await signIn(p, ui.stack, '#/settings');
    await p.goto(`${ui.stack.url}/#/settings`);
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
    const claude = p.getByRole('region', { name: 'Claude' });
    await claude.getByLabel('Max tokens per answer').fill('0');
    await claude.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => claude.locator('#max-tokens-error').textContent()).toContain('from 1 to 128,000');
    await claude.getByLabel('Max tokens per answer').fill('2048');
    await claude.getByRole('button', { name: 'Save', exact: true }).click();
    await claude.getByRole('status').getByText('Saved.').waitFor();
    await p.reload();
    await expect.poll(() => p.getByLabel('Max tokens per answer').inputValue()).toBe('2048');
    expectStatusErrors(watched, 400);
  });

  it('takes a daily budget; once it is reached chat says so; only the CLI lifts it, and then chat answers again', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'A first, paid answer.' });
    await ask(p, 'Spend a little');
    await p.getByText('A first, paid answer.').waitFor();
    await p.goto(`${ui.stack.url}/#/settings`);
    const limits = p.getByRole('region', { name: 'Spending and limits' });
    const save = limits.getByRole('button', { name: 'Save', exact: true });
    await limits.getByLabel('Daily budget (US dollars)').fill('-1');
    await save.click();
    await expect.poll(() => limits.locator('#daily-budget-error').textContent()).toContain('Enter a number from 0');
    await limits.getByLabel('Daily budget (US dollars)').fill('0.000001');
    await save.click();
    await limits.getByRole('status').getByText('Saved. Limits apply at once.').waitFor();

    await p.goto(`${ui.stack.url}/#/chat`);
    await ask(p, 'Over budget?');
    await expect.poll(() => p.getByRole('alert').first().textContent()).toContain('daily budget');
    expect(ui.stack.upstream.messageRequests.some((request) => JSON.stringify(request).includes('Over budget?'))).toBe(false);

    // A browser holds only the token: it may lower a spending limit, never lift one.
    await p.goto(`${ui.stack.url}/#/settings`);
    await limits.getByLabel('Daily budget (US dollars)').fill('0');
    await save.click();
    await expect
      .poll(() => limits.locator('#daily-budget-error').textContent())
      .toContain('npx perch config set budget.dailyUsd');
    const lifted = await runPerch(['config', 'set', 'budget.dailyUsd', '0'], {
      env: cliEnv({ PERCH_DATA_DIR: ui.stack.dataDir }),
    });
    expect(lifted.code).toBe(0);
    await p.goto(`${ui.stack.url}/#/chat`);
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'Within budget again.' });
    await ask(p, 'And now?');
    await p.getByText('Within budget again.').waitFor();
    expectStatusErrors(watched, 400);
    expectStatusErrors(watched, 403);
    expectStatusErrors(watched, 429);
  });

  it('shows the security settings read-only in a browser, with the command that changes them', async () => {
    const p = await page();
    await signIn(p, ui.stack, '#/settings');
    await p.goto(`${ui.stack.url}/#/settings`);
    const local = p.getByRole('region', { name: 'Local API' });
    expect(await local.getByLabel('Port').getAttribute('readonly')).not.toBeNull();
    await local.getByText('npx perch config set api.port <value>').waitFor();
    const desktop = p.getByRole('region', { name: 'Desktop' });
    expect(await desktop.getByLabel('Start at login').isDisabled()).toBe(true);
    // Where the Anthropic key and the GitHub token are sent, and who may make Perch act for GitHub and Slack.
    const claude = p.getByRole('region', { name: 'Claude' });
    expect(await claude.getByLabel('Anthropic API URL').getAttribute('readonly')).not.toBeNull();
    await claude.getByText('npx perch config set claude.upstreamUrl <value>').waitFor();
    const automation = p.getByRole('region', { name: 'Automation' });
    expect(await automation.getByLabel('GitHub API URL').getAttribute('readonly')).not.toBeNull();
    await automation.getByText('npx perch config set github.webhookSecret -').waitFor();
    await automation.getByText('npx perch config set slack.signingSecret -').waitFor();
    expect(await automation.locator('#github-webhook-secret').count()).toBe(0);
  });

  it('takes a GitHub token without ever showing it back, and clears it', async () => {
    const p = await page();
    await signIn(p, ui.stack, '#/settings');
    await p.goto(`${ui.stack.url}/#/settings`);
    const automation = p.getByRole('region', { name: 'Automation' });
    const status = automation.getByTestId('github-token-status');
    await expect.poll(() => status.textContent()).toBe('Not set');
    await automation.getByLabel('GitHub token').fill('ghp_ui-test-token-4b1d');
    await automation.getByRole('button', { name: 'Save', exact: true }).click();
    await automation.getByRole('status').getByText('Saved. Secrets are never shown again.').waitFor();
    expect(await status.textContent()).toBe('Set');
    expect(await automation.getByLabel('GitHub token').inputValue()).toBe('');
    await p.reload();
    await expect.poll(() => status.textContent()).toBe('Set');
    expect(await p.content()).not.toContain('ghp_ui-test-token-4b1d');
    await automation.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => status.textContent()).toBe('Not set');
  });

  it('switches the theme at once', async () => {
    const p = await page();
    await signIn(p, ui.stack, '#/settings');
    await p.goto(`${ui.stack.url}/#/settings`);
    await p.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(() => p.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await p.getByRole('radio', { name: 'Follow the system' }).check();
    await expect.poll(() => p.evaluate(() => document.documentElement.dataset.theme ?? 'system')).toBe('system');
  });
});

describe('scheduled prompts', () => {
  it('creates a job from the form, refuses a bad schedule with the reason, runs it now and shows the history', async () => {
    const watched = await watchedPage();
    const p = watched.page;
    await signIn(p, ui.stack, '#/jobs');
    await p.goto(`${ui.stack.url}/#/jobs`);
    await p.getByRole('button', { name: 'New job' }).click();
    const form = p.getByRole('form', { name: 'New job' });
    await form.getByLabel('Name').fill('Morning summary');
    await form.getByLabel('Prompt').fill('Summarise my day ({{date}})');
    await form.getByLabel('Cron expression').fill('0 9 * *');
    await form.getByRole('button', { name: 'Create job' }).click();
    await expect.poll(() => form.locator('#job-cron-error').textContent()).toContain('5 parts');
    await form.getByLabel('Cron expression').fill('0 9 * * 1-5');
    await form.getByRole('button', { name: 'Create job' }).click();
    const card = p.getByRole('listitem').filter({ has: p.getByRole('heading', { name: 'Morning summary' }) });
    await card.getByText('0 9 * * 1-5').waitFor();
    ui.stack.upstream.enqueue({ kind: 'answer', text: 'Three meetings and a deadline.' });
    await card.getByRole('button', { name: 'Run now' }).click();
    await card.getByRole('button', { name: 'History' }).click();
    await expect
      .poll(async () => card.getByRole('list', { name: 'History of Morning summary' }).textContent(), { timeout: 10_000 })
      .toContain('Three meetings and a deadline.');
    expectStatusErrors(watched, 400);
  });
});

describe('usage', () => {
  it('shows what Perch spent: totals, a bar per day, and the spenders by model and by conversation', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    // A long answer, so this conversation is the biggest spender and leads its table.
    ui.stack.upstream.enqueue({ kind: 'answer', text: `Counted. ${'Every word is counted. '.repeat(300)}` });
    await ask(p, 'What did this cost?');
    await p.getByText('Counted.').waitFor();
    await p.getByRole('link', { name: 'Usage' }).click();
    await p.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    await expect.poll(async () => Number(await p.getByTestId('usage-total-requests').textContent())).toBeGreaterThan(0);
    expect(await p.getByTestId('usage-total-cost').textContent()).toMatch(/\$\d/);
    // 30 days by default, today included; 7 days on request.
    const bars = p.getByRole('list', { name: /^Estimated cost per day/ }).getByRole('listitem');
    expect(await bars.count()).toBe(30);
    await p.getByRole('radio', { name: '7 days' }).check();
    await expect.poll(() => bars.count()).toBe(7);
    await p.getByRole('radio', { name: 'Tokens' }).check();
    await p.getByRole('heading', { name: 'Tokens per day' }).waitFor();
    const byModel = p.getByRole('table', { name: 'Usage by model' });
    await byModel.getByText('claude-sonnet-5-5').waitFor();
    // A conversation row leads back to that chat.
    await p.getByRole('table', { name: 'Usage by conversation' }).getByRole('link', { name: 'What did this cost?' }).click();
    await p.getByText('Counted.').waitFor();
    expect(p.url()).toContain('#/chat/');
  });
});

describe('without an API key', () => {
  it('says what to do, takes the key write-only, and then answers — the key never shows in the page', async () => {
    const keyless = await startUiStack({ apiKey: null });
    const watched = await openPage(ui.browser);
    try {
      const p = watched.page;
      await signIn(p, keyless);
      // Said before anything is typed; a question asked anyway stays in the box.
      await p.getByText('Claude cannot answer yet: Perch has no Anthropic API key.', { exact: false }).waitFor();
      await ask(p, 'Hello?');
      expect(await message(p).inputValue()).toBe('Hello?');
      await p.getByRole('alert').getByRole('link', { name: 'Settings' }).click();
      await p.getByRole('heading', { name: 'Settings' }).waitFor();
      await p.getByLabel('API key').fill(TEST_API_KEY);
      await p.getByRole('button', { name: 'Save key' }).click();
      await expect.poll(() => p.getByTestId('api-key-status').textContent()).toBe('Set');
      expect(await p.content()).not.toContain(TEST_API_KEY);
      expect(await p.getByLabel('API key').inputValue()).toBe('');
      await p.getByRole('link', { name: '← Chat' }).click();
      expect(await message(p).inputValue()).toBe('Hello?');
      await ask(p, 'Hello now?');
      await p.getByText('You said: Hello now?').waitFor();
      expect(await p.content()).not.toContain(TEST_API_KEY);
      // The page stays with this service: wait for its last refresh, then close it before the service stops.
      await p.getByRole('link', { name: /Hello now\?/ }).waitFor();
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.context.close();
      await keyless.stop();
    }
  });
});

describe('keyboard', () => {
  it('reaches Settings from the chat by keyboard alone', async () => {
    const p = await page();
    await signIn(p, ui.stack);
    // The cursor starts in the message box; the navigation is a few steps back from it.
    await expect.poll(() => p.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Message');
    for (let presses = 0; presses < 15; presses += 1) {
      await p.keyboard.press('Shift+Tab');
      const name = await p.evaluate(() => document.activeElement?.textContent.trim());
      if (name === 'Settings') break;
    }
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Settings' }).waitFor();
  });
});

describe('screenshots for the README', () => {
  // Jobs and Settings: test/ui/forms-ui.test.ts.
  it.each(['light', 'dark'] as const)('captures chat, quick ask and usage in %s', async (colorScheme) => {
    mkdirSync(screenshotDir, { recursive: true });
    const p = await page({ colorScheme, width: 1280, height: 800 });
    await signIn(p, ui.stack);
    ui.stack.upstream.enqueue({
      kind: 'answer',
      text: [
        'Here is a small **TypeScript** helper that retries a promise with backoff:',
        '',
        '```ts',
        'export async function retry<T>(run: () => Promise<T>, attempts = 3): Promise<T> {',
        '  for (let attempt = 1; ; attempt += 1) {',
        '    try {',
        '      return await run();',
        '    } catch (error) {',
        '      if (attempt >= attempts) throw error;',
        '      await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 100));',
        '    }',
        '  }',
        '}',
        '```',
        '',
        '| Attempt | Wait |',
        '| ------- | ---- |',
        '| 1 | 200 ms |',
        '| 2 | 400 ms |',
      ].join('\n'),
    });
    await ask(p, 'Write a retry helper with exponential backoff');
    await p.getByRole('button', { name: 'Copy code' }).waitFor();
    await p.waitForTimeout(400);
    await p.screenshot({ path: path.join(screenshotDir, `chat-${colorScheme}.png`) });

    const quick = await page({ colorScheme, width: 680, height: 420 });
    await signIn(quick, ui.stack, '#/quick-ask');
    await quick.goto(`${ui.stack.url}/#/quick-ask`);
    ui.stack.upstream.enqueue({
      kind: 'answer',
      text: 'About **299,792 km/s** in a vacuum — light crosses the Earth–Moon distance in roughly 1.3 seconds.',
    });
    await ask(quick, 'How fast is light?');
    // Rendered as Markdown (its renderer loads just after the input is up).
    await quick.locator('.quick-ask-answer strong', { hasText: '299,792 km/s' }).waitFor();
    await quick.screenshot({ path: path.join(screenshotDir, `quick-ask-${colorScheme}.png`) });

    const usage = await page({ colorScheme, width: 1280, height: 800 });
    await signIn(usage, ui.stack, '#/usage');
    await usage.goto(`${ui.stack.url}/#/usage`);
    await usage.getByRole('table', { name: 'Usage by model' }).waitFor();
    await usage.screenshot({ path: path.join(screenshotDir, `usage-${colorScheme}.png`) });
  });
});

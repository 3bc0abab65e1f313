import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { cliEnv, runPerch } from '../cli/run-perch.js';
import { finalAnswer, projectFolder, toolCall } from '../helpers/tasks.js';
import { screenshotDir, signIn, useBrowserTests } from './stack.js';

/*
 * Tasks in the web UI, in Debian's Chromium against `perch serve`, whose agent is the real
 * `claude` binary; the fake upstream scripts what Claude does.
 */

const ui = useBrowserTests();
const { page, api } = ui;
let folder: string;

async function startFromForm(p: Page, prompt: string, mode?: string): Promise<string> {
  await p.goto(`${ui.stack.url}/#/tasks`);
  const form = p.getByRole('form', { name: 'New task' });
  await form.getByLabel('What should Claude do?').fill(prompt);
  if (mode) await form.getByLabel('Permissions').selectOption(mode);
  await form.getByRole('button', { name: 'Start task' }).click();
  await p.waitForURL(/#\/tasks\/task_/);
  return decodeURIComponent(p.url().split('#/tasks/')[1] ?? '');
}

describe('the Tasks view', () => {
  it('says how to add a workspace when there is none, then starts a task in one', async () => {
    const p = await page();
    await signIn(p, ui.stack, '#/tasks');
    await p.goto(`${ui.stack.url}/#/tasks`);
    await p.getByText('npx perch workspace add .').waitFor();
    folder = projectFolder();
    expect(
      (await runPerch(['workspace', 'add', folder, '--name', 'site'], { env: cliEnv({ PERCH_DATA_DIR: ui.stack.dataDir }) }))
        .code,
    ).toBe(0);
    await p.reload();
    const form = p.getByRole('form', { name: 'New task' });
    await expect.poll(() => form.getByLabel('Workspace').textContent()).toContain('site');
    // The prompt box has focus, ready to type.
    await expect.poll(() => p.evaluate(() => document.activeElement?.id)).toBe('task-prompt');
  });

  it('asks before writing; Allow writes the file, and Changes shows its diff and downloads it', async () => {
    ui.stack.upstream.enqueue(
      toolCall(
        'toolu_u1',
        'Write',
        { file_path: path.join(folder, 'hello.md'), content: '# Hello\n\nfrom a task\n' },
        'I will write hello.md.',
      ),
      finalAnswer('Wrote **hello.md** with a greeting.'),
    );
    const p = await page();
    await signIn(p, ui.stack, '#/tasks');
    await startFromForm(p, 'Write a hello page');
    const card = p.getByRole('article', { name: /^Write: Write hello\.md/ });
    await card.getByRole('group', { name: 'Permission request' }).waitFor();
    await p.getByText('needs you').first().waitFor();
    expect(existsSync(path.join(folder, 'hello.md'))).toBe(false);
    await card.getByRole('button', { name: 'Allow' }).click();
    await p.locator('.message.assistant strong', { hasText: 'hello.md' }).waitFor();
    await p.getByText('done', { exact: true }).first().waitFor();
    expect(readFileSync(path.join(folder, 'hello.md'), 'utf8')).toBe('# Hello\n\nfrom a task\n');

    await p.getByRole('tab', { name: 'Changes' }).click();
    const changes = p.getByRole('list', { name: 'Files changed' });
    await changes.getByText('hello.md', { exact: true }).waitFor();
    await expect.poll(() => changes.locator('.md-code').textContent()).toContain('+# Hello');
    const download = p.waitForEvent('download');
    await changes.getByRole('button', { name: 'Download hello.md' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('hello.md');
    expect(readFileSync(await file.path(), 'utf8')).toBe('# Hello\n\nfrom a task\n');
  });

  it('denies a command with a reason by keyboard, and the task goes on to its answer', async () => {
    ui.stack.upstream.enqueue(
      toolCall('toolu_u2', 'Bash', { command: 'rm -rf node_modules', description: 'clean' }),
      finalAnswer('Understood, I left node_modules alone.'),
    );
    const p = await page();
    await signIn(p, ui.stack, '#/tasks');
    await startFromForm(p, 'Clean up');
    const request = p.getByRole('group', { name: 'Permission request' });
    await request.waitFor();
    await request.getByRole('button', { name: 'Deny…' }).focus();
    await p.keyboard.press('Enter');
    await p.getByLabel('Why not (told to Claude)').fill('Keep the dependencies.');
    await p.keyboard.press('Enter');
    await p.getByText('Understood, I left node_modules alone.').waitFor();
    await p.getByText('Keep the dependencies.').first().waitFor();
    expect(ui.stack.upstream.messageRequests.at(-1)?.rawBody).toContain('Keep the dependencies.');
  });

  it('stops a task that waits, and the follow-up box continues it', async () => {
    ui.stack.upstream.enqueue(toolCall('toolu_u3', 'Write', { file_path: path.join(folder, 'later.md'), content: 'x' }));
    const p = await page();
    await signIn(p, ui.stack, '#/tasks');
    await startFromForm(p, 'Wait for me');
    await p.getByRole('group', { name: 'Permission request' }).waitFor();
    await p.getByRole('button', { name: 'Stop' }).click();
    await p.getByText('stopped', { exact: true }).first().waitFor();
    await expect.poll(() => p.getByRole('group', { name: 'Permission request' }).count()).toBe(0);
    ui.stack.upstream.enqueue(finalAnswer('Back at it.'));
    await p.getByLabel('Follow-up').fill('Carry on, but skip the file.');
    await p.getByLabel('Follow-up').press('Enter');
    await p.getByText('Back at it.').waitFor();
  });

  it('shows how many requests wait for a person in the navigation', async () => {
    ui.stack.upstream.enqueue(toolCall('toolu_u4', 'Write', { file_path: path.join(folder, 'badge.md'), content: 'x' }));
    const started = (await (await api('/api/v1/tasks', { json: { prompt: 'Badge', workspace: 'site' } })).json()) as {
      id: string;
    };
    const p = await page();
    await signIn(p, ui.stack);
    const badge = p.getByRole('link', { name: /Tasks/ }).locator('.nav-badge');
    await expect.poll(() => badge.textContent(), { timeout: 15_000 }).toContain('1');
    await api(`/api/v1/tasks/${started.id}/stop`, { method: 'POST' });
    await expect.poll(() => badge.count(), { timeout: 15_000 }).toBe(0);
  });

  it('opens the task a scheduled job started', async () => {
    ui.stack.upstream.enqueue(finalAnswer('Nightly tidy: nothing to do.'));
    const job = (await (
      await api('/api/v1/jobs', {
        json: { name: 'Nightly tidy', prompt: 'Tidy up', cron: '0 3 * * *', task: { workspace: 'site' } },
      })
    ).json()) as { id: string };
    await api(`/api/v1/jobs/${job.id}/run`, { method: 'POST' });
    let taskId: string | null = null;
    while (!taskId) {
      const { runs } = (await (await api(`/api/v1/jobs/${job.id}/runs`)).json()) as { runs: Array<{ task_id: string | null }> };
      taskId = runs[0]?.task_id ?? null;
    }
    const p = await page();
    await signIn(p, ui.stack, '#/jobs');
    await p.goto(`${ui.stack.url}/#/jobs`);
    await p.getByRole('button', { name: 'History' }).first().click();
    await p.getByRole('link', { name: 'Open its task' }).first().click();
    await p.waitForURL(new RegExp(`#/tasks/${taskId}`));
    await p.getByText('Nightly tidy: nothing to do.').waitFor();
  });

  it('exports the transcript as Markdown', async () => {
    const { tasks } = (await (await api('/api/v1/tasks?limit=1')).json()) as { tasks: Array<{ id: string }> };
    const p = await page();
    await signIn(p, ui.stack, `#/tasks/${tasks[0]?.id ?? ''}`);
    await p.goto(`${ui.stack.url}/#/tasks/${tasks[0]?.id ?? ''}`);
    await p.getByText('Export').click();
    const download = p.waitForEvent('download');
    await p.getByRole('button', { name: 'Markdown' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^perch-.+\.md$/);
    expect(readFileSync(await file.path(), 'utf8')).toContain('## You');
  });
});

describe('quick ask', () => {
  it('runs the words as a task in a chosen workspace and opens it', async () => {
    ui.stack.upstream.enqueue(finalAnswer('Started from quick ask.'));
    const p = await page({ width: 680, height: 420 });
    await signIn(p, ui.stack, '#/quick-ask');
    await p.goto(`${ui.stack.url}/#/quick-ask`);
    await p.getByRole('button', { name: 'Run as task' }).click();
    await expect.poll(() => p.getByLabel('Workspace').inputValue()).toMatch(/^ws_/);
    await p.getByRole('textbox', { name: 'Message' }).fill('Tidy the readme');
    await p.getByRole('textbox', { name: 'Message' }).press('Enter');
    await p.waitForURL(/#\/tasks\/task_/);
    await p.getByText('Started from quick ask.').waitFor();
  });
});

describe('on a phone', () => {
  it('approves an edit at 390 px wide, and the diff fits the screen', async () => {
    const file = path.join(folder, 'config.json');
    writeFileSync(file, '{\n  "retries": 1\n}\n');
    ui.stack.upstream.enqueue(
      toolCall('toolu_p1', 'Read', { file_path: file }),
      toolCall('toolu_p2', 'Edit', { file_path: file, old_string: '"retries": 1', new_string: '"retries": 3' }),
      finalAnswer('Raised the retries to 3.'),
    );
    const p = await page({ width: 390, height: 844 });
    await signIn(p, ui.stack, '#/tasks');
    await startFromForm(p, 'Raise the retries');
    const allow = p.getByRole('button', { name: 'Allow' });
    await allow.waitFor();
    const box = await allow.boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await allow.tap().catch(() => allow.click());
    await p.getByText('Raised the retries to 3.').waitFor();
    expect(readFileSync(file, 'utf8')).toContain('"retries": 3');
  });
});

describe('screenshots for the README', () => {
  it.each([
    ['light', 1280, 900],
    ['dark', 1280, 900],
    ['phone', 390, 844],
  ] as const)('captures a task page (%s)', async (name, width, height) => {
    const colorScheme = name === 'dark' ? 'dark' : 'light';
    const file = path.join(folder, `report-${name}.md`);
    writeFileSync(
      path.join(folder, 'package.json'),
      JSON.stringify({ scripts: { test: "printf '✓ 42 passed\\n✗ 1 failed: parses dates\\n'" } }),
    );
    ui.stack.upstream.enqueue(
      toolCall('toolu_s1', 'Bash', { command: 'npm test', description: 'run the tests' }, 'Let me run the tests first.'),
      toolCall('toolu_s2', 'Write', { file_path: file, content: '# Test report\n\n- 42 passed\n- 1 failed: `parses dates`\n' }),
    );
    const started = (await (
      await api('/api/v1/tasks', {
        json: { prompt: 'Run the tests and write a short report', workspace: 'site', allowed_tools: ['Bash(npm test)'] },
      })
    ).json()) as { id: string };
    const p = await page({ colorScheme, width, height });
    await signIn(p, ui.stack, `#/tasks/${started.id}`);
    await p.goto(`${ui.stack.url}/#/tasks/${started.id}`);
    await p.getByRole('group', { name: 'Permission request' }).waitFor();
    // The title stays readable on a phone: a line of its own, not squeezed beside the buttons.
    expect((await p.getByRole('heading', { level: 1 }).boundingBox())?.width).toBeGreaterThan(width / 2);
    await p.waitForTimeout(400);
    await p.screenshot({ path: path.join(screenshotDir, `task-${name}.png`) });
    await api(`/api/v1/tasks/${started.id}/stop`, { method: 'POST' });
  });
});

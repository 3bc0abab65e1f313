import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MODEL_LABELS } from '../../main/core/metrics.js';
import { ServiceClient } from '../../main/cli/service-client.js';
import { deliverOutput, systemOutputChannels } from '../../main/core/jobs/outputs.js';
import { cliEnv, runPerch } from '../cli/run-perch.js';
import { startRecordingServer, startSquatter } from '../fixtures/recording-server.js';
import { startTestPerch, temporaryDataDir, type TestPerch } from '../helpers/perch.js';

/*
 * What a client holding the token — an editor plugin, a script, a browser signed in with it —
 * must not be able to do (the findings of an attack on a running `perch serve`). Each test
 * replays one attack and checks that it is refused or harmless.
 */

const DESKTOP_SECRET = 'the-desktop-apps-per-launch-secret';

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch({ desktopSecret: DESKTOP_SECRET });
});
afterAll(async () => {
  await perch.stop();
});

interface ErrorBody {
  error: { type: string; message: string };
}

const patchSettings = (patch: unknown, asDesktop = false) =>
  perch.request('/api/v1/settings', {
    method: 'PATCH',
    json: patch,
    headers: asDesktop ? { 'x-perch-desktop': DESKTOP_SECRET } : {},
  });

describe('1. the Anthropic key cannot be sent elsewhere', () => {
  it('refuses a client that points claude.upstreamUrl at another server, naming the command to use', async () => {
    const attacker = await startRecordingServer();
    try {
      const res = await patchSettings({ claude: { upstreamUrl: attacker.url } });
      expect(res.status).toBe(403);
      const { error } = (await res.json()) as ErrorBody;
      expect(error.type).toBe('forbidden_setting');
      expect(error.message).toContain('npx perch config set claude.upstreamUrl <value>');
      expect(error.message).toContain('Anthropic API key');
      perch.upstream.enqueue({ kind: 'answer', text: 'Still from the real upstream.' });
      expect((await perch.request('/api/v1/chat', { json: { message: 'hello' } })).status).toBe(200);
      expect(attacker.seen).toEqual([]);
    } finally {
      await attacker.stop();
    }
  });

  it('takes the same value sent back unchanged (forms send every field), and any change from the desktop app', async () => {
    const current = perch.service.core.settings.get('claude.upstreamUrl');
    expect((await patchSettings({ claude: { upstreamUrl: current, maxTokens: 2048 } })).status).toBe(200);
    expect((await patchSettings({ claude: { upstreamUrl: 'https://gateway.example' } }, true)).status).toBe(200);
    expect(perch.service.core.settings.get('claude.upstreamUrl')).toBe('https://gateway.example');
    perch.service.core.settings.reset('claude.upstreamUrl');
  });

  it('says in GET /api/v1/settings which command changes it', async () => {
    const view = (await (await perch.request('/api/v1/settings')).json()) as { cli: Record<string, string> };
    expect(view.cli['claude.upstreamUrl']).toBe('npx perch config set claude.upstreamUrl <value>');
    expect(view.cli['github.webhookSecret']).toBe('npx perch config set github.webhookSecret -');
  });
});

describe('2. the GitHub token cannot be sent elsewhere, and webhooks cannot be forged', () => {
  it.each([
    ['github', 'apiUrl', 'https://attacker.example'],
    ['github', 'webhookSecret', 'a-secret-the-attacker-knows'],
    ['slack', 'signingSecret', 'a-secret-the-attacker-knows'],
  ])("refuses a client that changes '%s.%s'", async (group, name, value) => {
    const res = await patchSettings({ [group]: { [name]: value } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.message).toContain(`npx perch config set ${group}.${name}`);
    expect(perch.service.core.settings.get(`${group}.${name}`)).not.toBe(value);
  });

  it('still lets a client set the GitHub token itself (write-only, like the API key)', async () => {
    expect((await patchSettings({ github: { token: 'ghp_a-new-token-value' } })).status).toBe(200);
    perch.service.core.settings.reset('github.token');
  });
});

describe('spending limits: any client may tighten them, only the desktop app or the CLI may loosen them', () => {
  it('lowers the daily budget for a client, but refuses raising it or turning it off', async () => {
    perch.service.core.settings.set('budget.dailyUsd', 5);
    try {
      expect((await patchSettings({ budget: { dailyUsd: 2 } })).status).toBe(200);
      const raised = await patchSettings({ budget: { dailyUsd: 50 } });
      expect(raised.status).toBe(403);
      expect(((await raised.json()) as ErrorBody).error.message).toContain('npx perch config set budget.dailyUsd <value>');
      expect((await patchSettings({ budget: { dailyUsd: 0 } })).status).toBe(403);
      expect(perch.service.core.settings.get('budget.dailyUsd')).toBe(2);
      expect((await patchSettings({ budget: { dailyUsd: 0 } }, true)).status).toBe(200);
    } finally {
      perch.service.core.settings.reset('budget.dailyUsd');
    }
  });

  it('lets a client set a budget where there was none, and refuses switching the rate limit off', async () => {
    try {
      expect((await patchSettings({ budget: { dailyUsd: 1 } })).status).toBe(200);
      expect((await patchSettings({ rateLimit: { requestsPerMinute: 0 } })).status).toBe(403);
      expect((await patchSettings({ rateLimit: { requestsPerMinute: 500 } })).status).toBe(403);
      expect((await patchSettings({ claude: { maxConcurrentRequests: 200 } })).status).toBe(403);
      expect((await patchSettings({ rateLimit: { requestsPerMinute: 30 } })).status).toBe(200);
    } finally {
      for (const key of ['budget.dailyUsd', 'rateLimit.requestsPerMinute']) perch.service.core.settings.reset(key);
    }
  });

  it('lets a client lower the scheduled runs asking Claude at once, but refuses raising them', async () => {
    perch.service.core.settings.set('jobs.maxConcurrentRuns', 4);
    try {
      expect((await patchSettings({ jobs: { maxConcurrentRuns: 3 } })).status).toBe(200);
      const raised = await patchSettings({ jobs: { maxConcurrentRuns: 16 } });
      expect(raised.status).toBe(403);
      const { error } = (await raised.json()) as ErrorBody;
      expect(error.type).toBe('forbidden_setting');
      expect(error.message).toContain('npx perch config set jobs.maxConcurrentRuns <value>');
      expect(perch.service.core.settings.get('jobs.maxConcurrentRuns')).toBe(3);
      const view = (await (await perch.request('/api/v1/settings')).json()) as { cli: Record<string, string> };
      expect(view.cli['jobs.maxConcurrentRuns']).toBe('npx perch config set jobs.maxConcurrentRuns <value>');
      expect((await patchSettings({ jobs: { maxConcurrentRuns: 16 } }, true)).status).toBe(200);
    } finally {
      perch.service.core.settings.reset('jobs.maxConcurrentRuns');
    }
  });
});

describe('workspaces: where tasks may run commands', () => {
  it('are listed for any client, but added and removed only by the desktop app or the CLI', async () => {
    const folder = temporaryDataDir();
    const added = await perch.request('/api/v1/workspaces', { json: { path: folder } });
    expect(added.status).toBe(403);
    expect(((await added.json()) as ErrorBody).error.message).toContain('npx perch workspace add');
    const mine = await perch.request('/api/v1/workspaces', {
      json: { path: folder, name: 'desk' },
      headers: { 'x-perch-desktop': DESKTOP_SECRET },
    });
    expect(mine.status).toBe(201);
    const { id } = (await mine.json()) as { id: string };
    const list = (await (await perch.request('/api/v1/workspaces')).json()) as { workspaces: Array<{ id: string }> };
    expect(list.workspaces.map((workspace) => workspace.id)).toContain(id);
    expect((await perch.request(`/api/v1/workspaces/${id}`, { method: 'DELETE' })).status).toBe(403);
    expect(
      (await perch.request(`/api/v1/workspaces/${id}`, { method: 'DELETE', headers: { 'x-perch-desktop': DESKTOP_SECRET } }))
        .status,
    ).toBe(204);
  });

  it('never include Perch’s own data folder, even from the desktop app', async () => {
    const res = await perch.request('/api/v1/workspaces', {
      json: { path: path.dirname(perch.dataDir) },
      headers: { 'x-perch-desktop': DESKTOP_SECRET },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toContain("Perch's own data folder");
  });
});

describe('3. a job cannot write outside Perch’s outputs folder', () => {
  const createJob = (output: Record<string, unknown>, asDesktop = false) =>
    perch.request('/api/v1/jobs', {
      json: { name: 'Out', prompt: 'p', interval_seconds: 3600, output },
      headers: asDesktop ? { 'x-perch-desktop': DESKTOP_SECRET } : {},
    });
  const runAndSettle = async (id: string) => {
    expect((await perch.request(`/api/v1/jobs/${id}/run`, { method: 'POST' })).status).toBe(202);
    await perch.service.core.jobs.settled(id);
    const { runs } = (await (await perch.request(`/api/v1/jobs/${id}/runs`)).json()) as {
      runs: Array<{ delivery: Record<string, string> }>;
    };
    return runs[0]?.delivery;
  };

  it('refuses a client whose job would append to ~/.bashrc', async () => {
    const res = await createJob({ file: path.join(perch.dataDir, '..', '.bashrc') });
    expect(res.status).toBe(403);
    const { error } = (await res.json()) as ErrorBody;
    expect(error.type).toBe('forbidden_output');
    expect(error.message).toContain('desktop app');
  });

  it('writes a name given by a client into the outputs folder, which GET /api/v1/jobs names', async () => {
    const res = await createJob({ file: 'reports/morning.md' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    perch.upstream.enqueue({ kind: 'answer', text: 'Three things to do.' });
    expect(await runAndSettle(id)).toEqual({ file: 'appended' });
    const { outputs_dir } = (await (await perch.request('/api/v1/jobs')).json()) as { outputs_dir: string };
    expect(outputs_dir).toBe(path.join(perch.dataDir, 'outputs'));
    expect(readFileSync(path.join(outputs_dir, 'reports', 'morning.md'), 'utf8')).toContain('Three things to do.');
  });

  it('refuses a name that climbs out of the folder', async () => {
    const res = await createJob({ file: '../config.json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toContain("'output.file'");
  });

  it('does not follow a link inside the outputs folder that leads out', async () => {
    const outside = temporaryDataDir();
    mkdirSync(path.join(perch.dataDir, 'outputs'), { recursive: true });
    symlinkSync(outside, path.join(perch.dataDir, 'outputs', 'escape'));
    symlinkSync(path.join(outside, 'target.md'), path.join(perch.dataDir, 'outputs', 'linked.md'));
    for (const file of ['escape/x.md', 'linked.md']) {
      const { id } = (await (await createJob({ file })).json()) as { id: string };
      perch.upstream.enqueue({ kind: 'answer', text: 'must not land outside' });
      expect((await runAndSettle(id))?.file).toMatch(/^(refused|failed)/);
    }
    expect(existsSync(path.join(outside, 'x.md'))).toBe(false);
    expect(existsSync(path.join(outside, 'target.md'))).toBe(false);
  });

  it('refuses to deliver, at run time, a file output outside the folder that the desktop app never approved', async () => {
    const target = path.join(temporaryDataDir(), 'planted.sh');
    // A job planted before this rule existed (or written straight into the database).
    const { id } = (await (await createJob({ file: 'placeholder.md' })).json()) as { id: string };
    perch.service.core.db.prepare('UPDATE jobs SET output = ? WHERE id = ?').run(JSON.stringify({ file: target }), id);
    perch.upstream.enqueue({ kind: 'answer', text: 'echo pwned' });
    expect((await runAndSettle(id))?.file).toMatch(/^refused: .*outside Perch's outputs folder/);
    expect(existsSync(target)).toBe(false);
  });

  it('lets the desktop app choose any file, and keeps that choice when a client changes only the prompt', async () => {
    const target = path.join(temporaryDataDir(), 'notes.md');
    const res = await createJob({ file: target }, true);
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string; output: Record<string, unknown> };
    const edited = await perch.request(`/api/v1/jobs/${id}`, {
      method: 'PATCH',
      json: { prompt: 'changed', output: { file: target } },
    });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as { output: Record<string, unknown> }).output).toEqual({ file: target });
    perch.upstream.enqueue({ kind: 'answer', text: 'Into my notes.' });
    expect(await runAndSettle(id)).toEqual({ file: 'appended' });
    expect(readFileSync(target, 'utf8')).toContain('Into my notes.');
  });
});

describe('4. the token never goes to a program squatting Perch’s port', () => {
  it('perch ask and perch status refuse a squatter and say Perch is not running', async () => {
    const squatter = await startSquatter();
    const dataDir = temporaryDataDir();
    try {
      writeFileSync(path.join(dataDir, 'token'), 'perch_the-real-token-of-this-person\n');
      // What a crashed Perch leaves behind, its pid now reused by a live process (this one).
      writeFileSync(
        path.join(dataDir, 'service.json'),
        JSON.stringify({
          pid: process.pid,
          url: squatter.url,
          host: '127.0.0.1',
          port: squatter.listeningPort,
          version: '0',
          started_at: '',
        }),
      );
      for (const args of [['ask', 'hello'], ['status']]) {
        const result = await runPerch(args, { env: cliEnv({ PERCH_DATA_DIR: dataDir }) });
        expect(result.code).not.toBe(0);
        expect(`${result.stdout}${result.stderr}`).toContain('Perch is not running');
      }
      expect(squatter.seen.length).toBeGreaterThan(0);
      expect(JSON.stringify(squatter.seen)).not.toContain('the-real-token');
    } finally {
      await squatter.stop();
    }
  });

  it('a squatter relaying the challenge to the real Perch gets a proof for Perch’s own port, which the client refuses', async () => {
    const relay = await startRecordingServer((req, res) => {
      void fetch(`${perch.url}${req.url}`).then(async (answer) => {
        res.setHeader('content-type', 'application/json');
        res.end(await answer.text());
      });
    });
    try {
      const client = new ServiceClient(relay.url, perch.token);
      await expect(client.get('/api/v1/status')).rejects.toThrow(/could not prove it holds your Perch token/);
      expect(relay.seen.every((request) => !request.headers.authorization)).toBe(true);
    } finally {
      await relay.stop();
    }
  });

  it('does not try a port at all when no running Perch is recorded', async () => {
    const dataDir = temporaryDataDir();
    const result = await runPerch(['ask', 'hello'], { env: cliEnv({ PERCH_DATA_DIR: dataDir }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Perch is not running (no running service is recorded in ${dataDir})`);
  });

  it('proves itself to a client that holds the same token', async () => {
    const client = new ServiceClient(perch.url, perch.token);
    await expect(client.verify()).resolves.toBeUndefined();
    const res = await fetch(`${perch.url}/api/v1/auth/proof?nonce=short`);
    expect(res.status).toBe(400);
  });
});

describe('5. a job cannot probe this machine or its network', () => {
  const createJob = (url: string, asDesktop = false) =>
    perch.request('/api/v1/jobs', {
      json: { name: 'Post', prompt: 'p', interval_seconds: 3600, output: { url } },
      headers: asDesktop ? { 'x-perch-desktop': DESKTOP_SECRET } : {},
    });

  it.each([
    'http://127.0.0.1:9/hook',
    'http://localhost:9/hook',
    'http://10.1.2.3/hook',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:9/',
    'http://[::ffff:127.0.0.1]:9/',
    'http://[fd00::1]/',
    'http://0.0.0.0:9/',
  ])('refuses a client whose job would post to %s', async (url) => {
    const res = await createJob(url);
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.type).toBe('forbidden_output');
  });

  it('refuses, when delivering, a public-looking name that resolves to this machine', async () => {
    const receiver = await startRecordingServer();
    try {
      const channels = systemOutputChannels(() => false, {
        resolve: (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
      });
      await expect(
        channels.fetch(
          `http://hooks.example.test:${receiver.listeningPort}/`,
          { method: 'POST', headers: {}, body: '{}', redirect: 'manual', signal: AbortSignal.timeout(5000) },
          { anyAddress: false },
        ),
      ).rejects.toThrow();
      expect(receiver.seen).toEqual([]);
      const delivery = await deliverOutput(
        { url: `http://hooks.example.test:${receiver.listeningPort}/` },
        { jobName: 'j', text: 't', finishedAt: 0 },
        channels,
        path.join(perch.dataDir, 'outputs'),
      );
      expect(delivery.url).toMatch(/^refused: hooks\.example\.test resolves to 127\.0\.0\.1/);
      expect(receiver.seen).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });

  it('never follows a redirect, even for a URL the desktop app saved', async () => {
    const receiver = await startRecordingServer((_req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    });
    try {
      const res = await createJob(`${receiver.url}/hook`, true);
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      perch.upstream.enqueue({ kind: 'answer', text: 'x' });
      await perch.request(`/api/v1/jobs/${id}/run`, { method: 'POST' });
      await perch.service.core.jobs.settled(id);
      const { runs } = (await (await perch.request(`/api/v1/jobs/${id}/runs`)).json()) as {
        runs: Array<{ delivery: Record<string, string> }>;
      };
      expect(runs[0]?.delivery.url).toBe('refused: HTTP 302 (redirects are not followed)');
      expect(receiver.seen).toHaveLength(1);
    } finally {
      await receiver.stop();
    }
  });
});

describe('6. unsigned webhook posts cannot lock out the real sender', () => {
  it('answers a signed GitHub delivery after 80 unsigned posts from a web page', async () => {
    const secret = 'github-webhook-secret-for-the-lockout-test';
    perch.service.core.settings.set('github.webhookSecret', secret);
    try {
      const unsigned = Array.from({ length: 80 }, () =>
        fetch(`${perch.url}/webhook/github`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } }),
      );
      expect(new Set((await Promise.all(unsigned)).map((res) => res.status))).toEqual(new Set([401]));
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
      const signed = await fetch(`${perch.url}/webhook/github`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': 'delivery-1',
          'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
        },
      });
      expect(signed.status).toBe(200);
    } finally {
      perch.service.core.settings.reset('github.webhookSecret');
    }
  });
});

describe('7. a malformed cookie from another localhost page breaks nothing', () => {
  it('answers requests that carry a valid token, and the sign-in check, despite the cookie', async () => {
    const cookie = 'perch_session=%E0%A4%A; other=1';
    expect((await perch.request('/api/v1/sessions', { headers: { cookie } })).status).toBe(200);
    const state = await fetch(`${perch.url}/api/v1/auth/session`, { headers: { cookie } });
    expect(state.status).toBe(200);
    expect(await state.json()).toEqual({ signed_in: false });
  });
});

describe('8. made-up model names cannot grow the metrics without bound', () => {
  it('labels only models Claude answered to, at most a fixed number, and the rest as "other"', async () => {
    for (let index = 0; index < MAX_MODEL_LABELS + 8; index += 1) {
      perch.upstream.enqueue({ kind: 'answer', text: 'ok' });
      await perch.request('/api/v1/chat', { json: { message: 'hi', model: `claude-made-up-${index}` } });
    }
    perch.upstream.enqueue({ kind: 'http-error', status: 404, type: 'not_found_error', message: 'model: claude-never-was' });
    await perch.request('/api/v1/chat', { json: { message: 'hi', model: 'claude-never-was' } });
    const text = await (await perch.request('/metrics')).text();
    const models = new Set([...text.matchAll(/model="([^"]+)"/g)].map((match) => match[1]));
    expect(models.size).toBeLessThanOrEqual(MAX_MODEL_LABELS + 1);
    expect(models.has('other')).toBe(true);
    expect(models.has('claude-never-was')).toBe(false);
  });
});

describe('9. a deeply nested settings patch', () => {
  it('is a 400 that names the problem, not a 500', async () => {
    const depth = 100_000;
    const body = `{"claude":{"model":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
    const res = await perch.request('/api/v1/settings', {
      method: 'PATCH',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toContain("'claude.model'");
  });
});

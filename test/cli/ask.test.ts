import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, temporaryDataDir, type TestPerch } from '../helpers/perch.js';
import { cliEnv, requireBuild, runPerch } from './run-perch.js';

let perch: TestPerch;
beforeAll(async () => {
  requireBuild();
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

const env = (): NodeJS.ProcessEnv => cliEnv({ PERCH_DATA_DIR: perch.dataDir });
type Block = { type: string; text: string };
const lastQuestion = (): Block[] => {
  const body = perch.upstream.messageRequests.at(-1)?.body as { messages: Array<{ content: Block[] }> };
  return body.messages.at(-1)?.content ?? [];
};

describe('perch ask', () => {
  it('answers piped input (echo hi | perch ask) on stdout', async () => {
    const result = await runPerch(['ask', '--new'], { env: env(), stdin: 'hi\n' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('You said: hi\n');
  });

  it('sends piped input as context with the question (git diff | perch ask "review this")', async () => {
    const diff = 'diff --git a/x.ts b/x.ts\n-const a = 1;\n+const a = 2;\n';
    const result = await runPerch(['ask', '--new', 'review', 'this'], { env: env(), stdin: diff });
    expect(result.code).toBe(0);
    expect(lastQuestion()).toEqual([
      { type: 'text', text: `<context>\n${diff}\n</context>` },
      { type: 'text', text: 'review this' },
    ]);
  });

  it('streams the answer as it arrives', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'A streamed answer in pieces.', chunks: 5, delayMs: 20 });
    const result = await runPerch(['ask', '--new', 'stream it'], { env: env() });
    expect(result.stdout).toBe('A streamed answer in pieces.\n');
  });

  it('continues its conversation, and --new starts another', async () => {
    await runPerch(['ask', '--new', 'first question'], { env: env() });
    await runPerch(['ask', 'follow-up'], { env: env() });
    const continued = perch.upstream.messageRequests.at(-1)?.body as { messages: unknown[] };
    expect(continued.messages).toHaveLength(3);
    await runPerch(['ask', '--new', 'unrelated'], { env: env() });
    const fresh = perch.upstream.messageRequests.at(-1)?.body as { messages: unknown[] };
    expect(fresh.messages).toHaveLength(1);
  });

  it('continues a given --session, with --model and --system', async () => {
    const created = (await (await perch.request('/api/v1/sessions', { json: {} })).json()) as { id: string };
    const result = await runPerch(
      ['ask', '--session', created.id, '--model', 'claude-haiku-5-5', '--system', 'Be brief.', 'hello'],
      {
        env: env(),
      },
    );
    expect(result.code).toBe(0);
    const body = perch.upstream.messageRequests.at(-1)?.body as { model: string; system: string };
    expect(body).toMatchObject({ model: 'claude-haiku-5-5', system: 'Be brief.' });
    const session = (await (await perch.request(`/api/v1/sessions/${created.id}`)).json()) as { message_count: number };
    expect(session.message_count).toBe(2);
  });

  it('prints the whole answer as JSON with --json', async () => {
    const result = await runPerch(['ask', '--new', '--json', 'hello json'], { env: env() });
    expect(JSON.parse(result.stdout)).toMatchObject({
      response: 'You said: hello json',
      session_id: expect.stringMatching(/^ses_/),
    });
  });

  it('exits 1 with the error when Claude fails', async () => {
    perch.upstream.enqueue({ kind: 'http-error', status: 500, type: 'api_error', message: 'upstream broke' });
    const result = await runPerch(['ask', '--new', 'x'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('upstream broke');
  });

  it('exits 1 when there is nothing to ask', async () => {
    const result = await runPerch(['ask'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Nothing to ask');
  });

  it('exits 2 with a clear message when the service is not running', async () => {
    const result = await runPerch(['ask', 'hello'], { env: cliEnv({ PERCH_DATA_DIR: temporaryDataDir(), PERCH_PORT: '9' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Perch is not running');
    expect(result.stderr).toContain('npx perch serve');
  });

  it('finds the service through PERCH_PORT too', async () => {
    const result = await runPerch(['ask', '--new', 'via port'], {
      env: cliEnv({ PERCH_DATA_DIR: perch.dataDir, PERCH_PORT: new URL(perch.url).port }),
    });
    expect(result.stdout).toBe('You said: via port\n');
  });
});

describe('perch review', () => {
  it('reviews files, one streamed review each, headed by file name', async () => {
    const dir = temporaryDataDir();
    const python = path.join(dir, 'average.py');
    const shell = path.join(dir, 'deploy.sh');
    writeFileSync(python, 'def average(xs):\n    return sum(xs) / len(xs)\n');
    writeFileSync(shell, 'rm -rf $TARGET/\n');
    perch.upstream.enqueue({ kind: 'answer', text: 'Empty lists divide by zero.' }, { kind: 'answer', text: 'Quote $TARGET.' });
    const result = await runPerch(['review', python, shell, '--focus', 'bugs'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`## ${python}\n\nEmpty lists divide by zero.\n\n## ${shell}\n\nQuote $TARGET.\n`);
    const [first, second] = perch.upstream.messageRequests.slice(-2).map((request) => {
      const body = request.body as { messages: Array<{ content: Block[] }> };
      return body.messages[0]?.content[0]?.text ?? '';
    });
    expect(first).toContain('Review this python code from average.py. Focus on: bugs.');
    expect(second).toContain('```bash\nrm -rf $TARGET/\n```');
  });

  it('exits 1 for a file that does not exist', async () => {
    const result = await runPerch(['review', '/no/such/file.ts'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Cannot read /no/such/file.ts');
  });
});

describe('perch status', () => {
  it('reports the running service, its model and that Claude answers; exit 0', async () => {
    const result = await runPerch(['status'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`is running at ${perch.url}`);
    expect(result.stdout).toContain('Model:    claude-sonnet-5-5');
    expect(result.stdout).toContain('Claude:   reachable (2 models)');
  });

  it('prints JSON with --json', async () => {
    const result = await runPerch(['status', '--json'], { env: env() });
    expect(JSON.parse(result.stdout)).toMatchObject({ running: true, url: perch.url, upstream: { reachable: true } });
  });

  it('exits non-zero when the service is not running', async () => {
    const result = await runPerch(['status'], { env: cliEnv({ PERCH_DATA_DIR: temporaryDataDir(), PERCH_PORT: '9' }) });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('Perch is not running');
  });
});

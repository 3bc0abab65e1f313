import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSquatter } from '../fixtures/recording-server.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const run = promisify(execFile);
const pluginDir = fileURLToPath(new URL('../../integrations/sublime', import.meta.url));

/** Runs Python with the plugin's client importable (the part that does not need Sublime). */
async function python(script: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run('python3', ['-c', script], {
    cwd: pluginDir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONPATH: pluginDir, ...env },
  });
  return stdout;
}

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

describe('the Sublime Text plugin', () => {
  it('compiles (Python 3) in full, commands included', async () => {
    await run('python3', ['-m', 'py_compile', 'Perch.py', 'perch_client.py'], { cwd: pluginDir });
  });

  it('finds the running service and its token from the data folder', async () => {
    const out = await python('import perch_client; print(perch_client.discover())', { PERCH_DATA_DIR: perch.dataDir });
    expect(out.trim()).toBe(`('${perch.url}', '${perch.token}')`);
  });

  it('streams an answer piece by piece with the token header', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Streamed into Sublime.', chunks: 4 });
    const out = await python(
      [
        'import sys, perch_client',
        'url, token = perch_client.discover()',
        "done = perch_client.stream(url, token, '/api/v1/chat', {'message': 'hi'}, lambda t: print('piece:' + t))",
        "print('done:' + done['response'])",
      ].join('\n'),
      { PERCH_DATA_DIR: perch.dataDir },
    );
    const lines = out.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('piece:')).length).toBeGreaterThan(1);
    expect(lines.at(-1)).toBe('done:Streamed into Sublime.');
  });

  it('reports a refused token and a stopped service as PerchError', async () => {
    const out = await python(
      [
        'import perch_client',
        'for url, token in [(perch_client.discover()[0], "perch_wrong"), ("http://127.0.0.1:9", "t")]:',
        '    try:',
        "        perch_client.stream(url, token, '/api/v1/chat', {'message': 'x'}, print)",
        '    except perch_client.PerchError as error:',
        '        print(error.status, error)',
      ].join('\n'),
      { PERCH_DATA_DIR: perch.dataDir },
    );
    const [refused, down] = out.trim().split('\n');
    expect(refused).toMatch(/^401 The service at .* could not prove it holds your Perch token/);
    expect(down).toMatch(/^0 Perch is not running at http:\/\/127.0.0.1:9/);
  });

  it('never sends the token to a program squatting the port, and tries no port when Perch is not recorded', async () => {
    const squatter = await startSquatter();
    try {
      const out = await python(
        [
          'import perch_client',
          `for url in ["${squatter.url}", None]:`,
          '    try:',
          "        perch_client.stream(url, 'perch_secret-token-value', '/api/v1/chat', {'message': 'x'}, print)",
          '    except perch_client.PerchError as error:',
          '        print(error.status, error)',
          "print(perch_client.discover(data_dir='/nonexistent/perch'))",
        ].join('\n'),
      );
      const [squatted, unrecorded, discovered] = out.trim().split('\n');
      expect(squatted).toMatch(/^401 .*could not prove it holds your Perch token, so the token was not sent/);
      expect(unrecorded).toBe('0 Perch is not running. Start it with: npx perch serve (or open the Perch app).');
      expect(discovered).toBe('(None, None)');
      expect(JSON.stringify(squatter.seen)).not.toContain('secret-token-value');
    } finally {
      await squatter.stop();
    }
  });
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../cli/run-perch.js';
import { jsonObjectsIn } from '../helpers/json-values.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const guide = readFileSync(new URL('../../docs/integrations.md', import.meta.url), 'utf8');

function block(language: string, after: string): string {
  const start = guide.indexOf(after);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(guide.slice(start));
  if (start === -1 || !match?.[1]) throw new Error(`no ${language} block after "${after}" in docs/integrations.md`);
  return match[1];
}

let perch: TestPerch;
beforeAll(async () => {
  requireBuild();
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, PERCH_DATA_DIR: perch.dataDir });
const here = (code: string): string => code.replaceAll('http://127.0.0.1:8080', perch.url);

describe('docs/integrations.md examples', () => {
  it('the curl calls to both compatible APIs work as written', async () => {
    const { stdout } = await run('bash', ['-e', '-c', here(block('bash', '### curl'))], { cwd: repositoryRoot, env: env() });
    const [anthropic, openai] = jsonObjectsIn(stdout);
    expect(anthropic).toMatchObject({ type: 'message', content: [{ type: 'text', text: 'You said: Hello' }] });
    expect(openai).toMatchObject({ object: 'chat.completion', choices: [{ message: { content: 'You said: Hello' } }] });
  });

  it('the Node program works as written with both official SDKs', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', here(block('js', '### Node'))], {
      cwd: repositoryRoot,
      env: env(),
    });
    expect(stdout).toBe('You said: Hello\nYou said: Hello\n');
  });

  it('the Python example is valid Python', async () => {
    // Its SDKs come from PyPI, which these machines cannot reach: check that it parses.
    await run('python3', ['-c', 'import ast, sys; ast.parse(sys.argv[1])', block('python', '### Python')]);
  });
});

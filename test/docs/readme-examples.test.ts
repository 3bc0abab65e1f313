import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild } from '../cli/run-perch.js';
import { jsonObjectsIn } from '../helpers/json-values.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const execFileAsync = promisify(execFile);
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The runnable examples: every bash block in "The API" section, in order. */
function apiExamples(): string[] {
  const section = readme.slice(readme.indexOf('## The API'), readme.indexOf('## The `perch` command'));
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

let perch: TestPerch;
beforeAll(async () => {
  requireBuild();
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

describe('README API examples', () => {
  it('has examples to check', () => {
    expect(apiExamples().length).toBeGreaterThanOrEqual(8);
  });

  it('all work as written against a running service (only the port differs)', async () => {
    const examples = apiExamples();
    const script = examples
      .map((block, index) => `echo "@@example ${index}"\n${block.replaceAll('http://127.0.0.1:8080', perch.url)}\necho`)
      .join('\n');
    // Asynchronously: the service under test runs in this same process.
    const result = await execFileAsync('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PERCH_DATA_DIR: perch.dataDir },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.stderr).toBe('');
    const outputs = result.stdout.split(/@@example \d+\n/).slice(1);
    expect(outputs).toHaveLength(examples.length);
    outputs.forEach((output, index) => {
      // No answer in the output is an error (Perch's errors are objects with a top-level "error"; a
      // task says `"error": null` while it has none).
      const errors = jsonObjectsIn(output).filter((value) => 'error' in value && value.error !== null);
      expect(errors, `example ${index}:\n${examples[index]}`).toEqual([]);
    });
    // The examples really reached Claude (the fake upstream): chat, stream, two turns, file, review, a task.
    expect(perch.upstream.messageRequests.length).toBeGreaterThanOrEqual(7);
    expect(outputs.join('')).toContain('event: done');
    // The task worked in this repository, through the relay, and finished its turns.
    expect(
      perch.upstream.messageRequests.some((request) => String(request.headers['user-agent']).startsWith('claude-cli/')),
    ).toBe(true);
    expect(outputs.join('')).toContain('"status":"done"');
  });
});

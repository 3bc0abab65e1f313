import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

const run = promisify(execFile);
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

let perch: TestPerch;
beforeAll(async () => {
  perch = await startTestPerch();
});
afterAll(async () => {
  await perch.stop();
});

/** A program that configures nothing itself: the SDKs read their usual environment variables. */
async function program(code: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  return stdout;
}

describe('unchanged SDK programs pointed at Perch by environment', () => {
  const anthropicProgram = `
    import Anthropic from '@anthropic-ai/sdk';
    const message = await new Anthropic().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 50, messages: [{ role: 'user', content: 'env' }] });
    console.log(message.content[0].text);`;

  it('ANTHROPIC_BASE_URL with ANTHROPIC_AUTH_TOKEN=<perch token>', async () => {
    const out = await program(anthropicProgram, { ANTHROPIC_BASE_URL: perch.url, ANTHROPIC_AUTH_TOKEN: perch.token });
    expect(out).toBe('You said: env\n');
  });

  it('ANTHROPIC_BASE_URL with ANTHROPIC_API_KEY=<perch token>', async () => {
    const out = await program(anthropicProgram, { ANTHROPIC_BASE_URL: perch.url, ANTHROPIC_API_KEY: perch.token });
    expect(out).toBe('You said: env\n');
  });

  it('OPENAI_BASE_URL with OPENAI_API_KEY=<perch token>', async () => {
    const out = await program(
      `
      import OpenAI from 'openai';
      const completion = await new OpenAI().chat.completions.create({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'env' }] });
      console.log(completion.choices[0].message.content);`,
      { OPENAI_BASE_URL: `${perch.url}/v1`, OPENAI_API_KEY: perch.token },
    );
    expect(out).toBe('You said: env\n');
  });
});

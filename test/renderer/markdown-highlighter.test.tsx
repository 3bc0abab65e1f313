// @vitest-environment node
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { highlight, isHighlighterRequested, peekHighlighted } from '../../renderer/src/markdown/highlighter';

const highlighterPath = fileURLToPath(new URL('../../renderer/src/markdown/highlighter.ts', import.meta.url));

describe('highlight', () => {
  it('does nothing for plain-text languages, without loading shiki', async () => {
    expect(await highlight('just words', 'text')).toBeUndefined();
    expect(await highlight('just words', undefined)).toBeUndefined();
    expect(isHighlighterRequested()).toBe(false);
  });

  it('returns undefined for a language shiki does not know', async () => {
    expect(await highlight('x', 'definitely-not-a-language')).toBeUndefined();
  });

  it('renders both themes as CSS variables', async () => {
    const html = (await highlight('const a = 1', 'typescript'))!;
    expect(html).toMatch(/^<pre class="shiki shiki-themes github-light github-dark"/);
    expect(html).toContain('--shiki-light:#D73A49;--shiki-dark:#F97583');
  });

  it('accepts language aliases and any case', async () => {
    expect(await highlight('let b = 2', 'TS')).toContain('--shiki-dark:');
    expect(await highlight('echo hi', 'sh')).toContain('--shiki-dark:');
  });

  it('escapes the code', async () => {
    const html = (await highlight('<script>alert("x")</script>', 'js'))!;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#x3C;');
  });

  it('remembers what it highlighted', async () => {
    const html = await highlight('print("cached")', 'python');
    expect(peekHighlighted('print("cached")', 'python')).toBe(html);
    expect(peekHighlighted('print("other")', 'python')).toBeUndefined();
  });

  it('works where code generation from strings is disallowed (CSP without unsafe-eval)', async () => {
    // The app's CSP has no 'unsafe-eval'; Node's flag is the same switch, so eval and new Function throw.
    const script = `
      import { highlight } from ${JSON.stringify(highlighterPath)};
      let blocked = false;
      try { new Function('return 1'); } catch { blocked = true; }
      const html = await highlight('const x: number = 1;', 'ts');
      console.log(JSON.stringify({ blocked, highlighted: html?.includes('--shiki-dark') ?? false }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    expect(JSON.parse(stdout)).toEqual({ blocked: true, highlighted: true });
  });
});

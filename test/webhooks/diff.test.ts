import { describe, expect, it } from 'vitest';
import { describeTrim, trimDiff } from '../../main/core/webhooks/diff.js';

const hunk = (start: number, lines: number): string =>
  [`@@ -${start},0 +${start},${lines} @@`, ...Array.from({ length: lines }, (_, index) => `+line ${start + index}`), ''].join(
    '\n',
  );

const file = (name: string, ...hunks: string[]): string =>
  [`diff --git a/${name} b/${name}`, `--- a/${name}`, `+++ b/${name}`, ''].join('\n') + hunks.join('');

describe('trimDiff', () => {
  it('leaves a diff within the limit untouched', () => {
    const diff = file('a.ts', hunk(1, 3)) + file('b.ts', hunk(1, 3));
    expect(trimDiff(diff, 10_000)).toMatchObject({ text: diff, trimmed: false, totalFiles: 2, keptFiles: 2, omittedFiles: [] });
    expect(describeTrim(trimDiff(diff, 10_000), false)).toBeUndefined();
  });

  it('keeps whole files, then whole hunks of the next, and names the files left out', () => {
    const first = file('a.ts', hunk(1, 10));
    const second = file('b.ts', hunk(1, 10), hunk(100, 200));
    const third = file('c.ts', hunk(1, 10));
    const limit = Buffer.byteLength(first) + Buffer.byteLength(file('b.ts', hunk(1, 10))) + 20;
    const trimmed = trimDiff(first + second + third, limit);
    expect(trimmed.text).toBe(first + file('b.ts', hunk(1, 10)));
    expect(trimmed).toMatchObject({ trimmed: true, totalFiles: 3, keptFiles: 2, partialFile: 'b.ts', omittedFiles: ['c.ts'] });
    const note = describeTrim(trimmed, false);
    expect(note).toContain('covering 2 of 3 file(s)');
    expect(note).toContain('Only the first hunks of b.ts are shown.');
    expect(note).toContain('Left out entirely: c.ts.');
  });

  it('cuts a single enormous hunk at a line break rather than sending nothing', () => {
    const diff = file('big.ts', hunk(1, 5000));
    const trimmed = trimDiff(diff, 1000);
    expect(Buffer.byteLength(trimmed.text)).toBeLessThanOrEqual(1000);
    expect(trimmed.text.startsWith('diff --git a/big.ts b/big.ts\n')).toBe(true);
    expect(trimmed.text.endsWith('\n')).toBe(true);
    expect(trimmed.partialFile).toBe('big.ts');
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToldOnce } from '../../main/desktop/told-once.js';

const dataDir = (): string => mkdtempSync(path.join(tmpdir(), 'perch-told-once-'));

describe('ToldOnce', () => {
  it('says "first time" once per key, across restarts', () => {
    const dir = dataDir();
    expect(new ToldOnce(dir).firstTime('shortcut-unavailable:Alt+Space')).toBe(true);
    const next = new ToldOnce(dir);
    expect(next.firstTime('shortcut-unavailable:Alt+Space')).toBe(false);
    expect(next.firstTime('shortcut-unavailable:Control+K')).toBe(true);
  });

  it('tells again once the problem went away and came back', () => {
    const dir = dataDir();
    const told = new ToldOnce(dir);
    told.firstTime('x');
    told.forget('x');
    expect(new ToldOnce(dir).firstTime('x')).toBe(true);
  });

  it('treats a damaged file as nothing told yet', () => {
    const dir = dataDir();
    writeFileSync(path.join(dir, 'notices.json'), '{not json');
    expect(new ToldOnce(dir).firstTime('x')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'notices.json'), 'utf8'))).toEqual(['x']);
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WindowStateStore } from '../../main/desktop/window-state.js';

let dataDir: string;
const stateFile = (): string => path.join(dataDir, 'window-state.json');

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'perch-window-state-'));
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('WindowStateStore', () => {
  it('knows nothing when there is no file yet', () => {
    expect(new WindowStateStore(dataDir).get('main')).toBeUndefined();
  });

  it('remembers each window by name, across restarts', () => {
    const store = new WindowStateStore(dataDir);
    store.save('main', { bounds: { x: 10, y: 20, width: 1100, height: 760 }, maximized: false });
    store.save('other', { bounds: { x: -1900, y: 0, width: 800, height: 600 }, maximized: true });
    expect(store.get('main')).toEqual({ bounds: { x: 10, y: 20, width: 1100, height: 760 }, maximized: false });

    const reopened = new WindowStateStore(dataDir);
    expect(reopened.get('main')).toEqual({ bounds: { x: 10, y: 20, width: 1100, height: 760 }, maximized: false });
    expect(reopened.get('other')).toEqual({ bounds: { x: -1900, y: 0, width: 800, height: 600 }, maximized: true });
  });

  it('replaces a window’s entry and keeps the others', () => {
    const store = new WindowStateStore(dataDir);
    store.save('main', { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false });
    store.save('other', { bounds: { x: 1, y: 1, width: 300, height: 200 }, maximized: false });
    store.save('main', { bounds: { x: 5, y: 5, width: 900, height: 700 }, maximized: true });
    const reopened = new WindowStateStore(dataDir);
    expect(reopened.get('main')).toEqual({ bounds: { x: 5, y: 5, width: 900, height: 700 }, maximized: true });
    expect(reopened.get('other')).toEqual({ bounds: { x: 1, y: 1, width: 300, height: 200 }, maximized: false });
  });

  it('writes window-state.json readable by its owner only', () => {
    new WindowStateStore(dataDir).save('main', { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false });
    expect(JSON.parse(readFileSync(stateFile(), 'utf8'))).toEqual({
      main: { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false },
    });
    if (process.platform !== 'win32') expect(statSync(stateFile()).mode & 0o777).toBe(0o600);
  });

  it('ignores a damaged file', () => {
    writeFileSync(stateFile(), '{"main": {"bounds": {"x": 1, ');
    expect(new WindowStateStore(dataDir).get('main')).toBeUndefined();
  });

  it('ignores JSON that is not an object of windows', () => {
    for (const content of ['null', '42', '"main"', 'true']) {
      writeFileSync(stateFile(), content);
      expect(new WindowStateStore(dataDir).get('main'), content).toBeUndefined();
    }
  });

  it('drops entries whose bounds are missing or not numbers, and keeps the good ones', () => {
    writeFileSync(
      stateFile(),
      JSON.stringify({
        good: { bounds: { x: 1, y: 2, width: 300, height: 200 }, maximized: true },
        noBounds: { maximized: true },
        nullEntry: null,
        stringEntry: 'main',
        missingHeight: { bounds: { x: 1, y: 2, width: 300 }, maximized: false },
        textWidth: { bounds: { x: 1, y: 2, width: '300', height: 200 }, maximized: false },
        nullX: { bounds: { x: null, y: 2, width: 300, height: 200 }, maximized: false },
        boundsNull: { bounds: null, maximized: false },
      }),
    );
    const store = new WindowStateStore(dataDir);
    expect(store.get('good')).toEqual({ bounds: { x: 1, y: 2, width: 300, height: 200 }, maximized: true });
    for (const name of ['noBounds', 'nullEntry', 'stringEntry', 'missingHeight', 'textWidth', 'nullX', 'boundsNull']) {
      expect(store.get(name), name).toBeUndefined();
    }
  });

  it('reads anything but `maximized: true` as not maximized', () => {
    writeFileSync(stateFile(), JSON.stringify({ main: { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: 'yes' } }));
    expect(new WindowStateStore(dataDir).get('main')?.maximized).toBe(false);
  });

  it('keeps only the bounds’ numbers and the flag from an entry', () => {
    writeFileSync(
      stateFile(),
      JSON.stringify({ main: { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false, extra: 'ignored' } }),
    );
    expect(new WindowStateStore(dataDir).get('main')).toEqual({
      bounds: { x: 0, y: 0, width: 800, height: 600 },
      maximized: false,
    });
  });

  it('does not fail to save when the folder cannot be written (placement is a convenience)', () => {
    const store = new WindowStateStore(path.join(dataDir, 'missing', 'folder'));
    expect(() => store.save('main', { bounds: { x: 0, y: 0, width: 800, height: 600 }, maximized: false })).not.toThrow();
    expect(store.get('main')?.bounds.width).toBe(800);
  });
});

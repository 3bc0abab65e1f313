import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagedExecutable, smokePlan } from './target.js';

/** An electron-builder output folder holding one (empty) executable at `relative`. */
function outputWith(relative: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'perch-smoke-target-'));
  mkdirSync(path.dirname(path.join(dir, relative)), { recursive: true });
  writeFileSync(path.join(dir, relative), '');
  return dir;
}

describe('the smoke test’s target', () => {
  it('finds the packaged app electron-builder --dir made, on each OS and architecture', () => {
    expect(packagedExecutable(outputWith('linux-unpacked/perch'), 'linux')).toMatch(/linux-unpacked[\\/]perch$/);
    expect(packagedExecutable(outputWith('win-unpacked/Perch.exe'), 'win32')).toMatch(/win-unpacked[\\/]Perch\.exe$/);
    expect(packagedExecutable(outputWith('mac-arm64/Perch.app/Contents/MacOS/Perch'), 'darwin')).toMatch(
      /mac-arm64[\\/]Perch\.app[\\/]Contents[\\/]MacOS[\\/]Perch$/,
    );
    expect(packagedExecutable(outputWith('mac/Perch.app/Contents/MacOS/Perch'), 'darwin')).toMatch(/[\\/]mac[\\/]Perch\.app/);
    expect(packagedExecutable(outputWith('linux-unpacked/perch'), 'win32')).toBeUndefined();
    expect(packagedExecutable(path.join(tmpdir(), 'perch-no-such-folder'), 'linux')).toBeUndefined();
  });

  it('starts the packaged app when PERCH_SMOKE_PACKAGED names its folder', () => {
    const dir = outputWith('linux-unpacked/perch');
    expect(smokePlan({ env: { PERCH_SMOKE_PACKAGED: dir, DISPLAY: ':99' }, platform: 'linux' })).toEqual({
      target: { kind: 'packaged', executablePath: path.join(dir, 'linux-unpacked', 'perch'), args: [] },
    });
  });

  it('says why it cannot run: no packaged app where it was pointed, or no display on Linux', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'perch-smoke-target-'));
    expect(smokePlan({ env: { PERCH_SMOKE_PACKAGED: empty, DISPLAY: ':99' }, platform: 'linux' })).toEqual({
      skip: expect.stringContaining('holds no packaged Perch'),
    });
    expect(smokePlan({ env: { PERCH_SMOKE_PACKAGED: outputWith('linux-unpacked/perch') }, platform: 'linux' })).toEqual({
      skip: expect.stringContaining('xvfb-run'),
    });
  });

  it('starts the built app with the installed Electron, once it is built and better-sqlite3 is built for Electron', () => {
    const machine = {
      env: { DISPLAY: ':99' },
      platform: 'linux' as const,
      electron: () => '/opt/electron/electron',
      built: () => true,
      sqliteForNode: () => false,
    };
    expect(smokePlan(machine)).toEqual({
      target: { kind: 'built', executablePath: '/opt/electron/electron', args: [expect.any(String) as unknown] },
    });
    expect(smokePlan({ ...machine, sqliteForNode: () => true })).toEqual({
      skip: expect.stringContaining('npx electron-builder install-app-deps') as unknown,
    });
    expect(smokePlan({ ...machine, built: () => false })).toEqual({ skip: expect.stringContaining('npm run build') as unknown });
    expect(smokePlan({ ...machine, electron: () => undefined })).toEqual({
      skip: expect.stringContaining('npx install-electron') as unknown,
    });
  });
});

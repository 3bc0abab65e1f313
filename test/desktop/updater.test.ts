import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { AppUpdater } from 'electron-updater';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import type { UpdateState } from '../../main/desktop/tray-menu.js';
import { loadAutoUpdater, Updates } from '../../main/desktop/updater.js';

interface CheckResult {
  isUpdateAvailable: boolean;
}

/**
 * electron-updater's AppUpdater as Updates uses it: a check that answers (or fails), and the
 * events it emits while it downloads in the background.
 */
class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  readonly checkForUpdates = vi.fn<() => Promise<CheckResult | null>>(() => Promise.resolve({ isUpdateAvailable: false }));
  readonly quitAndInstall = vi.fn();

  /** The next check finds a newer version: it says so, then starts downloading, as electron-updater does. */
  findsUpdate(): void {
    this.checkForUpdates.mockImplementationOnce(() => {
      this.emit('update-available', { version: '0.2.0' });
      return Promise.resolve({ isUpdateAvailable: true });
    });
  }

  /** The next check fails the way electron-updater fails: an error event, then a rejected promise. */
  failsWith(message: string): void {
    this.checkForUpdates.mockImplementationOnce(() => {
      const error = new Error(message);
      this.emit('error', error);
      return Promise.reject(error);
    });
  }
}

function updates(enabled = true) {
  const updater = new FakeUpdater();
  const states: UpdateState[] = [];
  const notify = vi.fn<(title: string, body: string) => void>();
  const log = vi.fn<(message: string) => void>();
  const onAppImageRenamed = vi.fn<(file: string) => void>();
  const load = vi.fn(() => Promise.resolve(updater as unknown as AppUpdater));
  const subject = new Updates({ enabled, load, onStateChange: (state) => states.push(state), notify, log, onAppImageRenamed });
  return { updates: subject, updater, states, notify, log, load, onAppImageRenamed };
}

const execFileAsync = promisify(execFile);

describe('loadAutoUpdater', () => {
  it('finds the updater in the real electron-updater when Node imports it from ESM, as the built main process does', async () => {
    // In plain Node, with updater.ts compiled: vitest's and tsx's loaders list the getter as a
    // named export, which hides the fault; Node itself does not.
    const compiled = ts.transpileModule(readFileSync(path.join(import.meta.dirname, '../../main/desktop/updater.ts'), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023 },
    });
    const folder = mkdtempSync(path.join(tmpdir(), 'perch-updater-'));
    try {
      const module = path.join(folder, 'updater.mjs');
      writeFileSync(module, compiled.outputText);
      const script = path.join(import.meta.dirname, 'stand-in/load-auto-updater.mjs');
      const { stdout } = await execFileAsync(process.execPath, [script, pathToFileURL(module).href], { encoding: 'utf8' });
      // The named export Perch used to read is missing; the updater is found all the same.
      expect(JSON.parse(stdout)).toEqual({ namedExport: 'undefined', checkForUpdates: 'function', quitAndInstall: 'function' });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('takes a named export when a module has one', async () => {
    const updater = new FakeUpdater() as unknown as AppUpdater;
    await expect(loadAutoUpdater(() => Promise.resolve({ autoUpdater: updater }))).resolves.toBe(updater);
  });

  it('says so when the module has no updater at all', async () => {
    await expect(loadAutoUpdater(() => Promise.resolve({ default: {} }))).rejects.toThrow(/no autoUpdater/);
  });
});

describe('Updates', () => {
  describe('in a build that cannot update itself', () => {
    it('is unavailable, and a check does nothing', async () => {
      const { updates: subject, load, states, notify } = updates(false);
      expect(subject.current).toBe('unavailable');
      await subject.check(true);
      expect(load).not.toHaveBeenCalled();
      expect(states).toEqual([]);
      expect(notify).not.toHaveBeenCalled();
      expect(subject.current).toBe('unavailable');
    });
  });

  describe('in an installed build that cannot update itself (an unsigned macOS build)', () => {
    it('turns off: no checks, nothing in the tray, and a note saying why', async () => {
      const { updates: subject, load, states } = updates();
      subject.turnOff('Updates are off in this copy of Perch.');
      expect(subject.current).toBe('unavailable');
      expect(subject.offNote).toBe('Updates are off in this copy of Perch.');
      expect(states).toEqual(['unavailable']);
      await subject.check(true);
      expect(load).not.toHaveBeenCalled();
    });
  });

  it('starts idle', () => {
    expect(updates().updates.current).toBe('idle');
  });

  it('loads electron-updater on the first check only, set to download in the background and install on quit', async () => {
    const { updates: subject, updater, load } = updates();
    expect(load).not.toHaveBeenCalled();
    await subject.check(false);
    await subject.check(false);
    expect(load).toHaveBeenCalledOnce();
    expect(updater.checkForUpdates).toHaveBeenCalledTimes(2);
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(true);
    expect(updater.listenerCount('update-downloaded')).toBe(1);
  });

  it('shows the check while it runs', async () => {
    const { updates: subject, states } = updates();
    const checking = subject.check(false);
    expect(subject.current).toBe('checking');
    await checking;
    expect(states).toEqual(['checking', 'idle']);
  });

  it('ignores a check while one is running', async () => {
    const { updates: subject, updater } = updates();
    const first = subject.check(false);
    const second = subject.check(true);
    await Promise.all([first, second]);
    expect(updater.checkForUpdates).toHaveBeenCalledOnce();
  });

  it('tells the person who asked that Perch is up to date', async () => {
    const { updates: subject, notify } = updates();
    await subject.check(true);
    expect(notify).toHaveBeenCalledWith('Perch is up to date', 'You have the latest version.');
    expect(subject.current).toBe('idle');
  });

  it('stays quiet when an automatic check finds nothing', async () => {
    const { updates: subject, notify } = updates();
    await subject.check(false);
    expect(notify).not.toHaveBeenCalled();
    expect(subject.current).toBe('idle');
  });

  it('treats a build without update configuration (null answer) as up to date', async () => {
    const { updates: subject, updater, notify } = updates();
    updater.checkForUpdates.mockResolvedValueOnce(null);
    await subject.check(true);
    expect(subject.current).toBe('idle');
    expect(notify).toHaveBeenCalledWith('Perch is up to date', 'You have the latest version.');
  });

  it('downloads a newer version in the background', async () => {
    const { updates: subject, updater, states, notify } = updates();
    updater.findsUpdate();
    await subject.check(true);
    expect(subject.current).toBe('downloading');
    expect(states).toEqual(['checking', 'downloading']);
    expect(notify).not.toHaveBeenCalled();
  });

  it('offers to restart once the update is downloaded, and installs it on request', async () => {
    const { updates: subject, updater, states, notify } = updates();
    updater.findsUpdate();
    await subject.check(false);
    subject.install();
    expect(updater.quitAndInstall).not.toHaveBeenCalled();

    updater.emit('update-downloaded', { version: '0.2.0' });
    expect(subject.current).toBe('downloaded');
    expect(states).toEqual(['checking', 'downloading', 'downloaded']);
    expect(notify).toHaveBeenCalledWith('An update is ready', 'Perch 0.2.0 installs when you choose Restart to Update.');

    subject.install();
    expect(updater.quitAndInstall).toHaveBeenCalledOnce();
  });

  it('does not check again once an update waits to be installed', async () => {
    const { updates: subject, updater } = updates();
    updater.findsUpdate();
    await subject.check(false);
    updater.emit('update-downloaded', { version: '0.2.0' });
    await subject.check(true);
    expect(updater.checkForUpdates).toHaveBeenCalledOnce();
    expect(subject.current).toBe('downloaded');
  });

  it('installs nothing before anything was checked', () => {
    const { updates: subject, load } = updates();
    expect(() => subject.install()).not.toThrow();
    expect(load).not.toHaveBeenCalled();
  });

  it('logs a failed check and returns to idle, telling the person who asked', async () => {
    const { updates: subject, updater, log, notify } = updates();
    updater.failsWith('net::ERR_INTERNET_DISCONNECTED');
    await subject.check(true);
    expect(subject.current).toBe('idle');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('net::ERR_INTERNET_DISCONNECTED'));
    expect(notify).toHaveBeenCalledWith('Could not check for updates', 'net::ERR_INTERNET_DISCONNECTED');
  });

  it('logs a failed automatic check without a notification', async () => {
    const { updates: subject, updater, log, notify } = updates();
    updater.failsWith('HttpError: 404');
    await subject.check(false);
    expect(subject.current).toBe('idle');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('HttpError: 404'));
    expect(notify).not.toHaveBeenCalled();
  });

  it('can check again after a failure', async () => {
    const { updates: subject, updater } = updates();
    updater.failsWith('offline');
    await subject.check(false);
    await subject.check(false);
    expect(updater.checkForUpdates).toHaveBeenCalledTimes(2);
  });

  it('logs and returns to idle when electron-updater cannot be loaded, and tries loading again next time', async () => {
    const { updates: subject, load, log, notify, updater } = updates();
    load.mockRejectedValueOnce(new Error('Cannot find module electron-updater'));
    await subject.check(true);
    expect(subject.current).toBe('idle');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('Cannot find module electron-updater'));
    expect(notify).toHaveBeenCalledWith('Could not check for updates', 'Cannot find module electron-updater');
    await subject.check(false);
    expect(load).toHaveBeenCalledTimes(2);
    expect(updater.checkForUpdates).toHaveBeenCalledOnce();
  });

  it('logs a failed download and returns to idle, quietly', async () => {
    const { updates: subject, updater, log, notify } = updates();
    updater.findsUpdate();
    await subject.check(false);
    updater.emit('error', new Error('sha512 checksum mismatch'));
    expect(subject.current).toBe('idle');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('sha512 checksum mismatch'));
    expect(notify).not.toHaveBeenCalled();
  });

  it('tells the app when an AppImage update renamed the file Perch runs from', async () => {
    const { updates: subject, updater, onAppImageRenamed } = updates();
    await subject.check(false);
    updater.emit('appimage-filename-updated', '/home/jane/Apps/Perch-0.2.0-x64.AppImage');
    expect(onAppImageRenamed).toHaveBeenCalledWith('/home/jane/Apps/Perch-0.2.0-x64.AppImage');
  });

  it('keeps a downloaded update when a later error is reported', async () => {
    const { updates: subject, updater, log } = updates();
    updater.findsUpdate();
    await subject.check(false);
    updater.emit('update-downloaded', { version: '0.2.0' });
    updater.emit('error', new Error('something after the download'));
    expect(subject.current).toBe('downloaded');
    expect(log).toHaveBeenCalledOnce();
    subject.install();
    expect(updater.quitAndInstall).toHaveBeenCalledOnce();
  });
});

// Run by updater.test.ts in plain Node, with no loader hooks (tsx and vitest both hand CommonJS
// packages to ESM with their getters listed as named exports; Node does not): loads
// electron-updater's updater the way the built main process does. The first argument is the URL
// of main/desktop/updater.ts compiled to JavaScript. `require('electron')` inside electron-updater
// gets a stand-in app, since the real module cannot start without its binary.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const { loadAutoUpdater } = await import(process.argv[2]);

const requireHere = createRequire(import.meta.url);
const electronEntry = requireHere.resolve('electron');
const stub = new Module(electronEntry);
stub.filename = electronEntry;
stub.loaded = true;
stub.exports = {
  app: Object.assign(new EventEmitter(), {
    isPackaged: false,
    getVersion: () => '0.1.0',
    getName: () => 'Perch',
    getAppPath: () => process.cwd(),
    getPath: () => tmpdir(),
    whenReady: () => Promise.resolve(),
  }),
  autoUpdater: new EventEmitter(),
};
requireHere.cache[electronEntry] = stub;
// On Linux it looks for `<resources>/package-type` (deb, rpm…); an empty folder means an AppImage.
process.resourcesPath = mkdtempSync(path.join(tmpdir(), 'perch-resources-'));

const named = await import('electron-updater');
const updater = await loadAutoUpdater(() => import('electron-updater'));
process.stdout.write(
  JSON.stringify({
    namedExport: typeof named.autoUpdater,
    checkForUpdates: typeof updater.checkForUpdates,
    quitAndInstall: typeof updater.quitAndInstall,
  }),
);

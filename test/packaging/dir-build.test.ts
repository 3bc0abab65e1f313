/**
 * Packs the built app (out/) with the real electron-builder and electron-builder.yml, as the
 * release workflow does, but as a `--linux dir` build: no installer, no download. A stand-in
 * Electron folder replaces the binary that cannot be downloaded here, and native modules are not
 * rebuilt (that would recompile better-sqlite3 in place, for the wrong ABI, under running tests).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  electronBuilderCli,
  fromRoot,
  installedElectronVersion,
  listAsar,
  repositoryRoot,
  type AsarEntry,
} from './electron-builder.js';

const execFileAsync = promisify(execFile);

/** What `npm run build` writes and the package must carry. */
const BUILT_ENTRIES = ['out/main/desktop.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const TRAY_IMAGES = ['trayTemplate', 'trayBusyTemplate', 'trayAttentionTemplate', 'tray', 'tray-busy', 'tray-attention'].flatMap(
  (name) => [`${name}.png`, `${name}@2x.png`],
);
/** Every download (Electron, packaging tools) is sent here, where it is refused and fails the build. */
const NOWHERE = 'http://127.0.0.1:9/';
const BUILD_TIMEOUT_MS = 150_000;

let work: string;
let resources: string;
let entries: AsarEntry[];
let paths: Set<string>;
let log: string;
let seconds: number;

/**
 * Electron's fuse wire as the binary carries it: a sentinel, the wire version (1), its length,
 * then one byte per fuse ('1' on, '0' off), in @electron/fuses' order: RunAsNode,
 * EnableCookieEncryption, EnableNodeOptionsEnvironmentVariable, EnableNodeCliInspectArguments,
 * EnableEmbeddedAsarIntegrityValidation, OnlyLoadAppFromAsar,
 * LoadBrowserProcessSpecificV8Snapshot, GrantFileProtocolExtraPrivileges.
 */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const fuseWire = (states: string): Buffer =>
  Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, states.length]), Buffer.from(states)]);
/** A stock Electron's fuses. */
const STOCK_FUSES = '10110001';

function standInElectron(dir: string): void {
  mkdirSync(dir, { recursive: true });
  // A shell script that carries a stock fuse wire in a comment, so electron-builder can flip the fuses.
  writeFileSync(
    path.join(dir, 'electron'),
    Buffer.concat([
      Buffer.from('#!/bin/sh\n# '),
      fuseWire(STOCK_FUSES),
      Buffer.from('\necho "stand-in Electron for packaging tests" >&2\nexit 1\n'),
    ]),
  );
  chmodSync(path.join(dir, 'electron'), 0o755);
  writeFileSync(path.join(dir, 'version'), installedElectronVersion);
  writeFileSync(path.join(dir, 'LICENSE'), 'stand-in\n');
  writeFileSync(path.join(dir, 'LICENSES.chromium.html'), '<p>stand-in</p>\n');
}

/**
 * A Linux build packs Linux's agent binary, which npm installs only on Linux; on macOS and Windows
 * the release workflow's packaged smoke test checks the build instead.
 */
const onLinux = process.platform === 'linux';

beforeAll(async () => {
  if (!onLinux) return;
  const missing = BUILT_ENTRIES.filter((file) => !existsSync(fromRoot(file)));
  if (missing.length > 0) {
    throw new Error(`The packaging test packs the built app, but ${missing.join(', ')} is missing: run \`npm run build\` first.`);
  }
  work = mkdtempSync(path.join(tmpdir(), 'perch-packaging-'));
  standInElectron(path.join(work, 'electron'));
  const started = performance.now();
  const result = await execFileAsync(
    process.execPath,
    [
      electronBuilderCli,
      '--linux',
      'dir',
      '--x64',
      '--publish',
      'never',
      `-c.electronDist=${path.join(work, 'electron')}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${path.join(work, 'dist')}`,
      // As the release workflow passes them; without a git remote there is no repository to infer.
      '-c.publish.owner=perch-test',
      '-c.publish.repo=perch',
    ],
    {
      cwd: repositoryRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: tmpdir(),
        CI: 'true',
        ELECTRON_MIRROR: NOWHERE,
        ELECTRON_BUILDER_BINARIES_MIRROR: NOWHERE,
        HTTP_PROXY: NOWHERE,
        HTTPS_PROXY: NOWHERE,
        CSC_IDENTITY_AUTO_DISCOVERY: 'false',
      },
      encoding: 'utf8',
      timeout: BUILD_TIMEOUT_MS - 10_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  seconds = (performance.now() - started) / 1000;
  log = result.stdout + result.stderr;
  resources = path.join(work, 'dist', 'linux-unpacked', 'resources');
  entries = listAsar(path.join(resources, 'app.asar'));
  paths = new Set(entries.map((entry) => entry.path));
  const megabytes = (list: AsarEntry[]): string => (list.reduce((sum, entry) => sum + entry.size, 0) / 1048576).toFixed(1);
  console.info(
    `--linux dir build: ${seconds.toFixed(1)} s; app.asar: ${entries.length} files, ` +
      `${megabytes(entries.filter((entry) => !entry.unpacked))} MB inside, ` +
      `${megabytes(entries.filter((entry) => entry.unpacked))} MB unpacked beside it`,
  );
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const packageJson = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
};

/** Packages npm installed only for development, from the lockfile (`"dev": true`). */
function devOnlyPackages(): string[] {
  const lock = JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([where, info]) => info.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(where))
    .map(([where]) => where.slice('node_modules/'.length));
}

describe.runIf(onLinux)('a --linux dir build of the built app', () => {
  it('packs offline, downloading nothing', () => {
    expect(log).not.toMatch(/download/i);
    expect(existsSync(path.join(work, 'dist', 'linux-unpacked', 'perch'))).toBe(true);
  });

  it('holds the built main, preload and renderer, and package.json pointing at the main entry', () => {
    for (const file of BUILT_ENTRIES) expect(paths, file).toContain(`/${file}`);
    expect(paths).toContain('/package.json');
    expect(packageJson.main).toBe('out/main/desktop.js');
  });

  it('holds every production dependency', () => {
    for (const name of Object.keys(packageJson.dependencies)) {
      expect(paths, name).toContain(`/node_modules/${name}/package.json`);
    }
    expect(paths).toContain('/node_modules/express/package.json');
  });

  it("leaves better-sqlite3's native module outside the archive, where it can be loaded", () => {
    const native = '/node_modules/better-sqlite3/build/Release/better_sqlite3.node';
    expect(entries.find((entry) => entry.path === native)?.unpacked).toBe(true);
    expect(existsSync(path.join(resources, 'app.asar.unpacked', native))).toBe(true);
  });

  it("leaves Claude Code's agent for this platform outside the archive, runnable, and no other platform's", () => {
    const agent = `/node_modules/@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/claude`;
    expect(entries.find((entry) => entry.path === agent)?.unpacked).toBe(true);
    const unpacked = path.join(resources, 'app.asar.unpacked', agent);
    expect(existsSync(unpacked)).toBe(true);
    expect(statSync(unpacked).mode & 0o111).not.toBe(0);
    const agents = [...paths].filter((file) =>
      /^\/node_modules\/@anthropic-ai\/claude-agent-sdk-[^/]+\/package\.json$/.test(file),
    );
    expect(agents).toEqual([`/node_modules/@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/package.json`]);
  });

  it("leaves out better-sqlite3's C sources and compiler leftovers", () => {
    const leftovers = [...paths].filter((file) =>
      /^\/node_modules\/better-sqlite3\/(deps|src|build\/(deps|Release\/(obj|test_extension)))/.test(file),
    );
    expect(leftovers).toEqual([]);
    expect(existsSync(path.join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'deps'))).toBe(false);
  });

  it('ships the tray images in resources/tray', () => {
    for (const image of TRAY_IMAGES) expect(existsSync(path.join(resources, 'tray', image)), image).toBe(true);
  });

  it('tells electron-updater to look in GitHub releases', () => {
    const updateConfig = readFileSync(path.join(resources, 'app-update.yml'), 'utf8');
    expect(updateConfig).toContain('provider: github');
    expect(updateConfig).toContain('owner: perch-test');
  });

  it('flips the Electron fuses that harden a release: no run-as-node, no NODE_OPTIONS or inspector, app only from asar', () => {
    const binary = readFileSync(path.join(work, 'dist', 'linux-unpacked', 'perch'));
    const at = binary.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    const wire = binary.subarray(at + 2, at + 2 + binary[at + 1]!).toString();
    // RunAsNode off, cookie encryption on, NODE_OPTIONS off, --inspect off, asar integrity on,
    // only load the app from asar on, V8 snapshot unchanged, no extra file:// privileges.
    expect(wire).toBe('01001100');
  });

  it('contains no tests, sources, benchmarks, docs or source maps', () => {
    const topLevel = new Set([...paths].map((file) => file.split('/')[1]));
    expect([...topLevel].sort()).toEqual(['node_modules', 'out', 'package.json']);
    expect([...paths].filter((file) => /\.(ts|tsx|mts|cts|map)$/.test(file))).toEqual([]);
  });

  it('contains no development-only packages', () => {
    const devOnly = devOnlyPackages();
    expect(devOnly).toEqual(expect.arrayContaining(['vitest', 'playwright-core', 'electron', 'electron-builder', 'typescript']));
    const packed = devOnly.filter((name) => paths.has(`/node_modules/${name}/package.json`));
    expect(packed).toEqual([]);
  });
});

/**
 * Which real Electron app the smoke test starts, or why it cannot start one on this machine.
 * Nothing here runs Electron, or requires the `electron` package (which downloads its binary).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface SmokeTarget {
  /** `built`: Electron's binary running out/ (as `npm start` does); `packaged`: an electron-builder --dir build. */
  kind: 'built' | 'packaged';
  executablePath: string;
  args: string[];
}

export type SmokePlan = { target: SmokeTarget } | { skip: string };

/** The Electron binary npm installed, if it has been downloaded (`npx install-electron`). */
export function installedElectron(): string | undefined {
  const electronDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  try {
    const executable = path.join(electronDir, 'dist', readFileSync(path.join(electronDir, 'path.txt'), 'utf8').trim());
    return existsSync(executable) ? executable : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether better-sqlite3 is compiled for this Node, as `npm ci` leaves it for the tests, rather
 * than for Electron (`npx electron-builder install-app-deps`), as the built app needs it.
 */
export function sqliteBuiltForNode(): boolean {
  try {
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { close(): void };
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The app's executable in an electron-builder output folder: linux-unpacked/perch,
 * win-unpacked/Perch.exe, mac-arm64/Perch.app/Contents/MacOS/Perch (…-unpacked and mac-… carry
 * the architecture when it is not x64).
 */
export function packagedExecutable(outputDir: string, platform: NodeJS.Platform): string | undefined {
  let folders: string[];
  try {
    folders = readdirSync(outputDir);
  } catch {
    return undefined;
  }
  const candidates = folders.flatMap((folder) => {
    if (platform === 'linux' && /^linux(-[a-z0-9]+)?-unpacked$/.test(folder)) return [path.join(outputDir, folder, 'perch')];
    if (platform === 'win32' && /^win(-[a-z0-9]+)?-unpacked$/.test(folder)) return [path.join(outputDir, folder, 'Perch.exe')];
    if (platform === 'darwin' && /^mac(-[a-z0-9]+)?$/.test(folder)) {
      return [path.join(outputDir, folder, 'Perch.app', 'Contents', 'MacOS', 'Perch')];
    }
    return [];
  });
  return candidates.find((candidate) => existsSync(candidate));
}

export interface SmokeMachine {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** The installed Electron binary, if any. */
  electron: () => string | undefined;
  sqliteForNode: () => boolean;
  /** Whether `npm run build` has made out/. */
  built: () => boolean;
}

const thisMachine: SmokeMachine = {
  env: process.env,
  platform: process.platform,
  electron: installedElectron,
  sqliteForNode: sqliteBuiltForNode,
  built: () => existsSync(path.join(repositoryRoot, 'out/main/desktop.js')),
};

/**
 * What to start: the packaged app when PERCH_SMOKE_PACKAGED names electron-builder's output
 * folder, else the built app. Skipped, with the reason, where that cannot run.
 */
export function smokePlan(machine: Partial<SmokeMachine> = {}): SmokePlan {
  const here = { ...thisMachine, ...machine };
  const plan = chooseTarget(here);
  if ('target' in plan && here.platform === 'linux' && !here.env.DISPLAY && !here.env.WAYLAND_DISPLAY) {
    return { skip: 'there is no display; on Linux run it under Xvfb: `xvfb-run -a npm run test:smoke`' };
  }
  return plan;
}

function chooseTarget({ env, platform, electron, sqliteForNode, built }: SmokeMachine): SmokePlan {
  if (env.PERCH_SMOKE_PACKAGED) {
    const outputDir = path.resolve(repositoryRoot, env.PERCH_SMOKE_PACKAGED);
    const executable = packagedExecutable(outputDir, platform);
    return executable
      ? { target: { kind: 'packaged', executablePath: executable, args: [] } }
      : {
          skip: `PERCH_SMOKE_PACKAGED is set, but ${outputDir} holds no packaged Perch for ${platform} (build one with \`npx electron-builder --dir\`)`,
        };
  }
  const executable = electron();
  if (!executable) {
    return {
      skip: "Electron's binary is not installed (npm downloads it on first use, which this machine cannot do); where it can, run `npx install-electron`, then `npm run test:smoke`",
    };
  }
  if (!built()) {
    return { skip: 'the app is not built: run `npm run build` first' };
  }
  if (sqliteForNode()) {
    return {
      skip: 'better-sqlite3 is built for Node (the other tests need it so); for the app, rebuild it for Electron with `npx electron-builder install-app-deps`, then run `npm run test:smoke`',
    };
  }
  return { target: { kind: 'built', executablePath: executable, args: [repositoryRoot] } };
}

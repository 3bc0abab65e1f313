/**
 * electron-builder's own pieces, reached the way electron-builder itself reaches them: from the
 * devDependency we list, through its declared dependency app-builder-lib, so nothing here depends
 * on how npm happens to hoist node_modules.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration } from 'electron-builder';

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
export const fromRoot = (...segments: string[]): string => path.join(repositoryRoot, ...segments);

const requireFromRoot = createRequire(import.meta.url);
const requireFromElectronBuilder = createRequire(requireFromRoot.resolve('electron-builder/package.json'));
const requireFromAppBuilderLib = createRequire(requireFromElectronBuilder.resolve('app-builder-lib/package.json'));

/** electron-builder's command-line entry (its package.json "bin"). */
export const electronBuilderCli = requireFromRoot.resolve('electron-builder/cli.js');

export const installedElectronVersion = (
  JSON.parse(readFileSync(requireFromRoot.resolve('electron/package.json'), 'utf8')) as { version: string }
).version;

interface ConfigModule {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: null): Promise<Configuration>;
  validateConfiguration(config: Configuration, debugLogger: unknown): Promise<void>;
}
interface BuilderUtil {
  DebugLogger: new (isEnabled: boolean) => unknown;
}
interface JsYaml {
  load(text: string): unknown;
}

const configModule = requireFromAppBuilderLib('app-builder-lib/out/util/config/config') as ConfigModule;
const builderUtil = requireFromAppBuilderLib('builder-util') as BuilderUtil;
const jsYaml = requireFromAppBuilderLib('js-yaml') as JsYaml;

/** electron-builder.yml as electron-builder reads it (including any `extends`). */
export function loadBuilderConfig(): Promise<Configuration> {
  return configModule.getConfig(repositoryRoot, null, null);
}

/** electron-builder's schema check, the one every build runs first; it rejects with the reason. */
export function validateBuilderConfig(config: Configuration): Promise<void> {
  // The validator coerces values in place: give it a copy.
  return configModule.validateConfiguration(structuredClone(config), new builderUtil.DebugLogger(false));
}

/** A YAML file parsed with the parser electron-builder reads its own config with. */
export function readYaml(file: string): unknown {
  return jsYaml.load(readFileSync(file, 'utf8'));
}

export interface AsarEntry {
  path: string;
  size: number;
  unpacked: boolean;
}

interface AsarNode {
  files?: Record<string, AsarNode>;
  size?: number;
  unpacked?: boolean;
}

/**
 * Every file an app.asar holds, from its header: a Chromium pickle holding the header's size,
 * then a pickle holding the JSON tree of files (`{files: {name: {size, offset, unpacked?}}}`).
 */
export function listAsar(archive: string): AsarEntry[] {
  if (!existsSync(archive)) throw new Error(`No asar archive at ${archive}`);
  const data = readFileSync(archive);
  const headerLength = data.readUInt32LE(12);
  const header = JSON.parse(data.toString('utf8', 16, 16 + headerLength)) as AsarNode;
  const entries: AsarEntry[] = [];
  const walk = (node: AsarNode, at: string): void => {
    if (node.files) {
      for (const [name, child] of Object.entries(node.files)) walk(child, `${at}/${name}`);
    } else {
      entries.push({ path: at, size: node.size ?? 0, unpacked: node.unpacked === true });
    }
  };
  walk(header, '');
  return entries;
}

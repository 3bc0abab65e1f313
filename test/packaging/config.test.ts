import { existsSync, readFileSync } from 'node:fs';
import type { Configuration, TargetConfiguration } from 'electron-builder';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_ID } from '../../main/desktop/app-identity.js';
import { fromRoot, loadBuilderConfig, validateBuilderConfig } from './electron-builder.js';

let config: Configuration;
beforeAll(async () => {
  config = await loadBuilderConfig();
});

/** The `files` patterns: electron-builder's loader normalises the list into `[{filter: [...]}]`. */
function filePatterns(files: Configuration['files']): string[] {
  return (Array.isArray(files) ? files : [files]).flatMap((entry) =>
    typeof entry === 'string' ? [entry] : entry == null ? [] : [entry.filter ?? []].flat(),
  );
}

/** `{target, arch}` pairs of a platform's `target` list, flattened to "name/arch" strings. */
function targets(list: unknown): string[] {
  return (list as TargetConfiguration[]).flatMap(({ target, arch }) =>
    (Array.isArray(arch) ? arch : [arch]).map((each) => `${target}/${String(each)}`),
  );
}

describe('electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await expect(validateBuilderConfig(config)).resolves.toBeUndefined();
  });

  it('is checked by a validator that does reject unknown options', async () => {
    await expect(validateBuilderConfig({ ...config, mac: { ...config.mac, dockIcon: 'none' } as never })).rejects.toThrow(
      /configuration\.mac/,
    );
  });

  it('keeps the app identity the data folder and updates depend on', () => {
    expect(config.appId).toBe('app.perch.desktop');
    expect(config.productName).toBe('Perch');
  });

  it('gives the installer the AppUserModelID the app runs with, so Windows shows its notifications', () => {
    expect(config.appId).toBe(APP_ID);
  });

  it('names the app for Wayland: desktopName matches the installed perch.desktop, which electron-builder keeps in step', () => {
    const { desktopName } = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { desktopName?: string };
    expect(desktopName).toBe(`${config.linux?.executableName}.desktop`);
    expect(config.linux?.syncDesktopName).toBe(true);
  });

  it('builds a menu-bar-only macOS app as dmg and zip for Apple silicon and Intel', () => {
    expect(config.mac?.extendInfo).toMatchObject({ LSUIElement: true });
    expect(targets(config.mac?.target).sort()).toEqual(['dmg/arm64', 'dmg/x64', 'zip/arm64', 'zip/x64']);
  });

  it('signs macOS builds with the hardened runtime and the JIT entitlements Electron needs', () => {
    expect(config.mac?.hardenedRuntime).toBe(true);
    expect(config.mac?.notarize).toBe(true);
    const entitlements = readFileSync(fromRoot(config.mac?.entitlements ?? 'missing'), 'utf8');
    expect(entitlements).toContain('<key>com.apple.security.cs.allow-jit</key>');
    expect(entitlements).toContain('<key>com.apple.security.cs.allow-unsigned-executable-memory</key>');
    expect(config.mac?.entitlementsInherit).toBe(config.mac?.entitlements);
  });

  it('builds a per-user NSIS installer for Windows that lets people choose the folder', () => {
    expect(targets(config.win?.target)).toEqual(['nsis/x64']);
    expect(config.nsis).toMatchObject({
      oneClick: false,
      perMachine: false,
      allowToChangeInstallationDirectory: true,
      createDesktopShortcut: true,
      createStartMenuShortcut: true,
    });
  });

  it('builds an AppImage and a deb for Linux, filed under Utility', () => {
    expect(targets(config.linux?.target).sort()).toEqual(['AppImage/x64', 'deb/x64']);
    expect(config.linux?.category).toBe('Utility');
    // Without a maintainer, electron-builder refuses to build the deb (package.json has no author email).
    expect(config.linux?.maintainer).toBeTruthy();
  });

  it('packs the built app into an asar with better-sqlite3 unpacked', () => {
    expect(config.asar).toBe(true);
    expect(filePatterns(config.files)).toEqual(expect.arrayContaining(['out/**', 'package.json']));
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['**/*.node', 'node_modules/better-sqlite3/**']));
  });

  it('ships the tray images as resources', () => {
    expect(config.extraResources).toEqual([{ from: 'assets/tray', to: 'tray', filter: ['*.png'] }]);
  });

  it('publishes to GitHub releases, where electron-updater looks for latest*.yml', () => {
    expect(config.publish).toMatchObject({ provider: 'github' });
  });

  it('points at icons that exist', () => {
    for (const icon of [config.mac?.icon, config.win?.icon, config.linux?.icon]) {
      expect(icon, 'icon path').toBeTypeOf('string');
      expect(existsSync(fromRoot(icon ?? 'missing')), `${String(icon)} exists`).toBe(true);
    }
  });
});

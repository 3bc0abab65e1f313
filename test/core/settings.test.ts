import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../main/core/paths.js';
import { parseSettingText, settingKeys } from '../../main/core/settings/keys.js';
import { defaultSettings } from '../../main/core/settings/schema.js';
import { SettingsStore } from '../../main/core/settings/settings-store.js';
import { temporaryDataDir } from '../helpers/perch.js';

describe('settings schema', () => {
  it('gives every setting a default, so an empty file is valid', () => {
    expect(defaultSettings()).toMatchObject({
      claude: { model: 'claude-sonnet-5-5', maxTokens: 4096, upstreamUrl: 'https://api.anthropic.com' },
      api: { port: 8080, host: '127.0.0.1', maxBodyMb: 32, maxUploadMb: 10, allowedHosts: [], allowedOrigins: [] },
    });
  });

  it('lists every key in dotted form', () => {
    expect(settingKeys()).toEqual(expect.arrayContaining(['claude.model', 'claude.maxTokens', 'api.port', 'api.allowedOrigins']));
    expect(settingKeys()).not.toContain('apiKey');
  });
});

describe('parsing typed text by the schema', () => {
  it('parses numbers for numeric keys', () => {
    expect(parseSettingText('api.port', '8081')).toBe(8081);
    expect(parseSettingText('claude.maxTokens', ' 20 ')).toBe(20);
  });

  it('keeps strings as written for text keys, even when they look like numbers', () => {
    expect(parseSettingText('claude.model', '123')).toBe('123');
  });

  it('takes lists as JSON or comma-separated', () => {
    expect(parseSettingText('api.allowedHosts', '["a.lan","b.lan"]')).toEqual(['a.lan', 'b.lan']);
    expect(parseSettingText('api.allowedHosts', 'a.lan, b.lan')).toEqual(['a.lan', 'b.lan']);
    expect(parseSettingText('api.allowedHosts', '')).toEqual([]);
  });

  it('refuses text that is not a number for a numeric key', () => {
    expect(() => parseSettingText('api.port', 'eighty')).toThrow(/Invalid value "eighty" for 'api.port': expected a number/);
  });

  it('refuses unknown keys, listing the known ones', () => {
    expect(() => parseSettingText('api.nope', '1')).toThrow(/Unknown setting 'api.nope'. Known settings: apiKey, claude.model/);
  });

  it('refuses setting a whole group', () => {
    expect(() => parseSettingText('api', '1')).toThrow(/'api' is a group of settings/);
  });
});

describe('SettingsStore', () => {
  it('writes config.json with owner-only permissions', () => {
    const dir = temporaryDataDir();
    new SettingsStore(dir, { env: {} }).setFromText('api.port', '9000');
    const file = path.join(dir, 'config.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ api: { port: 9000 } });
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('changes nothing when a value is invalid', () => {
    const dir = temporaryDataDir();
    const store = new SettingsStore(dir, { env: {} });
    store.setFromText('api.port', '9000');
    expect(() => store.setFromText('api.port', '70000')).toThrow(/Invalid value 70000 for 'api.port'/);
    expect(() => store.set('claude.upstreamUrl', 'ftp://example.com')).toThrow(/claude.upstreamUrl/);
    expect(store.get('api.port')).toBe(9000);
    expect(store.get('claude.upstreamUrl')).toBe('https://api.anthropic.com');
  });

  it('applies environment overrides over stored values, and says which variable wins', () => {
    const dir = temporaryDataDir();
    const env = { PERCH_PORT: '8181', PERCH_HOST: '0.0.0.0', PERCH_UPSTREAM_URL: 'http://127.0.0.1:5555' };
    const store = new SettingsStore(dir, { env });
    store.setFromText('api.port', '9000');
    expect(store.current().api).toMatchObject({ port: 8181, host: '0.0.0.0' });
    expect(store.current().claude.upstreamUrl).toBe('http://127.0.0.1:5555');
    expect(store.get('api.port')).toBe(9000);
    expect(store.overriddenBy('api.port')).toBe('PERCH_PORT');
    expect(store.overriddenBy('claude.model')).toBeUndefined();
  });

  it('reports a bad environment override clearly', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: { PERCH_PORT: 'abc' } });
    expect(() => store.current()).toThrow(/check PERCH_PORT/);
  });

  it('never reads ANTHROPIC_BASE_URL (a shell pointing Claude Code at Perch must not loop)', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:8080' } });
    expect(store.current().claude.upstreamUrl).toBe('https://api.anthropic.com');
  });

  it('notices a change written by another process', () => {
    const dir = temporaryDataDir();
    const service = new SettingsStore(dir, { env: {} });
    expect(service.current().claude.model).toBe('claude-sonnet-5-5');
    new SettingsStore(dir, { env: {} }).setFromText('claude.model', 'claude-haiku-5-5');
    expect(service.current().claude.model).toBe('claude-haiku-5-5');
  });

  it('moves a corrupt settings file aside and uses defaults', () => {
    const dir = temporaryDataDir();
    writeFileSync(path.join(dir, 'config.json'), '{ not json');
    const warnings: string[] = [];
    const store = new SettingsStore(dir, { env: {}, onWarning: (message) => warnings.push(message) });
    expect(store.current().api.port).toBe(8080);
    expect(warnings.join('\n')).toMatch(/not valid JSON; it was moved to/);
    expect(readdirSync(dir).some((name) => name.startsWith('config.json.corrupt-'))).toBe(true);
  });

  it('keeps valid values and defaults only the invalid ones in a hand-edited file', () => {
    const dir = temporaryDataDir();
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ api: { port: 'oops', maxUploadMb: 5 } }));
    const warnings: string[] = [];
    const store = new SettingsStore(dir, { env: {}, onWarning: (message) => warnings.push(message) });
    expect(store.current().api).toMatchObject({ port: 8080, maxUploadMb: 5 });
    expect(warnings.join('\n')).toContain("'api.port'");
  });

  it('resets a key to its default', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: {} });
    store.setFromText('claude.maxTokens', '100');
    store.reset('claude.maxTokens');
    expect(store.get('claude.maxTokens')).toBe(4096);
  });
});

describe('data directory', () => {
  it("matches Electron's userData folder for productName Perch on each platform", () => {
    expect(defaultDataDir({}, 'linux', '/home/ada')).toBe('/home/ada/.config/Perch');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ada')).toBe('/xdg/Perch');
    expect(defaultDataDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/Perch');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe(
      path.join('C:\\Users\\ada\\AppData\\Roaming', 'Perch'),
    );
  });
});

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/core/settings/settings-store.js';
import { startTestPerch, temporaryDataDir, type TestPerch } from '../helpers/perch.js';

/*
 * PERCH_ALLOWED_HOSTS: the Host names a service in a container accepts, given like its other
 * settings in the environment (compose.yaml) instead of its settings file.
 */

describe('PERCH_ALLOWED_HOSTS overrides api.allowedHosts', () => {
  it('takes a comma-separated list, as `perch config set` does, over the stored names', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: { PERCH_ALLOWED_HOSTS: 'perch.lan, Perch.Example.com' } });
    store.setFromText('api.allowedHosts', 'stored.example');
    expect(store.current().api.allowedHosts).toEqual(['perch.lan', 'Perch.Example.com']);
    // The settings file keeps its own value, and says what overrides it.
    expect(store.get('api.allowedHosts')).toEqual(['stored.example']);
    expect(store.overriddenBy('api.allowedHosts')).toBe('PERCH_ALLOWED_HOSTS');
  });

  it('takes a JSON list too', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: { PERCH_ALLOWED_HOSTS: '["perch.lan","10.0.0.5"]' } });
    expect(store.current().api.allowedHosts).toEqual(['perch.lan', '10.0.0.5']);
  });

  it('is not an override when empty (compose passes unset variables as "")', () => {
    const store = new SettingsStore(temporaryDataDir(), { env: { PERCH_ALLOWED_HOSTS: '' } });
    store.setFromText('api.allowedHosts', 'stored.example');
    expect(store.current().api.allowedHosts).toEqual(['stored.example']);
    expect(store.overriddenBy('api.allowedHosts')).toBeUndefined();
  });

  it('names the variable when a value is not a host name or not a list', () => {
    const badName = new SettingsStore(temporaryDataDir(), { env: { PERCH_ALLOWED_HOSTS: 'perch.lan,https://evil.example/' } });
    expect(() => badName.current()).toThrow(/check PERCH_ALLOWED_HOSTS.*host name/);
    const badJson = new SettingsStore(temporaryDataDir(), { env: { PERCH_ALLOWED_HOSTS: '["perch.lan"' } });
    expect(() => badJson.current()).toThrow(/check PERCH_ALLOWED_HOSTS.*JSON list/);
  });
});

describe('a service started with PERCH_ALLOWED_HOSTS', () => {
  let perch: TestPerch;
  beforeAll(async () => {
    perch = await startTestPerch({ env: { PERCH_ALLOWED_HOSTS: 'perch.lan' } });
  });
  afterAll(async () => {
    await perch.stop();
  });

  const statusWithHost = (host: string): Promise<number> => {
    const url = new URL(`${perch.url}/api/v1/health`);
    return new Promise((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
  };

  it('accepts that name in the Host header, still the loopback names, and refuses others', async () => {
    expect(await statusWithHost('perch.lan:8080')).toBe(200);
    expect(await statusWithHost('localhost:8080')).toBe(200);
    expect(await statusWithHost('evil.example:8080')).toBe(403);
  });

  it('treats pages at that name as its own origin', async () => {
    const port = new URL(perch.url).port;
    const own = await perch.request('/api/v1/sessions', { headers: { origin: `http://perch.lan:${port}` } });
    expect(own.status).toBe(200);
    const foreign = await perch.request('/api/v1/sessions', { headers: { origin: `http://evil.example:${port}` } });
    expect(foreign.status).toBe(403);
  });
});

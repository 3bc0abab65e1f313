import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, requireBuild, runPerch, startServe, stopServe, type ServeProcess } from '../cli/run-perch.js';
import { temporaryDataDir } from '../helpers/perch.js';

/** A self-signed certificate for localhost and 127.0.0.1, made for this run with openssl. */
function makeCertificate(): { cert: string; key: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'perch-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key, dir };
}

/** GET over HTTPS trusting only the test's certificate. */
function getTls(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

let certificate: ReturnType<typeof makeCertificate>;
let serve: ServeProcess;
let dataDir: string;
beforeAll(async () => {
  requireBuild();
  certificate = makeCertificate();
  dataDir = temporaryDataDir();
  serve = await startServe(
    ['--port', '0', '--tls-cert', certificate.cert, '--tls-key', certificate.key],
    cliEnv({ PERCH_DATA_DIR: dataDir }),
  );
}, 30_000);
afterAll(async () => {
  await stopServe(serve);
}, 30_000);

describe('perch serve --tls-cert/--tls-key', () => {
  it('serves the API over HTTPS, with the token as always', async () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(certificate.cert, 'utf8');
    expect((await getTls(`${serve.url}/api/v1/health`, ca)).status).toBe(200);
    expect((await getTls(`${serve.url}/api/v1/sessions`, ca)).status).toBe(401);
    const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
    expect((await getTls(`${serve.url}/api/v1/sessions`, ca, { authorization: `Bearer ${token}` })).status).toBe(200);
    // The service file tells `perch ask` and editors the https address.
    expect(JSON.parse(readFileSync(path.join(dataDir, 'service.json'), 'utf8'))).toMatchObject({ url: serve.url });
  });

  it('speaks no plain HTTP on that port', async () => {
    await expect(fetch(serve.url.replace('https:', 'http:') + '/api/v1/health')).rejects.toThrow();
  });

  it('accepts the older --ssl-cert/--ssl-key names', { timeout: 60_000 }, async () => {
    const other = await startServe(
      ['--port', '0', '--ssl-cert', certificate.cert, '--ssl-key', certificate.key],
      cliEnv({ PERCH_DATA_DIR: temporaryDataDir() }),
    );
    try {
      expect(other.url).toMatch(/^https:/);
    } finally {
      await stopServe(other);
    }
  });

  it(
    'refuses to start with a clear message when a file is missing, unusable, or only one is given',
    { timeout: 60_000 },
    async () => {
      const env = cliEnv({ PERCH_DATA_DIR: temporaryDataDir() });
      const missing = await runPerch(
        ['serve', '--port', '0', '--tls-cert', '/nonexistent/cert.pem', '--tls-key', certificate.key],
        { env },
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("Cannot read the TLS certificate '/nonexistent/cert.pem'");
      const garbage = path.join(certificate.dir, 'garbage.pem');
      writeFileSync(garbage, 'not a certificate\n');
      const unusable = await runPerch(['serve', '--port', '0', '--tls-cert', garbage, '--tls-key', certificate.key], { env });
      expect(unusable.code).toBe(1);
      expect(unusable.stderr).toContain('cannot be used together');
      const half = await runPerch(['serve', '--port', '0', '--tls-cert', certificate.cert], { env });
      expect(half.code).toBe(1);
      expect(half.stderr).toContain('both --tls-cert');
    },
  );

  it('warns loudly when it listens beyond this machine without TLS', { timeout: 60_000 }, async () => {
    const open = await startServe(['--port', '0', '--host', '0.0.0.0'], cliEnv({ PERCH_DATA_DIR: temporaryDataDir() }));
    try {
      await expect.poll(() => open.output()).toContain('WITHOUT TLS');
    } finally {
      await stopServe(open);
    }
  });
});

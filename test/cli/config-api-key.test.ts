import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../main/cli/program.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { temporaryDataDir, TEST_API_KEY } from '../helpers/perch.js';

/**
 * `perch config set apiKey` checks the key with the upstream before saving it, as Settings does
 * (the same core function): run in-process, so it needs no build.
 */

let upstream: FakeAnthropic;
beforeAll(async () => {
  upstream = await startFakeAnthropic({ apiKey: TEST_API_KEY });
});
afterAll(async () => {
  await upstream.stop();
});

async function setKey(
  key: string,
  dataDir: string,
  upstreamUrl = upstream.url,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(['node', 'perch', 'config', 'set', 'apiKey', '-', '--data-dir', dataDir], {
    env: { PERCH_UPSTREAM_URL: upstreamUrl },
    out: { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line), write: (text) => stdout.push(text) },
    readStdin: () => Promise.resolve(`${key}\n`),
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

const storedKey = (dataDir: string): string | undefined => {
  const file = path.join(dataDir, 'api-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
};

describe('perch config set apiKey', () => {
  it('saves a key Anthropic accepts, and says it was checked', async () => {
    const dir = temporaryDataDir();
    const result = await setKey(TEST_API_KEY, dir);
    expect(result).toEqual({
      code: 0,
      stdout: 'apiKey saved and accepted by Anthropic (owner-only file in the data directory; it is never shown again).',
      stderr: '',
    });
    expect(storedKey(dir)).toBe(TEST_API_KEY);
  });

  it('refuses a key Anthropic rejects, exits non-zero, and keeps the key before', async () => {
    const dir = temporaryDataDir();
    await setKey(TEST_API_KEY, dir);
    const result = await setKey('sk-ant-typo-0123456789', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'perch: Anthropic did not accept this key: the key is not valid. Check that you copied the whole key (it starts with sk-ant-).',
    );
    expect(result.stdout + result.stderr).not.toContain('sk-ant-typo-0123456789');
    expect(storedKey(dir)).toBe(TEST_API_KEY);
  });

  it('saves a key it could not check, with a note saying why', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const dir = temporaryDataDir();
    const result = await setKey(TEST_API_KEY, dir, `http://127.0.0.1:${port}`);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('apiKey saved (owner-only file in the data directory; it is never shown again).');
    expect(result.stderr).toBe(
      'note: Saved, but Perch could not reach Anthropic to check it: connection refused (nothing is listening at that address).',
    );
    expect(storedKey(dir)).toBe(TEST_API_KEY);
  });
});

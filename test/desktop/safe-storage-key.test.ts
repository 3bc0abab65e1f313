import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ENCRYPTED_KEY_FILE,
  keychainUsable,
  SafeStorageApiKeySource,
  type KeyChain,
  type SafeStorageKeyOptions,
} from '../../main/desktop/safe-storage-key.js';

const KEY = 'sk-ant-api03-the-real-key-0123456789';
const OTHER_KEY = 'sk-ant-api03-another-key-9876543210';

/** The text backwards (keys are ASCII). */
const mirror = (text: string): string => Array.from(text).reverse().join('');

type Backend = ReturnType<KeyChain['getSelectedStorageBackend']>;

/**
 * The OS keychain as Electron's safeStorage offers it: asynchronous, and its "encryption"
 * visibly changes the text (reversed, behind a marker naming the keychain's key generation),
 * so a plain key on disk would show.
 */
class FakeKeychain implements KeyChain {
  available = true;
  backend: Backend = 'gnome_libsecret';
  /** Decryption fails (the keychain was reset, or is locked). */
  locked = false;
  /** The keychain's key generation: text sealed by an older one should be encrypted again. */
  generation = 1;
  encryptions = 0;

  isAsyncEncryptionAvailable(): Promise<boolean> {
    return Promise.resolve(this.available);
  }
  getSelectedStorageBackend(): Backend {
    return this.backend;
  }
  encryptStringAsync(plainText: string): Promise<Buffer> {
    this.encryptions += 1;
    return Promise.resolve(Buffer.from(`sealed:${this.generation}:${mirror(plainText)}`, 'utf8'));
  }
  decryptStringAsync(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }> {
    const sealed = /^sealed:(\d+):(.*)$/s.exec(encrypted.toString('utf8'));
    if (this.locked || !sealed) return Promise.reject(new Error('Error while decrypting the ciphertext'));
    return Promise.resolve({
      shouldReEncrypt: Number(sealed[1]) < this.generation,
      result: mirror(sealed[2] ?? ''),
    });
  }
}

/** What the encrypted file holds, as the fake keychain sealed it. */
const sealedText = (file: string): string => Buffer.from(readFileSync(file, 'utf8'), 'base64').toString('utf8');

let dataDir: string;
const plainFile = (): string => path.join(dataDir, 'api-key');
const encryptedFile = (): string => path.join(dataDir, ENCRYPTED_KEY_FILE);
const read = (file: string): string | undefined => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'perch-safe-storage-'));
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function open(options: Partial<SafeStorageKeyOptions> & { keychain?: FakeKeychain } = {}) {
  const keychain = options.keychain ?? new FakeKeychain();
  const warnings: string[] = [];
  const opening = SafeStorageApiKeySource.open({
    dataDir,
    platform: 'linux',
    env: {},
    onWarning: (message) => warnings.push(message),
    ...options,
    keychain,
  });
  return { opening, keychain, warnings };
}

describe('SafeStorageApiKeySource', () => {
  it('has no key at first', async () => {
    const source = await open().opening;
    expect(source.get()).toBeUndefined();
    expect(source.origin()).toBeUndefined();
  });

  it('keeps the encrypted key next to the plain file the CLI writes', () => {
    expect(ENCRYPTED_KEY_FILE).toBe('api-key.enc');
  });

  describe('ANTHROPIC_API_KEY', () => {
    it('wins over a stored key', async () => {
      const { opening } = open();
      const stored = await opening;
      stored.set(KEY);
      await stored.flush();

      const source = await open({ env: { ANTHROPIC_API_KEY: ` ${OTHER_KEY} ` } }).opening;
      expect(source.get()).toBe(OTHER_KEY);
      expect(source.origin()).toBe('environment');
    });

    it('wins even over a key set in this run', async () => {
      const source = await open({ env: { ANTHROPIC_API_KEY: OTHER_KEY } }).opening;
      source.set(KEY);
      expect(source.get()).toBe(OTHER_KEY);
      expect(source.origin()).toBe('environment');
    });

    it('does not count when blank', async () => {
      const source = await open({ env: { ANTHROPIC_API_KEY: '  ' } }).opening;
      expect(source.get()).toBeUndefined();
      expect(source.origin()).toBeUndefined();
    });
  });

  describe('saving with a usable keychain', () => {
    it('uses a new key at once, trimmed', async () => {
      const source = await open().opening;
      source.set(`  ${KEY}\n`);
      expect(source.get()).toBe(KEY);
      expect(source.origin()).toBe('stored');
    });

    it('refuses an empty key', async () => {
      const source = await open().opening;
      expect(() => source.set('   ')).toThrow('The API key is empty.');
      expect(source.get()).toBeUndefined();
    });

    it('writes only the encrypted key, owner-only, and removes the plain copy', async () => {
      writeFileSync(plainFile(), 'sk-ant-old-plain-key\n');
      const { opening, warnings } = open();
      const source = await opening;
      source.set(KEY);
      await source.flush();

      expect(read(encryptedFile())).not.toContain(KEY);
      expect(sealedText(encryptedFile())).toMatch(/^sealed:1:/);
      expect(sealedText(encryptedFile())).not.toContain(KEY);
      expect(existsSync(plainFile())).toBe(false);
      if (process.platform !== 'win32') expect(statSync(encryptedFile()).mode & 0o777).toBe(0o600);
      expect(warnings).toEqual([]);
    });

    it('is read back, decrypted, by a source opened later on the same folder', async () => {
      const first = await open().opening;
      first.set(KEY);
      await first.flush();

      const second = await open().opening;
      expect(second.get()).toBe(KEY);
      expect(second.origin()).toBe('stored');
    });

    it('writes changes in order: the last key set is the one on disk', async () => {
      const first = await open().opening;
      first.set(OTHER_KEY);
      first.set(KEY);
      await first.flush();
      expect((await open().opening).get()).toBe(KEY);
    });

    it('accepts the keychain on macOS and Windows, whatever Linux backend is reported', async () => {
      const keychain = new FakeKeychain();
      keychain.backend = 'basic_text';
      const { opening, warnings } = open({ keychain, platform: 'darwin' });
      const source = await opening;
      source.set(KEY);
      await source.flush();
      expect(existsSync(encryptedFile())).toBe(true);
      expect(existsSync(plainFile())).toBe(false);
      expect(warnings).toEqual([]);
    });
  });

  describe('a key the CLI stored (`perch config set apiKey`)', () => {
    it('is used when there is no encrypted key', async () => {
      writeFileSync(plainFile(), `${KEY}\n`);
      const source = await open().opening;
      expect(source.get()).toBe(KEY);
      expect(source.origin()).toBe('stored');
    });

    it('is replaced by the encrypted one when the key is set from the app', async () => {
      writeFileSync(plainFile(), `${OTHER_KEY}\n`);
      const source = await open().opening;
      source.set(KEY);
      await source.flush();
      expect(existsSync(plainFile())).toBe(false);
      expect((await open().opening).get()).toBe(KEY);
    });

    it('wins over an encrypted key when set later, even while the app runs', async () => {
      const source = await open().opening;
      source.set(KEY);
      await source.flush();
      writeFileSync(plainFile(), `${OTHER_KEY}\n`);
      expect(source.get()).toBe(OTHER_KEY);
      expect((await open().opening).get()).toBe(OTHER_KEY);
    });
  });

  describe('without a usable keychain', () => {
    const noEncryption = 'No OS keychain is available';

    it('on Linux with only the basic_text backend, keeps the key in the owner-only plain file and says why', async () => {
      const keychain = new FakeKeychain();
      keychain.backend = 'basic_text';
      const { opening, warnings } = open({ keychain, platform: 'linux' });
      const source = await opening;
      source.set(KEY);
      await source.flush();

      expect(read(plainFile())?.trim()).toBe(KEY);
      if (process.platform !== 'win32') expect(statSync(plainFile()).mode & 0o777).toBe(0o600);
      expect(existsSync(encryptedFile())).toBe(false);
      expect(keychain.encryptions).toBe(0);
      expect(warnings).toEqual([expect.stringContaining(noEncryption)]);
      expect(warnings[0]).toContain('Secret Service');
      expect((await open({ keychain }).opening).get()).toBe(KEY);
    });

    it('when encryption is not available at all, falls back the same way', async () => {
      const keychain = new FakeKeychain();
      keychain.available = false;
      const { opening, warnings } = open({ keychain, platform: 'win32' });
      const source = await opening;
      source.set(KEY);
      await source.flush();
      expect(read(plainFile())?.trim()).toBe(KEY);
      expect(existsSync(encryptedFile())).toBe(false);
      expect(warnings).toEqual([expect.stringContaining(noEncryption)]);
    });

    it('replaces an encrypted key it can no longer renew with the plain file', async () => {
      const first = await open().opening;
      first.set(OTHER_KEY);
      await first.flush();

      const keychain = new FakeKeychain();
      keychain.available = false;
      const source = await open({ keychain }).opening;
      source.set(KEY);
      await source.flush();
      expect(existsSync(encryptedFile())).toBe(false);
      expect(read(plainFile())?.trim()).toBe(KEY);
    });

    it('falls back when the keychain refuses to encrypt, saying what it said', async () => {
      const keychain = new FakeKeychain();
      vi.spyOn(keychain, 'encryptStringAsync').mockRejectedValue(new Error('User canceled the operation'));
      const { opening, warnings } = open({ keychain, platform: 'darwin' });
      const source = await opening;
      source.set(KEY);
      await source.flush();
      expect(read(plainFile())?.trim()).toBe(KEY);
      expect(existsSync(encryptedFile())).toBe(false);
      expect(warnings).toEqual([expect.stringContaining('User canceled the operation')]);
    });
  });

  describe('when the folder cannot be written', () => {
    it('reports a failed save, and a later save still happens', async () => {
      const keychain = new FakeKeychain();
      keychain.available = false;
      const { opening, warnings } = open({ keychain });
      const source = await opening;
      rmSync(dataDir, { recursive: true });
      source.set(OTHER_KEY);
      await expect(source.flush()).resolves.toBeUndefined();
      expect(warnings.at(-1)).toContain('The API key could not be saved');
      expect(warnings.join('\n')).not.toContain(OTHER_KEY);

      mkdirSync(dataDir);
      source.set(KEY);
      await source.flush();
      expect(read(plainFile())?.trim()).toBe(KEY);
    });
  });

  describe('decrypting at start', () => {
    it('warns and reads as no key when the stored key cannot be decrypted', async () => {
      const first = await open().opening;
      first.set(KEY);
      await first.flush();

      const keychain = new FakeKeychain();
      keychain.locked = true;
      const { opening, warnings } = open({ keychain });
      const source = await opening;
      expect(source.get()).toBeUndefined();
      expect(source.origin()).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('cannot be decrypted')]);
      expect(warnings[0]).not.toContain(KEY);
    });

    it('treats a damaged encrypted file the same way', async () => {
      writeFileSync(encryptedFile(), 'bm90IGEgY2lwaGVy\n');
      const { opening, warnings } = open();
      expect((await opening).get()).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('cannot be decrypted')]);
    });

    it('ignores an empty encrypted file', async () => {
      writeFileSync(encryptedFile(), '\n');
      writeFileSync(plainFile(), `${KEY}\n`);
      const { opening, warnings } = open();
      expect((await opening).get()).toBe(KEY);
      expect(warnings).toEqual([]);
    });

    it('encrypts the key again when the keychain asks to (shouldReEncrypt)', async () => {
      const first = await open().opening;
      first.set(KEY);
      await first.flush();
      expect(sealedText(encryptedFile())).toMatch(/^sealed:1:/);

      const keychain = new FakeKeychain();
      keychain.generation = 2;
      const source = await open({ keychain }).opening;
      expect(source.get()).toBe(KEY);
      expect(keychain.encryptions).toBe(1);
      expect(sealedText(encryptedFile())).toMatch(/^sealed:2:/);
      expect(read(encryptedFile())).not.toContain(KEY);
      expect(sealedText(encryptedFile())).not.toContain(KEY);
      expect((await open({ keychain }).opening).get()).toBe(KEY);
    });

    it('does not encrypt again when the keychain does not ask to', async () => {
      const first = await open().opening;
      first.set(KEY);
      await first.flush();

      const keychain = new FakeKeychain();
      await open({ keychain }).opening;
      expect(keychain.encryptions).toBe(0);
    });
  });

  describe('clear', () => {
    it('forgets the key at once and removes both files', async () => {
      writeFileSync(plainFile(), `${OTHER_KEY}\n`);
      const source = await open().opening;
      source.set(KEY);
      await source.flush();
      writeFileSync(plainFile(), `${OTHER_KEY}\n`);

      source.clear();
      await source.flush();
      expect(source.get()).toBeUndefined();
      expect(source.origin()).toBeUndefined();
      expect(existsSync(encryptedFile())).toBe(false);
      expect(existsSync(plainFile())).toBe(false);
      expect((await open().opening).get()).toBeUndefined();
    });

    it('wins over a save still in progress', async () => {
      const source = await open().opening;
      source.set(KEY);
      source.clear();
      await source.flush();
      expect(existsSync(encryptedFile())).toBe(false);
      expect(existsSync(plainFile())).toBe(false);
      expect((await open().opening).get()).toBeUndefined();
    });

    it('is fine with nothing stored', async () => {
      const source = await open().opening;
      source.clear();
      await expect(source.flush()).resolves.toBeUndefined();
    });
  });
});

describe('keychainUsable', () => {
  it('needs encryption to be available', async () => {
    const keychain = new FakeKeychain();
    keychain.available = false;
    expect(await keychainUsable(keychain, 'darwin')).toBe(false);
  });

  it('does not count Linux basic_text (obfuscation, not encryption)', async () => {
    const keychain = new FakeKeychain();
    keychain.backend = 'basic_text';
    expect(await keychainUsable(keychain, 'linux')).toBe(false);
    keychain.backend = 'kwallet6';
    expect(await keychainUsable(keychain, 'linux')).toBe(true);
  });

  it('accepts macOS and Windows whenever encryption is available', async () => {
    const keychain = new FakeKeychain();
    keychain.backend = 'basic_text';
    expect(await keychainUsable(keychain, 'darwin')).toBe(true);
    expect(await keychainUsable(keychain, 'win32')).toBe(true);
  });
});

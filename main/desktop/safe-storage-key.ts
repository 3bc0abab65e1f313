import path from 'node:path';
import type { SafeStorage } from 'electron';
import { ChangingFile } from '../core/files/owner-only-file.js';
import { dataFiles } from '../core/paths.js';
import { FileApiKeySource, type ApiKeySource } from '../core/secrets.js';

/** Where the desktop app keeps the key encrypted by the OS keychain (next to the plain file the CLI writes). */
export const ENCRYPTED_KEY_FILE = `${dataFiles.apiKey}.enc`;

export type KeyChain = Pick<
  SafeStorage,
  'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync' | 'getSelectedStorageBackend'
>;

/** Linux without a keyring gives "basic_text": obfuscation, not encryption, so it does not count. */
export async function keychainUsable(keychain: KeyChain, platform: NodeJS.Platform): Promise<boolean> {
  if (!(await keychain.isAsyncEncryptionAvailable())) return false;
  return platform !== 'linux' || keychain.getSelectedStorageBackend() !== 'basic_text';
}

export interface SafeStorageKeyOptions {
  dataDir: string;
  keychain: KeyChain;
  platform: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
}

/**
 * The desktop app's API key: `ANTHROPIC_API_KEY` when set; otherwise the key encrypted with
 * Electron safeStorage, decrypted only here in the main process (once, at start: the keychain
 * may be slow or prompt); otherwise a key the CLI stored (`perch config set apiKey`). Saving
 * from the app encrypts it and removes the plain copy. With no usable keychain it falls back to
 * the owner-only plain file, and says why.
 */
export class SafeStorageApiKeySource implements ApiKeySource {
  private readonly encrypted: ChangingFile;
  private readonly plain: FileApiKeySource;
  private key: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly options: SafeStorageKeyOptions) {
    this.encrypted = new ChangingFile(path.join(options.dataDir, ENCRYPTED_KEY_FILE));
    // The plain source answers for the environment variable and the CLI's file.
    this.plain = new FileApiKeySource(options.dataDir, options.env ?? process.env);
  }

  static async open(options: SafeStorageKeyOptions): Promise<SafeStorageApiKeySource> {
    const source = new SafeStorageApiKeySource(options);
    await source.load();
    return source;
  }

  get(): string | undefined {
    // A plain key can only be newer than the encrypted one (saving here removes it), so a key
    // set with `perch config set apiKey` while the app runs is used at once.
    return this.plain.get() ?? this.key;
  }

  set(key: string): void {
    const trimmed = key.trim();
    if (!trimmed) throw new Error('The API key is empty.');
    // In use at once; the encrypted copy is written in the background, in order.
    this.key = trimmed;
    this.plain.clear();
    this.enqueue(() => this.persist(trimmed));
  }

  clear(): void {
    this.key = undefined;
    this.enqueue(() => {
      this.encrypted.remove();
      this.plain.clear();
    });
  }

  origin(): 'environment' | 'stored' | undefined {
    if (this.plain.origin() === 'environment') return 'environment';
    return this.key !== undefined || this.plain.origin() === 'stored' ? 'stored' : undefined;
  }

  /** Resolves once every change so far is on disk (quit waits for it). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Runs a change after the ones before it; one that fails is reported and does not stop the next. */
  private enqueue(change: () => Promise<void> | void): void {
    this.writing = this.writing.then(change).catch((error: unknown) => {
      this.options.onWarning?.(`The API key could not be saved: ${(error as Error).message}`);
    });
  }

  private async load(): Promise<void> {
    const cipher = this.encrypted.read()?.trim();
    if (!cipher) return;
    try {
      const { result, shouldReEncrypt } = await this.options.keychain.decryptStringAsync(Buffer.from(cipher, 'base64'));
      this.key = result.trim() || undefined;
      if (shouldReEncrypt && this.key) await this.persist(this.key);
    } catch {
      this.options.onWarning?.(
        'The stored API key cannot be decrypted (the OS keychain changed or is locked). Enter it again in Settings.',
      );
    }
  }

  private async persist(key: string): Promise<void> {
    try {
      if (await keychainUsable(this.options.keychain, this.options.platform)) {
        const cipher = await this.options.keychain.encryptStringAsync(key);
        // A newer change may have come in while the keychain worked.
        if (this.key !== key) return;
        this.encrypted.write(cipher.toString('base64'));
        this.plain.clear();
        return;
      }
      this.options.onWarning?.(
        'No OS keychain is available (on Linux: install and unlock a Secret Service keyring such as GNOME Keyring), so the API key is kept in an owner-only file instead.',
      );
    } catch (error) {
      this.options.onWarning?.(
        `The OS keychain refused the API key (${(error as Error).message}); it is kept in an owner-only file instead.`,
      );
    }
    if (this.key !== key) return;
    this.encrypted.remove();
    this.plain.set(key);
  }
}

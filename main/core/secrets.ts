import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { dataFiles } from './paths.js';
import type { DirectoryChanges } from './files/directory-changes.js';
import { ChangingFile } from './files/owner-only-file.js';

const TOKEN_PREFIX = 'perch_';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison that does not leak the length of the expected value. */
export function secretsMatch(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

/**
 * Proof that a service holds the token, without the token crossing the wire: an HMAC of the
 * client's fresh nonce and the port the service really listens on. A program squatting Perch's
 * port cannot make it; one relaying the challenge to the real Perch on another port gets a proof
 * for that other port, which the client refuses. Clients check it before they send the token.
 */
export function tokenProof(token: string, nonce: string, port: number): string {
  return createHmac('sha256', token).update(`perch-proof:v1:${port}:${nonce}`).digest('base64url');
}

/** A nonce for `tokenProof`: 32 random bytes, base64url. */
export const newProofNonce = (): string => randomBytes(32).toString('base64url');

/** The shape of a nonce the service signs (anything else is refused before any HMAC). */
export const PROOF_NONCE = /^[A-Za-z0-9_-]{22,128}$/;

/**
 * The client API token: what editors, scripts and the CLI present to the local API. It lives
 * in an owner-only file in the data folder; `perch token --regenerate` replaces the file and
 * the running service honours the new token on its next request.
 */
export class TokenStore {
  private readonly file: ChangingFile;
  /** The current token's digest, kept so a request hashes only what it presents. */
  private expected: { token: string; digest: Buffer } | undefined;

  constructor(dataDir: string, changes?: DirectoryChanges) {
    this.file = new ChangingFile(path.join(dataDir, dataFiles.token), changes);
  }

  /** The current token, created on first use. */
  get(): string {
    const stored = this.file.readTrimmed();
    if (stored) return stored;
    return this.regenerate();
  }

  regenerate(): string {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.file.write(`${token}\n`);
    return token;
  }

  verify(candidate: string): boolean {
    if (candidate.length === 0) return false;
    if (this.matches(candidate, this.get())) return true;
    // A token regenerated a moment ago may not have been noticed yet: look once more.
    this.file.reload();
    const current = this.file.readTrimmed();
    return current !== undefined && this.matches(candidate, current);
  }

  /** secretsMatch, with the expected side's digest computed once per token. */
  private matches(candidate: string, token: string): boolean {
    if (this.expected?.token !== token) this.expected = { token, digest: digest(token) };
    return timingSafeEqual(digest(candidate), this.expected.digest);
  }
}

/** Where the Anthropic API key comes from; the desktop app supplies one backed by safeStorage. */
export interface ApiKeySource {
  /** The key, or undefined when none is configured. Never log or return it. */
  get(): string | undefined;
  set(key: string): void;
  clear(): void;
  /** Where the key in use comes from, for status displays ("set from ANTHROPIC_API_KEY"). */
  origin(): 'environment' | 'stored' | undefined;
}

/**
 * The headless home of the Anthropic API key: `ANTHROPIC_API_KEY` when set, otherwise an
 * owner-only file next to the settings (never inside the settings JSON).
 */
export class FileApiKeySource implements ApiKeySource {
  private readonly file: ChangingFile;
  /** Read once: a process's environment does not change under it (and reading it costs a native call). */
  private readonly fromEnv: string | undefined;

  constructor(dataDir: string, env: NodeJS.ProcessEnv = process.env, changes?: DirectoryChanges) {
    this.file = new ChangingFile(path.join(dataDir, dataFiles.apiKey), changes);
    this.fromEnv = env.ANTHROPIC_API_KEY?.trim() || undefined;
  }

  get(): string | undefined {
    return this.fromEnv ?? (this.file.readTrimmed() || undefined);
  }

  set(key: string): void {
    const trimmed = key.trim();
    if (!trimmed) throw new Error('The API key is empty.');
    this.file.write(`${trimmed}\n`);
  }

  clear(): void {
    this.file.remove();
  }

  origin(): 'environment' | 'stored' | undefined {
    if (this.fromEnv) return 'environment';
    return this.file.readTrimmed() ? 'stored' : undefined;
  }
}

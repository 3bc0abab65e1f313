import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileApiKeySource, secretsMatch, TokenStore } from '../../main/core/secrets.js';
import { temporaryDataDir } from '../helpers/perch.js';

describe('TokenStore', () => {
  it('creates a random token on first use in an owner-only file', () => {
    const dir = temporaryDataDir();
    const token = new TokenStore(dir).get();
    expect(token).toMatch(/^perch_[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(path.join(dir, 'token'), 'utf8').trim()).toBe(token);
    if (process.platform !== 'win32') expect(statSync(path.join(dir, 'token')).mode & 0o777).toBe(0o600);
    expect(new TokenStore(dir).get()).toBe(token);
  });

  it('verifies only the current token, and follows a regeneration by another process', () => {
    const dir = temporaryDataDir();
    const service = new TokenStore(dir);
    const old = service.get();
    expect(service.verify(old)).toBe(true);
    const fresh = new TokenStore(dir).regenerate();
    expect(service.verify(old)).toBe(false);
    expect(service.verify(fresh)).toBe(true);
    expect(service.verify('')).toBe(false);
  });

  it('compares secrets without depending on their length', () => {
    expect(secretsMatch('abc', 'abc')).toBe(true);
    expect(secretsMatch('abc', 'abcd')).toBe(false);
  });
});

describe('FileApiKeySource', () => {
  it('prefers ANTHROPIC_API_KEY, then the owner-only key file', () => {
    const dir = temporaryDataDir();
    const stored = new FileApiKeySource(dir, {});
    expect(stored.get()).toBeUndefined();
    stored.set('  sk-ant-stored  ');
    expect(stored.get()).toBe('sk-ant-stored');
    expect(stored.origin()).toBe('stored');
    if (process.platform !== 'win32') expect(statSync(path.join(dir, 'api-key')).mode & 0o777).toBe(0o600);
    const fromEnv = new FileApiKeySource(dir, { ANTHROPIC_API_KEY: 'sk-ant-env' });
    expect(fromEnv.get()).toBe('sk-ant-env');
    expect(fromEnv.origin()).toBe('environment');
    stored.clear();
    expect(stored.get()).toBeUndefined();
  });

  it('never stores the key in the settings file', () => {
    const dir = temporaryDataDir();
    new FileApiKeySource(dir, {}).set('sk-ant-secret');
    expect(() => readFileSync(path.join(dir, 'config.json'), 'utf8')).toThrow();
  });
});

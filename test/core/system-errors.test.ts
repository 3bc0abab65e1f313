import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NonPublicAddressError } from '../../main/core/network-reach.js';
import { describeFailure, describeSystemError } from '../../main/core/system-errors.js';
import { unusedPort } from '../helpers/ports.js';

const failureOf = async (attempt: () => Promise<unknown>): Promise<unknown> => {
  try {
    await attempt();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
};

/** No system code (ECONNREFUSED, UND_ERR_SOCKET), no wrapper's empty words, no Markdown. */
const SYSTEM_TALK = /\bE[A-Z]{3,}\b|UND_ERR|fetch failed|`/;

describe('describing a failed connection in plain words', () => {
  it('says "connection refused" for a port nothing listens on, not fetch failed / ECONNREFUSED', async () => {
    const port = await unusedPort();
    const error = await failureOf(() => fetch(`http://127.0.0.1:${port}/`));
    expect(describeFailure(error)).toEqual({
      kind: 'refused',
      reason: 'connection refused (nothing is listening at that address)',
    });
  });

  it('names the host that could not be found', async () => {
    const error = await failureOf(() => fetch('http://perch-upstream.invalid/'));
    expect(describeSystemError(error)).toMatch(/^the name perch-upstream\.invalid could not (be found|be looked up)/);
  });

  it('says who closed or reset the connection when told who was on the other end', () => {
    const socketError = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const terminated = new TypeError('terminated', { cause: socketError });
    expect(describeSystemError(terminated, { peer: 'Anthropic' })).toBe('Anthropic closed the connection');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(describeFailure(reset, { peer: 'GitHub' })).toEqual({ kind: 'closed', reason: 'GitHub reset the connection' });
    expect(describeSystemError(new TypeError('terminated'))).toBe('the server closed the connection');
  });

  it('looks inside the errors Happy Eyeballs collects', () => {
    const refused = (address: string): Error =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const both = new AggregateError([refused('::1:443'), refused('127.0.0.1:443')]);
    expect(describeSystemError(new TypeError('fetch failed', { cause: both }))).toMatch(/^connection refused/);
  });

  it('says a timed-out request did not answer in time', async () => {
    // A server that takes the request and never answers.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const error = await failureOf(() => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(50) }));
      expect(describeFailure(error, { peer: 'the receiver' })).toEqual({
        kind: 'timeout',
        reason: 'the receiver did not answer in time',
      });
    } finally {
      silent.close();
      silent.unref();
    }
  });

  it('describes a file that cannot be written or read', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'perch-errors-'));
    const error = (() => {
      try {
        readFileSync(path.join(folder, 'missing.md'));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(describeSystemError(error)).toBe('no such file or folder');
    expect(describeSystemError(Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: 'EACCES' }))).toBe(
      'permission denied',
    );
  });

  it("keeps a message that is already plain words, and Perch's own refusals", () => {
    expect(describeSystemError(new Error('HTTP 503'))).toBe('HTTP 503');
    const nonPublic = new NonPublicAddressError('hooks.example', '10.0.0.7');
    expect(describeSystemError(new TypeError('fetch failed', { cause: nonPublic }))).toBe(
      'hooks.example resolves to 10.0.0.7, an address on this machine or its local network',
    );
  });

  it('never passes on a system code it does not know', () => {
    const odd = Object.assign(new Error('UND_ERR_SOMETHING_NEW happened'), { code: 'UND_ERR_SOMETHING_NEW' });
    const reason = describeSystemError(new TypeError('fetch failed', { cause: odd }));
    expect(reason).not.toMatch(SYSTEM_TALK);
    expect(reason).toBe('the connection failed for a reason the system did not give');
  });
});

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findConnection } from '../../integrations/vscode/src/connection.js';
import { PerchRequestError, provePerch, SseReader, streamAnswer } from '../../integrations/vscode/src/perch-client.js';
import { errorExplanation, numberedExcerpt, selectionQuestion } from '../../integrations/vscode/src/prompts.js';
import { startSquatter } from '../fixtures/recording-server.js';
import { startTestPerch, type TestPerch } from '../helpers/perch.js';

// The extension's logic runs here in Node against a real Perch; only the VS Code glue
// (commands, output panel) needs the editor, and it is type-checked against @types/vscode.

const files = (entries: Record<string, string>) => (file: string) => {
  const content = entries[file];
  if (content === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return content;
};

describe('finding the service like the CLI does', () => {
  const dir = '/home/ada/.config/Perch';

  it("uses the running service's record and the token file from the default data folder", () => {
    const read = files({
      [path.join(dir, 'token')]: 'perch_abc\n',
      [path.join(dir, 'service.json')]: '{"port": 9123, "pid": 1}',
    });
    expect(findConnection({}, {}, read, 'linux', '/home/ada', () => true)).toEqual({
      baseUrl: 'http://127.0.0.1:9123',
      token: 'perch_abc',
    });
  });

  it('guesses no port when no running Perch is recorded, or its process is gone', () => {
    const withConfig = files({
      [path.join(dir, 'config.json')]: '{"api": {"port": 8181}}',
      [path.join(dir, 'service.json')]: '{"port": 9123, "pid": 424242}',
    });
    expect(findConnection({}, {}, withConfig, 'linux', '/home/ada', () => false).baseUrl).toBeUndefined();
    expect(findConnection({}, {}, files({}), 'linux', '/home/ada')).toEqual({ baseUrl: undefined, token: undefined });
  });

  it('honours PERCH_PORT, PERCH_DATA_DIR and explicit settings', () => {
    const read = files({ '/data/token': 'perch_env' });
    expect(findConnection({}, { PERCH_DATA_DIR: '/data', PERCH_PORT: '7000' }, read, 'linux', '/home/ada')).toEqual({
      baseUrl: 'http://127.0.0.1:7000',
      token: 'perch_env',
    });
    expect(findConnection({ serviceUrl: 'http://127.0.0.1:5000/', dataDir: '/data' }, {}, read, 'linux', '/h').baseUrl).toBe(
      'http://127.0.0.1:5000',
    );
  });
});

describe('reading Server-Sent Events', () => {
  it('reassembles events split across chunks', () => {
    const reader = new SseReader();
    expect(reader.push('event: delta\ndata: {"te')).toEqual([]);
    expect(reader.push('xt":"hi"}\n\nevent: done\ndata: {}\n\n')).toEqual([
      { event: 'delta', data: '{"text":"hi"}' },
      { event: 'done', data: '{}' },
    ]);
  });
});

describe('what the commands ask', () => {
  it('sends the selection as context with the question', () => {
    expect(selectionQuestion('Why?', { fileName: 'src/a.ts', languageId: 'typescript', text: 'let x = 1' })).toEqual({
      message: 'Why?',
      context: 'From src/a.ts (typescript):\n\nlet x = 1',
    });
  });

  it('explains an error with numbered lines around it', () => {
    const excerpt = numberedExcerpt(['a', 'b', 'c', 'd'], -5, 1);
    expect(excerpt).toBe('1 | a\n2 | b');
    expect(
      errorExplanation({
        fileName: 'a.ts',
        languageId: 'typescript',
        message: 'x is not defined',
        source: 'ts',
        code: 2304,
        line: 2,
        excerpt,
      }),
    ).toEqual({
      message: 'Explain this error and how to fix it:\n\nx is not defined (ts 2304)',
      context: 'a.ts (typescript), around line 2:\n\n1 | a\n2 | b',
    });
  });
});

describe('streaming answers from a real Perch', () => {
  let perch: TestPerch;
  beforeAll(async () => {
    perch = await startTestPerch();
  });
  afterAll(async () => {
    await perch.stop();
  });

  it('streams a review into the callback and resolves with the answer', async () => {
    perch.upstream.enqueue({ kind: 'answer', text: 'Looks fine, but check nulls.', chunks: 4 });
    const pieces: string[] = [];
    const done = await streamAnswer(
      perch.url,
      perch.token,
      '/api/v1/code/review',
      { code: 'x()', language: 'js' },
      {
        onText: (text) => pieces.push(text),
      },
    );
    expect(pieces.join('')).toBe('Looks fine, but check nulls.');
    expect(done).toMatchObject({ review: 'Looks fine, but check nulls.' });
  });

  it('reports a wrong token and a stopped service clearly', async () => {
    await expect(
      streamAnswer(perch.url, 'perch_wrong', '/api/v1/chat', { message: 'x' }, { onText: () => {} }),
    ).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('could not prove it holds your Perch token'),
    });
    const down = streamAnswer('http://127.0.0.1:9', 't', '/api/v1/chat', { message: 'x' }, { onText: () => {} });
    await expect(down).rejects.toBeInstanceOf(PerchRequestError);
    await expect(down).rejects.toThrow(/Perch is not running/);
  });

  it('never sends the token to a program squatting the port', async () => {
    const squatter = await startSquatter();
    try {
      const url = squatter.url;
      await expect(provePerch(url, perch.token)).rejects.toThrow(/could not prove/);
      await expect(streamAnswer(url, perch.token, '/api/v1/chat', { message: 'x' }, { onText: () => {} })).rejects.toThrow();
      expect(squatter.seen.length).toBeGreaterThan(0);
      expect(JSON.stringify(squatter.seen)).not.toContain(perch.token);
    } finally {
      await squatter.stop();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { toClaudeMessages } from '../../main/core/chat/prompt.js';
import { estimateCostUsd } from '../../main/core/claude/pricing.js';
import { classifyFile } from '../../main/core/files/attachments.js';
import { titleFrom, toFtsQuery } from '../../main/core/storage/conversation-store.js';

describe('session titles', () => {
  it('use the first non-empty line, whitespace collapsed', () => {
    expect(titleFrom('\n\n  Fix   the build  \nmore detail')).toBe('Fix the build');
  });

  it('cut long lines at a word and mark the cut', () => {
    const title = titleFrom('Please explain in detail how the garbage collector in the V8 engine decides when to run');
    expect(title.length).toBeLessThanOrEqual(61);
    expect(title.endsWith('…')).toBe(true);
    expect(title).toBe('Please explain in detail how the garbage collector in the…');
  });
});

describe('search queries', () => {
  it('require every word and match the last as a prefix', () => {
    expect(toFtsQuery('borrow chec')).toBe('"borrow" "chec"*');
  });

  it('strip FTS syntax so user text cannot break the query', () => {
    expect(toFtsQuery('"a" OR NEAR(b*')).toBe('"a" "OR" "NEAR" "b"*');
    expect(toFtsQuery('***')).toBeUndefined();
  });
});

describe('building the Messages API conversation', () => {
  const user = (content: string) => ({ role: 'user' as const, content, context: null, attachments: [] });
  const assistant = (content: string) => ({ role: 'assistant' as const, content, context: null, attachments: [] });

  it('merges two questions in a row (the answer between them failed)', () => {
    expect(toClaudeMessages([user('first'), user('second')])).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'first' },
          { type: 'text', text: 'second' },
        ],
      },
    ]);
  });

  it('sends an attachment without a blank text block when the question is empty', () => {
    const image = { name: 'dot.gif', media_type: 'image/gif', data: Buffer.from('GIF89a') };
    const [message] = toClaudeMessages([{ role: 'user', content: '  ', context: null, attachments: [image] }]);
    expect(message?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: Buffer.from('GIF89a').toString('base64') } },
    ]);
  });

  it('drops empty answers', () => {
    expect(toClaudeMessages([user('q1'), assistant(''), user('q2')])).toHaveLength(1);
  });
});

describe('cost estimates', () => {
  it('price input and output per million tokens by model family', () => {
    expect(estimateCostUsd('claude-sonnet-5-5', { input_tokens: 1_000_000, output_tokens: 1_000_000 })).toBe(12);
    expect(estimateCostUsd('claude-sonnet-4-5-20250929', { input_tokens: 1000, output_tokens: 1000 })).toBe(0.018);
  });

  it('count cache writes at 1.25× and cache reads at 0.1× the input price', () => {
    expect(
      estimateCostUsd('claude-opus-4-8', {
        input_tokens: 0,
        output_tokens: 0,
        cache_creation_input_tokens: 1_000_000,
        cache_read_input_tokens: 1_000_000,
      }),
    ).toBe(6.75);
  });

  it('are null for a model Perch has no price for', () => {
    expect(estimateCostUsd('some-other-model', { input_tokens: 10, output_tokens: 10 })).toBeNull();
  });
});

describe('file types', () => {
  it('are decided by content, not by name', () => {
    expect(classifyFile('photo.txt', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]))).toEqual({
      kind: 'image',
      media_type: 'image/jpeg',
    });
    expect(classifyFile('x.bin', Buffer.from('GIF89a....'))).toEqual({ kind: 'image', media_type: 'image/gif' });
    expect(classifyFile('x', Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toEqual({ kind: 'image', media_type: 'image/webp' });
    expect(classifyFile('main.rs', Buffer.from('fn main() { println!("héllo"); }'))).toEqual({
      kind: 'text',
      media_type: 'text/plain',
    });
  });

  it('refuse empty files and binaries that are not images or PDFs', () => {
    expect(() => classifyFile('empty.txt', Buffer.alloc(0))).toThrow(/empty/);
    expect(() => classifyFile('a.out', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1]))).toThrow(/not a supported file type/);
  });
});

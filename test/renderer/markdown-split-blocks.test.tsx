// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { createBlockSplitter, splitBlocks } from '../../renderer/src/markdown';
import { readOpenFence } from '../../renderer/src/markdown/split-blocks';

const fence = '```';

describe('splitBlocks', () => {
  it('separates blocks at blank lines and drops the blank lines', () => {
    expect(splitBlocks('# Title\nIntro line\n\nSecond paragraph\n\n\n- a\n- b\n')).toEqual([
      '# Title\nIntro line',
      'Second paragraph',
      '- a\n- b',
    ]);
  });

  it('treats lines of spaces and tabs as blank', () => {
    expect(splitBlocks('one\n  \t\ntwo')).toEqual(['one', 'two']);
  });

  it('returns no blocks for empty or blank text', () => {
    expect(splitBlocks('')).toEqual([]);
    expect(splitBlocks('\n\n  \n')).toEqual([]);
  });

  it('keeps a fenced code block with blank lines inside in one block', () => {
    const code = `${fence}ts\nconst a = 1;\n\n\nconst b = 2;\n${fence}`;
    expect(splitBlocks(`Before\n\n${code}\n\nAfter`)).toEqual(['Before', code, 'After']);
  });

  it('keeps a fence that interrupts a paragraph in the paragraph’s block', () => {
    const text = `Run this:\n${fence}sh\nnpm test\n\nnpm run build\n${fence}\nThen wait.`;
    expect(splitBlocks(text)).toEqual([text]);
  });

  it('tracks ~~~ fences, which ``` does not close', () => {
    const code = `~~~python\nprint(1)\n\n${fence}\n\nprint(2)\n~~~`;
    expect(splitBlocks(`${code}\n\nnext`)).toEqual([code, 'next']);
  });

  it('closes a longer fence only with a fence at least as long', () => {
    const code = `\`\`\`\`md\n${fence}js\nx\n\n${fence}\n\n\`\`\`\`\``;
    expect(splitBlocks(`${code}\n\nafter`)).toEqual([code, 'after']);
  });

  it('does not close a fence with a line that has text after the fence', () => {
    const code = `${fence}\na\n\n${fence} not a closing fence\n\nb\n${fence}`;
    expect(splitBlocks(code)).toEqual([code]);
  });

  it('accepts opening and closing fences indented up to three spaces', () => {
    const code = `   ${fence}js\nx\n\ny\n  ${fence}  `;
    expect(splitBlocks(`${code}\n\nafter`)).toEqual([code, 'after']);
  });

  it('does not treat a fence indented four spaces as a fence', () => {
    expect(splitBlocks(`    ${fence}\ncode\n\nmore`)).toEqual([`    ${fence}\ncode`, 'more']);
  });

  it('does not treat backticks with backticks in the info string as a fence', () => {
    expect(splitBlocks(`${fence}inline${fence} text\n\nnext`)).toEqual([`${fence}inline${fence} text`, 'next']);
  });

  it('keeps everything after an unterminated fence in the last block', () => {
    const text = `Intro\n\n${fence}py\ndef f():\n\n    return 1\n\n`;
    expect(splitBlocks(text)).toEqual(['Intro', `${fence}py\ndef f():\n\n    return 1\n`]);
  });

  it('handles CRLF line endings', () => {
    expect(splitBlocks(`a\r\n\r\n${fence}\r\nx\r\n\r\ny\r\n${fence}\r\n\r\nb`)).toEqual([
      'a',
      `${fence}\r\nx\r\n\r\ny\r\n${fence}`,
      'b',
    ]);
  });
});

describe('createBlockSplitter', () => {
  it('reports where the unterminated fence of the last block starts', () => {
    const splitter = createBlockSplitter();
    expect(splitter.split(`Intro\n\nSee:\n${fence}js\nlet a`).openFenceAt).toBe('See:\n'.length);
    expect(splitter.split(`Intro\n\nSee:\n${fence}js\nlet a\n${fence}\n`).openFenceAt).toBe(-1);
  });

  it('closes a fence only once the closing line has ended', () => {
    const splitter = createBlockSplitter();
    expect(splitter.split(`${fence}\ncode\n${fence}`).openFenceAt).toBe(0);
    expect(splitter.split(`${fence}\ncode\n${fence}\n`).openFenceAt).toBe(-1);
  });

  it('does not end a block on a trailing line of spaces that may still get text', () => {
    const splitter = createBlockSplitter();
    expect(splitter.split('line\n  ').blocks).toEqual(['line']);
    expect(splitter.split('line\n  more').blocks).toEqual(['line\n  more']);
  });

  it('gives the same blocks as a one-off split at every step of a stream', () => {
    const text = [
      '# Plan',
      '',
      'Some *prose* with `code`.',
      '',
      `${fence}ts`,
      'const a = 1;',
      '',
      '~~~',
      fence,
      '',
      '| a | b |',
      '|---|---|',
      '| 1 | 2 |',
      '',
      '~~~~',
      '```',
      '',
      '~~~~',
      '   ',
      'Done.',
    ].join('\n');
    const splitter = createBlockSplitter();
    for (let end = 0; end <= text.length; end++) {
      const prefix = text.slice(0, end);
      expect(splitter.split(prefix).blocks, JSON.stringify(prefix)).toEqual(splitBlocks(prefix));
    }
  });

  it('returns the very same strings for finished blocks as text is appended', () => {
    const splitter = createBlockSplitter();
    const first = splitter.split('one\n\ntwo').blocks;
    const second = splitter.split('one\n\ntwo\n\nthree').blocks;
    expect(second[0]).toBe(first[0]);
    expect(second).toEqual(['one', 'two', 'three']);
  });

  it('starts over when the text is replaced rather than extended', () => {
    const splitter = createBlockSplitter();
    splitter.split(`${fence}\nopen\n\n`);
    expect(splitter.split('new\n\nanswer').blocks).toEqual(['new', 'answer']);
  });
});

describe('readOpenFence', () => {
  it('reads the language and the code so far, like a Markdown parser', () => {
    expect(readOpenFence(`${fence}ts extra words\nconst a = 1;\n\n`, 0)).toEqual({
      before: '',
      lang: 'ts',
      code: 'const a = 1;\n',
    });
    expect(readOpenFence(`~~~~\n${fence}\nstill code`, 0)).toEqual({ before: '', lang: undefined, code: `${fence}\nstill code` });
  });

  it('keeps the Markdown before the fence apart', () => {
    expect(readOpenFence(`Run:\n${fence}sh\nnpm t`, 5)).toEqual({ before: 'Run:\n', lang: 'sh', code: 'npm t' });
  });

  it('removes the fence’s indentation from the code lines', () => {
    expect(readOpenFence(`  ${fence}py\n    x = 1\n  y = 2\n z = 3`, 0)?.code).toBe('  x = 1\ny = 2\nz = 3');
  });

  it('leaves to the parser what it cannot read exactly', () => {
    // An indented fence after other lines may belong to a list item.
    expect(readOpenFence(`- item\n  ${fence}js\nx`, 7)).toBeUndefined();
    // Escapes and entities in the info string.
    expect(readOpenFence(`${fence}c\\+\\+\nx`, 0)).toBeUndefined();
    expect(readOpenFence(`${fence}&amp;\nx`, 0)).toBeUndefined();
  });
});

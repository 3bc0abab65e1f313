// @vitest-environment jsdom
import { render } from '@testing-library/react';
import { createElement } from 'react';
import type * as ReactMarkdown from 'react-markdown';
import type { Options } from 'react-markdown';
import { beforeEach, expect, it, vi } from 'vitest';
import { StreamingMarkdown } from '../../renderer/src/markdown';

// Every block renders through react-markdown's <Markdown>: recording its input shows which blocks were
// rendered (and parsed) again.
const parsed = vi.hoisted(() => [] as string[]);

vi.mock('react-markdown', async (importOriginal) => {
  const actual = await importOriginal<typeof ReactMarkdown>();
  function RecordingMarkdown(props: Options) {
    parsed.push(props.children ?? '');
    return createElement(actual.default, props);
  }
  return { ...actual, default: RecordingMarkdown };
});

beforeEach(() => {
  parsed.length = 0;
});

function timesParsed(block: string): number {
  return parsed.filter((text) => text === block).length;
}

const fence = '```';

it('does not re-render finished blocks when text is appended', () => {
  const { rerender } = render(<StreamingMarkdown text="First paragraph." streaming />);
  rerender(<StreamingMarkdown text={'First paragraph.\n\n## Second'} streaming />);
  expect(timesParsed('First paragraph.')).toBe(1);

  parsed.length = 0;
  let text = 'First paragraph.\n\n## Second block\n\nThird';
  rerender(<StreamingMarkdown text={text} streaming />);
  for (const token of [' grows', ' token', ' by', ' token.']) {
    text += token;
    rerender(<StreamingMarkdown text={text} streaming />);
  }

  expect(timesParsed('First paragraph.')).toBe(0);
  // The second block changed once, when it got its last word.
  expect(timesParsed('## Second block')).toBe(1);
  // Only the growing block was parsed for each token.
  expect(parsed).toEqual([
    '## Second block',
    'Third',
    'Third grows',
    'Third grows token',
    'Third grows token by',
    'Third grows token by token.',
  ]);
});

it('does not parse an open code block for each token, nor the text before it', () => {
  const before = 'Here is the fix:\n';
  let text = `Intro\n\n${before}${fence}ts\n`;
  const { container, rerender } = render(<StreamingMarkdown text={text} streaming />);
  expect(parsed).toEqual(['Intro', before]);

  parsed.length = 0;
  for (const line of ['const a = 1;\n', '\n', 'const b = 2;\n']) {
    text += line;
    rerender(<StreamingMarkdown text={text} streaming />);
  }
  expect(parsed).toEqual([]);
  expect(container.querySelector('pre code')).toHaveTextContent('const a = 1; const b = 2;');

  // The closing fence arrives: the block is parsed once, as a whole.
  rerender(<StreamingMarkdown text={`${text}${fence}\n`} streaming />);
  expect(parsed).toEqual([`${before}${fence}ts\nconst a = 1;\n\nconst b = 2;\n${fence}`]);
});

it('re-renders only the last block when streaming ends', () => {
  const text = `Intro\n\nSome **bold** text`;
  const { rerender } = render(<StreamingMarkdown text={text} streaming />);
  parsed.length = 0;
  rerender(<StreamingMarkdown text={text} streaming={false} />);
  expect(parsed).toEqual([]);

  const open = `Intro\n\n${fence}js\nlet open = true;`;
  rerender(<StreamingMarkdown text={open} streaming />);
  parsed.length = 0;
  rerender(<StreamingMarkdown text={open} streaming={false} />);
  expect(parsed).toEqual([`${fence}js\nlet open = true;`]);
});

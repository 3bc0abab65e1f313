// @vitest-environment jsdom
import { render, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { StreamingMarkdown } from '../../renderer/src/markdown';

const fence = '```';
// Loading shiki and a grammar takes a moment the first time.
const SLOW = { timeout: 10_000 };

function codeBlocks(container: HTMLElement) {
  return [...container.querySelectorAll('.md-code')];
}

describe('syntax highlighting', () => {
  it('replaces the plain code of a finished block with highlighted markup', async () => {
    const { container } = render(
      <StreamingMarkdown text={`${fence}ts\nconst answer: number = 42;\n${fence}`} streaming={false} />,
    );
    const [block] = codeBlocks(container);
    // Plain text first…
    expect(block!.querySelector('pre:not(.shiki) code')).toHaveTextContent('const answer: number = 42;');
    // …then shiki's markup, with both themes as CSS variables and no fixed colour.
    await waitFor(() => expect(block!.querySelector('pre.shiki')).not.toBeNull(), SLOW);
    const shiki = block!.querySelector('pre.shiki')!;
    expect(shiki).toHaveTextContent('const answer: number = 42;');
    expect(shiki.innerHTML).toContain('--shiki-light:');
    expect(shiki.innerHTML).toContain('--shiki-dark:');
    expect(shiki.innerHTML).not.toMatch(/[^-]color:/);
    expect(block).toHaveAttribute('data-highlighted', 'true');
  });

  it('highlights a block as soon as its closing fence arrives, while the answer still streams', async () => {
    const { container } = render(
      <StreamingMarkdown text={`Intro\n\n${fence}python\nprint("done")\n${fence}\n\nMore text is com`} streaming />,
    );
    await waitFor(() => expect(container.querySelector('pre.shiki')).toHaveTextContent('print("done")'), SLOW);
  });

  it('does not highlight the block whose fence is still open', async () => {
    const finished = `${fence}js\nconst done = true;\n${fence}`;
    const open = `${fence}js\nconst stillTyping = tr`;
    const { container, rerender } = render(<StreamingMarkdown text={`${finished}\n\n${open}`} streaming />);

    // Once the finished block is highlighted, the highlighter and the grammar are loaded…
    await waitFor(() => expect(codeBlocks(container)[0]!.querySelector('pre.shiki')).not.toBeNull(), SLOW);
    // …and still the open block stays plain, streaming token by token.
    rerender(<StreamingMarkdown text={`${finished}\n\n${open}ue;`} streaming />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const openBlock = codeBlocks(container)[1]!;
    expect(openBlock.querySelector('pre.shiki')).toBeNull();
    expect(openBlock.querySelector('pre code')).toHaveTextContent('const stillTyping = true;');

    // The closing fence arrives: now it is highlighted.
    rerender(<StreamingMarkdown text={`${finished}\n\n${open}ue;\n${fence}\n`} streaming />);
    await waitFor(() => expect(codeBlocks(container)[1]!.querySelector('pre.shiki')).not.toBeNull(), SLOW);
  });

  it('does not highlight an open fence inside a list item either', async () => {
    const finished = `${fence}js\nconst done = true;\n${fence}`;
    const { container } = render(
      <StreamingMarkdown text={`${finished}\n\n1. Step one:\n   ${fence}js\n   let step = 1`} streaming />,
    );
    await waitFor(() => expect(codeBlocks(container)[0]!.querySelector('pre.shiki')).not.toBeNull(), SLOW);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const inList = container.querySelector('li .md-code')!;
    expect(inList.querySelector('pre.shiki')).toBeNull();
    expect(inList.querySelector('pre code')).toHaveTextContent('let step = 1');
  });

  it('highlights an unterminated block once streaming ends', async () => {
    const text = `${fence}json\n{"cut": "off"}`;
    const { container, rerender } = render(<StreamingMarkdown text={text} streaming />);
    rerender(<StreamingMarkdown text={text} streaming={false} />);
    await waitFor(() => expect(container.querySelector('pre.shiki')).toHaveTextContent('{"cut": "off"}'), SLOW);
  });

  it('leaves code in an unknown language as plain text', async () => {
    const { container } = render(
      <StreamingMarkdown
        text={`${fence}no-such-language\nsome code\n${fence}\n\n${fence}ts\nlet x = 1;\n${fence}`}
        streaming={false}
      />,
    );
    await waitFor(() => expect(codeBlocks(container)[1]!.querySelector('pre.shiki')).not.toBeNull(), SLOW);
    const unknown = codeBlocks(container)[0]!;
    expect(unknown.querySelector('pre.shiki')).toBeNull();
    expect(unknown.querySelector('pre code')).toHaveTextContent('some code');
    expect(unknown.querySelector('.md-code-lang')).toHaveTextContent('no-such-language');
  });

  it('escapes the code it highlights', async () => {
    const { container } = render(
      <StreamingMarkdown
        text={`${fence}html\n<img src=x onerror="alert(1)"><script>alert(2)</script>\n${fence}`}
        streaming={false}
      />,
    );
    await waitFor(() => expect(container.querySelector('pre.shiki')).not.toBeNull(), SLOW);
    expect(container.querySelector('img, script')).toBeNull();
    expect(container.querySelector('pre.shiki')).toHaveTextContent('<img src=x onerror="alert(1)"><script>alert(2)</script>');
  });
});

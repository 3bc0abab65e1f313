// @vitest-environment jsdom
import { render, waitFor } from '@testing-library/react';
import { expect, it } from 'vitest';
import { StreamingMarkdown } from '../../renderer/src/markdown';

const fence = '```';

/** A long answer: prose, lists, tables and code in several languages, `lines` lines in all. */
function longAnswer(lines: number): string {
  const out: string[] = [];
  let section = 0;
  while (out.length < lines) {
    section++;
    out.push(`## Step ${section}: change the ${['parser', 'server', 'client', 'tests'][section % 4]}`, '');
    out.push(
      `This step explains **why** the change is needed and what it touches. It mentions \`config.ts\`, links to https://example.com/docs/${section} and keeps the sentences long enough to wrap across several lines of the window.`,
      '',
    );
    out.push('- first, read the current code', '- then, apply the change below', `- finally, run \`npm test\` (${section})`, '');
    const lang = ['ts', 'python', 'bash', 'json'][section % 4]!;
    out.push(`${fence}${lang}`);
    for (let i = 0; i < 24; i++) {
      out.push(
        i % 8 === 7
          ? ''
          : `${lang === 'python' ? '    ' : '  '}value_${section}_${i} = compute(${i}, "item ${i}") # step ${section}`,
      );
    }
    out.push(fence, '');
    if (section % 3 === 0)
      out.push('| Option | Default | Meaning |', '|---|---|---|', `| retries | ${section} | How often to retry |`, '');
  }
  return out.slice(0, lines).join('\n');
}

it('streams a 2,000-line answer in 20-character pieces', async () => {
  const answer = longAnswer(2000);
  const started = performance.now();
  const { container, rerender } = render(<StreamingMarkdown text="" streaming />);
  let pieces = 0;
  for (let end = 20; end < answer.length + 20; end += 20) {
    rerender(<StreamingMarkdown text={answer.slice(0, end)} streaming />);
    // Tokens arrive from the network: let the event loop (and highlighting) run now and then.
    if (++pieces % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const streamed = performance.now() - started;
  rerender(<StreamingMarkdown text={answer} streaming={false} />);
  const blocks = container.querySelectorAll('.md-code').length;
  await waitFor(() => expect(container.querySelectorAll('.md-code[data-highlighted]')).toHaveLength(blocks), { timeout: 30_000 });
  const total = performance.now() - started;

  const headings = answer.split('\n').filter((line) => line.startsWith('## '));
  expect(container.querySelectorAll('h2')).toHaveLength(headings.length);
  expect(blocks).toBe(answer.split('\n').filter((line) => line.startsWith(fence) && line !== fence).length);
  if (process.env.MARKDOWN_TIMING) {
    console.log(
      `${answer.split('\n').length} lines, ${answer.length} chars, ${pieces} renders: streamed in ${streamed.toFixed(0)} ms (${(streamed / pieces).toFixed(2)} ms/render), all ${blocks} code blocks highlighted after ${total.toFixed(0)} ms`,
    );
  }
}, 120_000);

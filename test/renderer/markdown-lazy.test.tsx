// @vitest-environment jsdom
import { render, waitFor } from '@testing-library/react';
import { expect, it, vi } from 'vitest';
import { StreamingMarkdown } from '../../renderer/src/markdown';
import type * as Highlighter from '../../renderer/src/markdown/highlighter';
import { highlight, isHighlighterRequested } from '../../renderer/src/markdown/highlighter';

vi.mock('../../renderer/src/markdown/highlighter', async (importOriginal) => {
  const actual = await importOriginal<typeof Highlighter>();
  return { ...actual, highlight: vi.fn(actual.highlight) };
});

const fence = '```';

// One test in this file: the highlighter is a module-level singleton.
it('loads the highlighter only when the first finished code block appears', async () => {
  const { container, rerender } = render(<StreamingMarkdown text="Just prose, and `inline code`." streaming={false} />);
  rerender(<StreamingMarkdown text={`Prose.\n\n${fence}ts\nconst open = 1;`} streaming />);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(highlight).not.toHaveBeenCalled();
  expect(isHighlighterRequested()).toBe(false);

  rerender(<StreamingMarkdown text={`Prose.\n\n${fence}ts\nconst open = 1;\n${fence}\n`} streaming />);
  expect(highlight).toHaveBeenCalledExactlyOnceWith('const open = 1;', 'ts');
  await waitFor(() => expect(container.querySelector('pre.shiki')).not.toBeNull(), { timeout: 10_000 });
  expect(isHighlighterRequested()).toBe(true);
});

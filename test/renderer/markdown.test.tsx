// @vitest-environment jsdom
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StreamingMarkdown } from '../../renderer/src/markdown';

const fence = '```';

function renderAnswer(text: string, streaming = false) {
  return render(<StreamingMarkdown text={text} streaming={streaming} />);
}

describe('StreamingMarkdown root', () => {
  it('is a div marked aria-busy while streaming, and not a live region', () => {
    const { container, rerender } = render(<StreamingMarkdown text="Hel" streaming className="answer" />);
    const root = container.firstElementChild!;
    expect(root.tagName).toBe('DIV');
    expect(root).toHaveClass('answer');
    expect(root).toHaveAttribute('aria-busy', 'true');
    expect(root).not.toHaveAttribute('aria-live');
    expect(root).not.toHaveAttribute('role');

    rerender(<StreamingMarkdown text="Hello" streaming={false} className="answer" />);
    expect(root).toHaveAttribute('aria-busy', 'false');
  });

  it('renders each block between blank lines', () => {
    const { container } = renderAnswer('# Title\n\nFirst paragraph.\n\nSecond paragraph.');
    expect(screen.getByRole('heading', { level: 1, name: 'Title' })).toBeInTheDocument();
    expect(container.querySelectorAll('p')).toHaveLength(2);
  });
});

describe('GFM', () => {
  it('renders tables inside a horizontally scrolling wrapper', () => {
    const { container } = renderAnswer('| Name | Size |\n|------|-----:|\n| a.ts | 12 |\n| b.ts | 7 |');
    const table = screen.getByRole('table');
    expect(table.parentElement).toHaveClass('md-table-wrap');
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Name', 'Size']);
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(container.querySelector('td:last-child')).toHaveStyle({ textAlign: 'right' });
  });

  it('renders task lists as disabled checkboxes', () => {
    renderAnswer('- [x] done\n- [ ] todo');
    const boxes = screen.getAllByRole('checkbox');
    expect(boxes).toHaveLength(2);
    expect(boxes[0]).toBeChecked();
    expect(boxes[1]).not.toBeChecked();
    expect(boxes[0]).toBeDisabled();
  });

  it('renders strikethrough', () => {
    const { container } = renderAnswer('This is ~~wrong~~ right.');
    expect(container.querySelector('del')).toHaveTextContent('wrong');
  });

  it('turns bare URLs into links', () => {
    renderAnswer('See https://example.com/docs and www.example.org.');
    expect(screen.getByRole('link', { name: 'https://example.com/docs' })).toHaveAttribute('href', 'https://example.com/docs');
    expect(screen.getByRole('link', { name: 'www.example.org' })).toHaveAttribute('href', 'http://www.example.org');
  });
});

describe('links', () => {
  it('open outside the app: target _blank with rel noopener noreferrer', () => {
    renderAnswer('Read [the docs](https://example.com/a "Docs") or [mail us](mailto:team@example.com).');
    for (const name of ['the docs', 'mail us']) {
      const link = screen.getByRole('link', { name });
      expect(link).toHaveAttribute('target', '_blank');
      expect(link).toHaveAttribute('rel', 'noopener noreferrer');
    }
    expect(screen.getByRole('link', { name: 'the docs' })).toHaveAttribute('title', 'Docs');
  });

  it('renders javascript: links as plain text', () => {
    const { container } = renderAnswer('[click me](javascript:alert(1)) and [again](java%0ascript:alert(1))');
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(container).toHaveTextContent('click me and again');
    expect(container.innerHTML).not.toContain('javascript:');
  });

  it('renders links with other protocols or relative targets as plain text', () => {
    const { container } = renderAnswer('[file](file:///etc/passwd), [app](/settings), [data](data:text/html,hi)');
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(container).toHaveTextContent('file, app, data');
  });
});

describe('raw HTML', () => {
  it('shows HTML as text, never as elements', () => {
    const { container } = renderAnswer(
      '<div class="x">block</div>\n\nInline <b>bold</b> and <img src="https://e.com/x.png" onerror="alert(1)">\n\n<script>alert(1)</script>',
    );
    expect(container.querySelector('div.x, b, img, script')).toBeNull();
    expect(container).toHaveTextContent('<div class="x">block</div>');
    expect(container).toHaveTextContent('Inline <b>bold</b>');
    expect(container).toHaveTextContent('<script>alert(1)</script>');
  });
});

describe('images', () => {
  it('become links labelled with their alt text instead of <img>', () => {
    const { container } = renderAnswer('![A diagram](https://example.com/diagram.png)');
    expect(container.querySelector('img')).toBeNull();
    const link = screen.getByRole('link', { name: 'A diagram' });
    expect(link).toHaveAttribute('href', 'https://example.com/diagram.png');
    expect(link).toHaveAttribute('target', '_blank');
    expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  });

  it('without alt text are labelled with their address', () => {
    renderAnswer('![](https://example.com/x.png)');
    expect(screen.getByRole('link', { name: 'https://example.com/x.png' })).toBeInTheDocument();
  });

  it('with a data: address keep only their alt text', () => {
    const { container } = renderAnswer('![tiny dot](data:image/png;base64,iVBORw0KGgo=)');
    expect(container.querySelector('img, a')).toBeNull();
    expect(container).toHaveTextContent('tiny dot');
  });

  it('inside a link do not nest a second link', () => {
    const { container } = renderAnswer('[![logo](https://example.com/logo.png)](https://example.com)');
    expect(container.querySelectorAll('a')).toHaveLength(1);
    expect(screen.getByRole('link', { name: 'logo' })).toHaveAttribute('href', 'https://example.com');
  });
});

describe('code blocks', () => {
  it('show the language in a header with a Copy code button', () => {
    const { container } = renderAnswer(`${fence}python\nprint("hi")\n${fence}`);
    expect(container.querySelector('.md-code-lang')).toHaveTextContent('python');
    expect(screen.getByRole('button', { name: 'Copy code' })).toHaveTextContent('Copy');
    expect(container.querySelector('pre code')).toHaveTextContent('print("hi")');
  });

  it('render an unterminated fence while streaming as an open code block with the code so far', () => {
    const { container } = renderAnswer(`Try:\n\n${fence}js\nfunction f() {\n\n  return 1;\n\n`, true);
    const codes = container.querySelectorAll('pre code');
    expect(codes).toHaveLength(1);
    expect(codes[0]!.textContent).toBe('function f() {\n\n  return 1;');
    // The blank lines in the code did not turn the rest into paragraphs.
    expect(container.querySelectorAll('p')).toHaveLength(1);
  });

  it('keep inline code inline', () => {
    const { container } = renderAnswer('Call `run()` now.');
    expect(container.querySelector('p > code')).toHaveTextContent('run()');
    expect(container.querySelector('.md-code')).toBeNull();
  });
});

describe('Copy button', () => {
  afterEach(() => {
    vi.useRealTimers();
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  function mockClipboard(writeText: (text: string) => Promise<void>) {
    const spy = vi.fn(writeText);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText: spy }, configurable: true });
    return spy;
  }

  it('copies the code and says Copied for 1.5 seconds', async () => {
    vi.useFakeTimers();
    const writeText = mockClipboard(() => Promise.resolve());
    renderAnswer(`${fence}sh\nnpm install\nnpm test\n${fence}`);
    const button = screen.getByRole('button', { name: 'Copy code' });

    await act(async () => {
      fireEvent.click(button);
      await Promise.resolve();
    });
    expect(writeText).toHaveBeenCalledWith('npm install\nnpm test');
    expect(button).toHaveTextContent('Copied');
    expect(screen.getByRole('status')).toHaveTextContent('Code copied to the clipboard');

    act(() => {
      vi.advanceTimersByTime(1400);
    });
    expect(button).toHaveTextContent('Copied');
    act(() => {
      vi.advanceTimersByTime(100);
    });
    expect(button).toHaveTextContent('Copy');
  });

  it('says Copy failed when the clipboard refuses', async () => {
    mockClipboard(() => Promise.reject(new Error('denied')));
    renderAnswer(`${fence}\nsecret\n${fence}`);
    fireEvent.click(screen.getByRole('button', { name: 'Copy code' }));
    expect(await screen.findByText('Copy failed', { selector: 'button' })).toBeInTheDocument();
  });
});

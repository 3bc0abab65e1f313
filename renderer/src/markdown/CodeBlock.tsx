import { useEffect, useState } from 'react';
import { useCopy } from '../app/use-copy';
import { highlight, peekHighlighted } from './highlighter';

export interface CodeBlockProps {
  /** The code, without the trailing newline. */
  code: string;
  /** The fence's language (first word of the info string), if any. */
  lang?: string | undefined;
  /** The closing fence has arrived (or the answer is complete): highlight it. Open blocks stay plain. */
  finished: boolean;
}

interface Highlighted {
  code: string;
  lang: string | undefined;
  html: string;
}

/** A fenced code block: language, a Copy button, and the code — highlighted once it is finished. */
export function CodeBlock({ code, lang, finished }: CodeBlockProps) {
  const [highlighted, setHighlighted] = useState<Highlighted | undefined>(() => {
    const html = finished ? peekHighlighted(code, lang) : undefined;
    return html === undefined ? undefined : { code, lang, html };
  });
  const { label, copy } = useCopy();
  const current = finished && highlighted?.code === code && highlighted.lang === lang ? highlighted.html : undefined;

  useEffect(() => {
    if (!finished || current !== undefined) return;
    let cancelled = false;
    highlight(code, lang).then(
      (html) => {
        if (!cancelled && html !== undefined) setHighlighted({ code, lang, html });
      },
      // Highlighting is a nicety: if shiki fails to load, the plain code stays.
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [code, lang, finished, current]);

  return (
    <div className="md-code" data-highlighted={current !== undefined ? 'true' : undefined}>
      <div className="md-code-header">
        <span className="md-code-lang">{lang ?? 'text'}</span>
        <button type="button" className="md-code-copy" aria-label="Copy code" onClick={() => copy(code)}>
          {label ?? 'Copy'}
        </button>
        <span className="md-sr-only" role="status">
          {label === 'Copied' ? 'Code copied to the clipboard' : label}
        </span>
      </div>
      {current !== undefined ? (
        // Only shiki's own output goes here: it is generated from tokens and escapes every piece of the code.
        <div className="md-code-body" dangerouslySetInnerHTML={{ __html: current }} />
      ) : (
        <div className="md-code-body">
          {/* Scrollable, so reachable by keyboard (shiki's <pre> has tabindex="0" too). */}
          <pre tabIndex={0}>
            <code className={lang ? `language-${lang}` : undefined}>{code}</code>
          </pre>
        </div>
      )}
    </div>
  );
}

import { createContext, memo, use, type ComponentProps } from 'react';
import Markdown, { type Components, type ExtraProps } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';
import { readOpenFence } from './split-blocks';
import { safeImageSrc, safeLinkHref, transformUrl } from './urls';

type HastElement = NonNullable<ExtraProps['node']>;

/** Offset (in the block's text) of a fence still waiting for its closing line, or -1. */
const OpenFenceContext = createContext(-1);
/** Set inside a link, where an image must not become a second, nested link. */
const InsideLinkContext = createContext(false);

/** The code and language of a `<pre><code class="language-x">` element from remark-rehype. */
function codeOf(pre: HastElement | undefined): { code: string; lang: string | undefined } | undefined {
  const code = pre?.children[0];
  if (code?.type !== 'element' || code.tagName !== 'code') return undefined;
  const classes = code.properties.className;
  const langClass = Array.isArray(classes) ? classes.map(String).find((name) => name.startsWith('language-')) : undefined;
  const text = code.children.map((child) => (child.type === 'text' ? child.value : '')).join('');
  // remark-rehype ends the code with a newline; the copy should not.
  return { code: text.endsWith('\n') ? text.slice(0, -1) : text, lang: langClass?.slice('language-'.length) };
}

function Pre({ node, children }: ComponentProps<'pre'> & ExtraProps) {
  const openFenceAt = use(OpenFenceContext);
  const found = codeOf(node);
  if (!found) return <pre>{children}</pre>;
  // The open fence is the last thing in its block: any code block starting at or after it is the open one.
  const start = node?.position?.start.offset ?? Number.POSITIVE_INFINITY;
  const open = openFenceAt >= 0 && start >= openFenceAt;
  return <CodeBlock code={found.code} lang={found.lang} finished={!open} />;
}

function Link({ href, title, children }: ComponentProps<'a'> & ExtraProps) {
  const safe = href === undefined ? undefined : safeLinkHref(href);
  // Disallowed targets (javascript:, relative paths, …) keep their text and lose the link.
  if (!safe) return <span className="md-link-removed">{children}</span>;
  return (
    <InsideLinkContext value={true}>
      <a href={safe} title={title} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    </InsideLinkContext>
  );
}

/** No remote images: an image becomes a link to it, labelled with its alt text (or its address). */
function Image({ src, alt }: ComponentProps<'img'> & ExtraProps) {
  const insideLink = use(InsideLinkContext);
  const safe = typeof src === 'string' ? safeImageSrc(src) : undefined;
  if (!safe || insideLink) return alt ? <span className="md-image-text">{alt}</span> : null;
  return (
    <a className="md-image-link" href={safe} title={alt ? safe : undefined} target="_blank" rel="noopener noreferrer">
      {alt || safe}
    </a>
  );
}

/** Wide tables scroll inside their own box. */
function Table({ children }: ComponentProps<'table'> & ExtraProps) {
  return (
    <div className="md-table-wrap">
      <table>{children}</table>
    </div>
  );
}

const COMPONENTS: Components = { pre: Pre, a: Link, img: Image, table: Table };
const REMARK_PLUGINS = [remarkGfm];

/** Markdown parsed and rendered by react-markdown, again only when the text changes. */
const MarkdownText = memo(function MarkdownText({ text }: { text: string }) {
  return (
    <Markdown remarkPlugins={REMARK_PLUGINS} components={COMPONENTS} urlTransform={transformUrl}>
      {text}
    </Markdown>
  );
});

export interface MarkdownBlockProps {
  /** One top-level block of Markdown (see split-blocks.ts). */
  text: string;
  /** Offset of an unterminated fence in `text` while the answer streams, or -1. */
  openFenceAt: number;
}

/**
 * One block, parsed and rendered on its own. Memoized on its text: finished blocks keep theirs, so
 * only the growing last block is rendered again when a token arrives.
 *
 * While a fence is open at the end of the block, the code is read without a parser and the Markdown
 * before it keeps its parse: streaming a long code block costs the same per token as a short one.
 *
 * Raw HTML is never rendered as elements: without rehype-raw react-markdown turns it into text.
 */
export const MarkdownBlock = memo(function MarkdownBlock({ text, openFenceAt }: MarkdownBlockProps) {
  const open = openFenceAt >= 0 ? readOpenFence(text, openFenceAt) : undefined;
  const markdown = open ? open.before : text;
  // Same shape in every case, so the Markdown part keeps its component (and parse) when a fence opens.
  return (
    <OpenFenceContext value={openFenceAt}>
      {markdown ? <MarkdownText key="markdown" text={markdown} /> : null}
      {open ? <CodeBlock key="open-fence" code={open.code} lang={open.lang} finished={false} /> : null}
    </OpenFenceContext>
  );
});

import { memo, useMemo, useState } from 'react';
import { MarkdownBlock } from './MarkdownBlock';
import { createBlockSplitter } from './split-blocks';
import './markdown.css';

export interface StreamingMarkdownProps {
  /** The answer so far (Markdown). While streaming it only grows. */
  text: string;
  /** More text is coming: the last block may be incomplete, and an unterminated fence stays an open code block. */
  streaming: boolean;
  className?: string;
}

/**
 * Blocks are rendered in groups of this many, so a token costs one comparison per group rather than
 * one element per block: a 2,000-line answer has hundreds of blocks.
 */
const GROUP_SIZE = 16;

interface BlockGroupProps {
  /** All blocks; this group renders `blocks[first]` up to (not including) `blocks[first + GROUP_SIZE]`. */
  blocks: readonly string[];
  first: number;
  /** openFenceAt of the answer's last block, when it is in this group; otherwise -1. */
  openFenceAt: number;
}

function sameGroup(a: BlockGroupProps, b: BlockGroupProps): boolean {
  if (a.first !== b.first || a.openFenceAt !== b.openFenceAt) return false;
  const end = a.first + GROUP_SIZE;
  for (let i = a.first; i < end; i++) if (a.blocks[i] !== b.blocks[i]) return false;
  return true;
}

const BlockGroup = memo(function BlockGroup({ blocks, first, openFenceAt }: BlockGroupProps) {
  const end = Math.min(first + GROUP_SIZE, blocks.length);
  const elements = [];
  for (let index = first; index < end; index++) {
    // Index keys are the point: block i keeps its identity (and memo) while later blocks arrive.
    elements.push(
      <MarkdownBlock key={index} text={blocks[index] ?? ''} openFenceAt={index === blocks.length - 1 ? openFenceAt : -1} />,
    );
  }
  // A group skips layout and paint while off screen (content-visibility): long answers stay cheap.
  return <div className="md-group">{elements}</div>;
}, sameGroup);

/**
 * Renders an answer from Claude as it streams in.
 *
 * The text is split into top-level blocks (blank lines outside fenced code, see split-blocks.ts) and
 * each block is a memoized component keyed by its index: a new token re-renders only the last, growing
 * block, however long the answer. Code blocks are highlighted once their closing fence has arrived
 * (or the answer is complete).
 *
 * The root is deliberately not a live region: screen readers would read every token. `aria-busy` tells
 * them the content is still changing.
 */
export function StreamingMarkdown({ text, streaming, className }: StreamingMarkdownProps) {
  // The splitter caches its last result: appending text scans only the new lines.
  const [splitter] = useState(createBlockSplitter);
  const { blocks, openFenceAt } = useMemo(() => splitter.split(text), [splitter, text]);
  const groups = [];
  for (let first = 0; first < blocks.length; first += GROUP_SIZE) {
    const holdsLast = first + GROUP_SIZE >= blocks.length;
    groups.push(<BlockGroup key={first} blocks={blocks} first={first} openFenceAt={streaming && holdsLast ? openFenceAt : -1} />);
  }
  return (
    <div className={className ? `md-root ${className}` : 'md-root'} aria-busy={streaming}>
      {groups}
    </div>
  );
}

export { StreamingMarkdown, type StreamingMarkdownProps } from './StreamingMarkdown';
export { CodeBlock, type CodeBlockProps } from './CodeBlock';
export { createBlockSplitter, splitBlocks, type BlockSplitter, type SplitResult } from './split-blocks';

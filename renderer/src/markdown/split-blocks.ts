/**
 * Splits Markdown into top-level blocks so a streaming answer can be rendered block by block.
 *
 * Blocks are separated by blank lines, except inside a fenced code block (``` or ~~~, three or more,
 * indented at most three spaces, with an optional info string; the closing fence uses the same
 * character, is at least as long and has nothing after it but spaces). The splitter never parses
 * Markdown beyond that: each block is handed to react-markdown on its own.
 *
 * Known simplifications, all deliberate: a fence indented four or more spaces (for example inside a
 * `10.` list item) is not tracked, so a blank line inside it splits; reference-style link definitions
 * and footnotes only resolve within their own block; a list with blank lines between items renders as
 * consecutive lists.
 */

export interface SplitResult {
  /** The blocks in order, without the blank lines between them. */
  readonly blocks: readonly string[];
  /**
   * Where the unterminated fence of the last block starts (offset of its opening line within that
   * block), or -1 when every fence is closed. A fence is only closed once its closing line has ended
   * (a newline arrived) — `` ``` `` at the very end of the text might still grow into `` ```` `` or `` ```x ``.
   */
  readonly openFenceAt: number;
}

export interface BlockSplitter {
  /**
   * The blocks of `text`. The result depends only on `text`; when `text` extends the previous
   * call's text, only the new lines are scanned.
   */
  split(text: string): SplitResult;
}

interface Fence {
  readonly char: '`' | '~';
  readonly length: number;
  /** Offset of the opening line in the whole text. */
  readonly start: number;
}

const OPENING_FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const BLANK_LINE = /^[ \t]*$/;

function openingFence(line: string, start: number): Fence | undefined {
  const match = OPENING_FENCE.exec(line);
  if (!match) return undefined;
  const marker = match[1] ?? '';
  const info = match[2] ?? '';
  const char = marker[0] === '~' ? '~' : '`';
  // A backtick fence's info string may not contain backticks (```x``` is inline code).
  if (char === '`' && info.includes('`')) return undefined;
  return { char, length: marker.length, start };
}

function closesFence(line: string, fence: Fence): boolean {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  let run = 0;
  while (line[i + run] === fence.char) run++;
  return run >= fence.length && BLANK_LINE.test(line.slice(i + run));
}

/**
 * A copy of `text.slice(start, end)` that does not keep `text` alive. Engines return slices that point
 * into the original string; a finished block lives as long as the message, the text it was cut from
 * (one of thousands of versions while streaming) should not.
 */
function detachedSlice(text: string, start: number, end: number): string {
  return (' ' + text.slice(start, end)).slice(1);
}

interface State {
  /** The text the state was computed for (only complete lines of it are committed). */
  text: string;
  /** Finished blocks: followed by a blank line outside any fence. */
  finished: string[];
  /** Offset of the first line of the block being built, or -1 when between blocks. */
  blockStart: number;
  /** Offset just past the last non-blank line of the block being built. */
  blockEnd: number;
  /** Offset of the first line not yet scanned (always the start of a line). */
  scanned: number;
  fence: Fence | undefined;
}

function initialState(): State {
  return { text: '', finished: [], blockStart: -1, blockEnd: -1, scanned: 0, fence: undefined };
}

/** Applies one complete or trailing line to the state; returns nothing, mutates `state`. */
function scanLine(state: State, text: string, lineStart: number, lineEnd: number, complete: boolean): void {
  const line = text.slice(lineStart, lineEnd);
  if (state.fence) {
    if (complete && closesFence(line, state.fence)) state.fence = undefined;
    state.blockEnd = lineEnd;
    return;
  }
  if (BLANK_LINE.test(line)) {
    // A trailing partial line of spaces may still become content; only a complete blank line separates.
    if (complete && state.blockStart >= 0) {
      state.finished.push(detachedSlice(text, state.blockStart, state.blockEnd));
      state.blockStart = -1;
      state.blockEnd = -1;
    }
    return;
  }
  if (state.blockStart < 0) state.blockStart = lineStart;
  state.blockEnd = lineEnd;
  state.fence = openingFence(line, lineStart);
}

/** Scans the complete lines of `text` from `state.scanned` on. */
function scanCompleteLines(state: State, text: string): void {
  let lineStart = state.scanned;
  for (;;) {
    const newline = text.indexOf('\n', lineStart);
    if (newline < 0) break;
    const lineEnd = newline > lineStart && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
    scanLine(state, text, lineStart, lineEnd, true);
    lineStart = newline + 1;
  }
  state.scanned = lineStart;
  state.text = text;
}

function result(state: State, text: string): SplitResult {
  // The trailing partial line is scanned on a copy: the next call may see it grow. A partial line never
  // finishes a block, so sharing `finished` is safe.
  const tail: State = { ...state };
  if (state.scanned < text.length) scanLine(tail, text, state.scanned, text.length, false);
  const blocks = tail.blockStart >= 0 ? [...state.finished, text.slice(tail.blockStart, tail.blockEnd)] : state.finished.slice();
  const openFenceAt = tail.fence && tail.blockStart >= 0 ? tail.fence.start - tail.blockStart : -1;
  return { blocks, openFenceAt };
}

/** A splitter that remembers its last input, so appending text costs only the new lines. */
export function createBlockSplitter(): BlockSplitter {
  let state = initialState();
  let last: SplitResult | undefined;
  return {
    split(text: string): SplitResult {
      if (last && text === state.text) return last;
      // Anything but an append (a new answer, an edit) starts over. (Comparing a slice is many times
      // faster than startsWith in V8: string equality is a memcmp.)
      if (text.length < state.text.length || text.slice(0, state.text.length) !== state.text) state = initialState();
      scanCompleteLines(state, text);
      last = result(state, text);
      return last;
    },
  };
}

/** The blocks of `text` (a one-off split; see createBlockSplitter for streaming). */
export function splitBlocks(text: string): string[] {
  return [...createBlockSplitter().split(text).blocks];
}

export interface OpenFence {
  /** The block's Markdown before the fence (may be empty). */
  readonly before: string;
  /** The first word of the info string, if any. */
  readonly lang: string | undefined;
  /** The code so far, exactly as a Markdown parser reads it. */
  readonly code: string;
}

/**
 * Reads the unterminated fence at `openFenceAt` in `block` (see SplitResult) without a Markdown parser,
 * so streaming a long code block does not parse it again for every token. Undefined when a parser is
 * needed after all: an indented fence after other text (it may belong to a list item), or an info string
 * or indentation with escapes, entities or tabs.
 */
export function readOpenFence(block: string, openFenceAt: number): OpenFence | undefined {
  const lineEnd = block.indexOf('\n', openFenceAt);
  const opening = block.slice(openFenceAt, lineEnd < 0 ? block.length : lineEnd);
  const match = OPENING_FENCE.exec(opening);
  if (!match) return undefined;
  const indent = opening.length - opening.trimStart().length;
  const info = (match[2] ?? '').trim();
  if ((indent > 0 && openFenceAt > 0) || /[\\&]/.test(info)) return undefined;
  // Like CommonMark: the code is every line after the opening one, minus the line ending at the very end.
  let code = lineEnd < 0 ? '' : block.slice(lineEnd + 1);
  if (code.endsWith('\n')) code = code.slice(0, -1);
  if (indent > 0) {
    if (new RegExp(`^ {0,${indent - 1}}\\t`, 'm').test(code)) return undefined;
    code = code.replace(new RegExp(`^ {1,${indent}}`, 'gm'), '');
  }
  return { before: block.slice(0, openFenceAt), lang: info.split(/\s/, 1)[0] || undefined, code };
}

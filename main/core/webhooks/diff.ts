/** How much of a pull request's diff goes to Claude. */
export const MAX_REVIEW_DIFF_BYTES = 100 * 1024;

export interface TrimmedDiff {
  text: string;
  trimmed: boolean;
  originalBytes: number;
  keptBytes: number;
  totalFiles: number;
  /** Files shown whole or in part. */
  keptFiles: number;
  /** Files left out entirely, in diff order. */
  omittedFiles: string[];
  /** A file shown only in part (its first hunks), if any. */
  partialFile: string | undefined;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Splits before every line that starts with `marker` (the first piece is what precedes the first marker). */
function splitBefore(text: string, marker: RegExp): string[] {
  const starts = [0, ...[...text.matchAll(marker)].map((match) => match.index).filter((index) => index > 0)];
  return starts.map((start, position) => text.slice(start, starts[position + 1] ?? text.length));
}

/** `diff --git a/src/x.ts b/src/x.ts` → `src/x.ts` */
function fileNameOf(section: string): string {
  const header = /^diff --git a\/(.*?) b\/(.*)$/m.exec(section);
  if (header?.[2]) return header[2];
  const plus = /^\+\+\+ (?:b\/)?(.*)$/m.exec(section);
  return plus?.[1]?.trim() ?? '(unknown file)';
}

/** The longest prefix of `text` that is at most `budget` bytes and ends at a line break. */
function linesWithin(text: string, budget: number): string {
  const slice = Buffer.from(text, 'utf8').subarray(0, Math.max(0, budget)).toString('utf8');
  const lastBreak = slice.lastIndexOf('\n');
  return lastBreak === -1 ? '' : slice.slice(0, lastBreak + 1);
}

/**
 * Keeps whole files while they fit in `maxBytes`; the first file that does not fit is kept up
 * to its last whole hunk that fits (or, when nothing at all fits, up to a line break), and
 * the files after it are named but left out.
 */
export function trimDiff(diff: string, maxBytes: number = MAX_REVIEW_DIFF_BYTES): TrimmedDiff {
  const originalBytes = bytes(diff);
  const sections = splitBefore(diff, /^diff --git /gm).filter((section) => section !== '');
  const fileSections = sections.filter((section) => section.startsWith('diff --git '));
  const totalFiles = fileSections.length;
  if (originalBytes <= maxBytes) {
    return {
      text: diff,
      trimmed: false,
      originalBytes,
      keptBytes: originalBytes,
      totalFiles,
      keptFiles: totalFiles,
      omittedFiles: [],
      partialFile: undefined,
    };
  }

  let kept = '';
  let keptBytes = 0;
  let keptFiles = 0;
  let partialFile: string | undefined;
  let index = 0;
  for (; index < sections.length; index += 1) {
    const section = sections[index] as string;
    const size = bytes(section);
    if (keptBytes + size <= maxBytes) {
      kept += section;
      keptBytes += size;
      if (section.startsWith('diff --git ')) keptFiles += 1;
      continue;
    }
    // Whole hunks of this file while they fit.
    const [header = '', ...hunks] = splitBefore(section, /^@@ /gm);
    let partial = '';
    if (keptBytes + bytes(header) < maxBytes) {
      partial = header;
      for (const hunk of hunks) {
        if (keptBytes + bytes(partial) + bytes(hunk) > maxBytes) break;
        partial += hunk;
      }
      // Nothing kept yet and not even one hunk fits: cut inside the hunk at a line break.
      if (partial === header && keptBytes === 0 && hunks[0] !== undefined) {
        partial += linesWithin(hunks[0], maxBytes - bytes(header));
      }
      if (partial === header) partial = '';
    }
    if (partial !== '') {
      kept += partial;
      keptBytes += bytes(partial);
      if (section.startsWith('diff --git ')) {
        keptFiles += 1;
        partialFile = fileNameOf(section);
      }
      index += 1;
    }
    break;
  }
  const omittedFiles = sections
    .slice(index)
    .filter((section) => section.startsWith('diff --git '))
    .map(fileNameOf);
  return { text: kept, trimmed: true, originalBytes, keptBytes, totalFiles, keptFiles, omittedFiles, partialFile };
}

const kb = (count: number): string => `${Math.round(count / 1024)} KB`;

/** The note Claude (and the comment's reader) get about what was left out. */
export function describeTrim(diff: TrimmedDiff, cutWhileReading: boolean): string | undefined {
  if (!diff.trimmed && !cutWhileReading) return undefined;
  const total = cutWhileReading ? `more than ${kb(diff.originalBytes)}` : kb(diff.originalBytes);
  const files = cutWhileReading ? `${diff.keptFiles} file(s)` : `${diff.keptFiles} of ${diff.totalFiles} file(s)`;
  const parts = [`The diff was trimmed: ${kb(diff.keptBytes)} of ${total} is shown, covering ${files}.`];
  if (diff.partialFile) parts.push(`Only the first hunks of ${diff.partialFile} are shown.`);
  if (diff.omittedFiles.length > 0) {
    const listed = diff.omittedFiles.slice(0, 50);
    const more = diff.omittedFiles.length - listed.length;
    parts.push(`Left out entirely: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}.`);
  }
  if (cutWhileReading) parts.push('Files after those were not read at all.');
  return parts.join(' ');
}

/** What each command asks Perch, built from what the editor knows. */

export interface SelectionContext {
  fileName: string;
  languageId: string;
  text: string;
}

export function selectionQuestion(question: string, selection: SelectionContext): Record<string, unknown> {
  return {
    message: question,
    context: `From ${selection.fileName} (${selection.languageId}):\n\n${selection.text}`,
  };
}

export function fileReview(fileName: string, languageId: string, code: string): Record<string, unknown> {
  return { code, language: languageId, filename: fileName };
}

export interface DiagnosticContext {
  fileName: string;
  languageId: string;
  message: string;
  source?: string | undefined;
  code?: string | number | undefined;
  /** 1-based line of the error. */
  line: number;
  /** The lines around the error, numbered. */
  excerpt: string;
}

export function errorExplanation(diagnostic: DiagnosticContext): Record<string, unknown> {
  const origin = [diagnostic.source, diagnostic.code].filter((part) => part !== undefined && part !== '').join(' ');
  return {
    message: `Explain this error and how to fix it:\n\n${diagnostic.message}${origin ? ` (${origin})` : ''}`,
    context: `${diagnostic.fileName} (${diagnostic.languageId}), around line ${diagnostic.line}:\n\n${diagnostic.excerpt}`,
  };
}

/** Numbers the lines `from`..`to` (0-based, inclusive) of a document for an excerpt. */
export function numberedExcerpt(lines: string[], from: number, to: number): string {
  const start = Math.max(0, from);
  const end = Math.min(lines.length - 1, to);
  const width = String(end + 1).length;
  return lines
    .slice(start, end + 1)
    .map((line, index) => `${String(start + index + 1).padStart(width)} | ${line}`)
    .join('\n');
}

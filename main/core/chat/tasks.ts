import type { AttachmentInput } from '../storage/conversation-store.js';
import type { AskInput } from './chat-service.js';

export const DEFAULT_ANALYSIS_PROMPT =
  'Analyze this file. Say what it is and what it does or contains, point out anything notable (problems, risks, ' +
  'unusual parts), and finish with a short summary.';

export const CODE_REVIEW_SYSTEM =
  'You are a meticulous senior engineer reviewing code. Report concrete problems first — bugs, security issues, ' +
  'data loss, performance traps — each with the line or construct it concerns and a suggested fix. Then note ' +
  'readability and maintainability improvements. Be specific and brief; do not restate the code.';

export interface AnalyzeFileInput {
  file: AttachmentInput;
  prompt?: string | undefined;
  sessionId?: string | undefined;
  model?: string | undefined;
}

/** A file analysis is a question with the file attached (so it lands in history like any other). */
export function analyzeFileRequest(input: AnalyzeFileInput): AskInput {
  return {
    message: input.prompt?.trim() || DEFAULT_ANALYSIS_PROMPT,
    attachments: [input.file],
    sessionId: input.sessionId,
    model: input.model,
  };
}

export interface ReviewCodeInput {
  code: string;
  language: string;
  focus?: string | undefined;
  filename?: string | undefined;
  sessionId?: string | undefined;
  model?: string | undefined;
}

/** Picks a fence longer than any backtick run in the code, so the code cannot close it early. */
function fenceFor(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((match) => match[0].length));
  return '`'.repeat(longest + 1);
}

export function reviewCodeRequest(input: ReviewCodeInput): AskInput {
  const fence = fenceFor(input.code);
  const subject = input.filename ? `this ${input.language} code from ${input.filename}` : `this ${input.language} code`;
  const focus = input.focus?.trim() ? ` Focus on: ${input.focus.trim()}.` : '';
  return {
    // One trailing newline belongs to the file, not to the code shown.
    message: `Review ${subject}.${focus}\n\n${fence}${input.language}\n${input.code.replace(/\r?\n$/, '')}\n${fence}`,
    system: CODE_REVIEW_SYSTEM,
    sessionId: input.sessionId,
    model: input.model,
  };
}

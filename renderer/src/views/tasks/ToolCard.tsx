import { lazy, Suspense, useState, type SubmitEvent } from 'react';
import type { PermissionRequest } from '../../api/types';
import { editAsDiff, writeAsDiff } from '../../../../main/core/tasks/proposed-diff';

const CodeBlock = lazy(() => import('../../markdown').then((module) => ({ default: module.CodeBlock })));

/** Output longer than this many lines starts folded. */
const FOLD_AFTER_LINES = 12;

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** A path as the person knows it: relative to the workspace when it is inside. */
export function shortPath(file: string, workspace: string): string {
  return file.startsWith(`${workspace}/`) ? file.slice(workspace.length + 1) : file;
}

/** What a tool call does, in a few words, for its card's heading and its approval question. */
export function describeTool(name: string, input: Record<string, unknown>, workspace: string): { icon: string; label: string } {
  const file = shortPath(str(input.file_path) || str(input.notebook_path), workspace);
  switch (name) {
    case 'Bash':
      return { icon: '$', label: str(input.command) };
    case 'Read':
      return { icon: '→', label: `Read ${file}` };
    case 'Write':
      return { icon: '✎', label: `Write ${file}` };
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit':
      return { icon: '✎', label: `Edit ${file}` };
    case 'Glob':
    case 'Grep':
      return { icon: '⌕', label: `${name} ${str(input.pattern)}` };
    case 'WebFetch':
      return { icon: '↗', label: `Fetch ${str(input.url)}` };
    case 'AskUserQuestion':
      return { icon: '?', label: 'A question for you' };
    default:
      return { icon: '•', label: name };
  }
}

/** The change a file tool is making, as diff lines. */
function proposedDiff(name: string, input: Record<string, unknown>): string | undefined {
  if (name === 'Write') return writeAsDiff(str(input.content));
  if (name === 'Edit') return editAsDiff(str(input.old_string), str(input.new_string));
  return undefined;
}

function Code({ code, lang }: { code: string; lang?: string }) {
  return (
    <Suspense
      fallback={
        <pre className="output-block tool-output">
          <code>{code}</code>
        </pre>
      }
    >
      <CodeBlock code={code} lang={lang} finished />
    </Suspense>
  );
}

export interface ToolCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
  result?: { content: string; is_error: boolean } | undefined;
  request?: PermissionRequest | undefined;
}

/** A tool call: its heading, what it changes or runs, its result (folded when long), and its approval. */
export function ToolCard({
  call,
  workspace,
  onDecide,
}: {
  call: ToolCall;
  workspace: string;
  onDecide: (request: PermissionRequest, decision: Decision) => Promise<void>;
}) {
  const { icon, label } = describeTool(call.name, call.input, workspace);
  const diff = proposedDiff(call.name, call.input);
  const output = call.result?.content ?? '';
  const lines = output.split('\n').length;
  const pending = call.request?.status === 'pending' ? call.request : undefined;
  const declined =
    call.request && call.request.status !== 'pending' && call.request.status !== 'allowed' ? call.request : undefined;
  const state = pending ? 'asking' : declined ? 'declined' : call.result ? (call.result.is_error ? 'error' : 'done') : 'running';
  const showInput = call.name !== 'Bash' && call.name !== 'Read' && !diff && call.name !== 'AskUserQuestion';
  return (
    <article className={`tool-card ${state}`} aria-label={`${call.name}: ${label}`}>
      <header className="tool-head">
        <span className="tool-icon" aria-hidden="true">
          {icon}
        </span>
        <code className="tool-label">{label}</code>
        <span className="tool-state">
          {state === 'running'
            ? 'running…'
            : state === 'asking'
              ? 'needs you'
              : state === 'declined'
                ? declined?.status.replace('_', ' ')
                : state === 'error'
                  ? 'failed'
                  : ''}
        </span>
      </header>
      {diff && <Code code={diff} lang="diff" />}
      {showInput && <Code code={JSON.stringify(call.input, null, 2)} lang="json" />}
      {pending && <ApprovalCard request={pending} action={approvalQuestion(call.name, label)} onDecide={onDecide} />}
      {declined?.message && <p className="task-note">{declined.message}</p>}
      {output.trim() && !(declined && call.result?.is_error) && (
        <details className="tool-result" open={lines <= FOLD_AFTER_LINES && call.name !== 'Read'}>
          <summary>
            {call.result?.is_error ? 'Error' : call.name === 'Read' ? `Read ${lines} lines` : `Output (${lines} lines)`}
          </summary>
          <pre className={`output-block tool-output${call.result?.is_error ? ' error' : ''}`} tabIndex={0}>
            {output}
          </pre>
        </details>
      )}
    </article>
  );
}

/** The question an approval asks, in words: "Allow Claude to run `npm test`?" */
function approvalQuestion(name: string, label: string): string {
  if (name === 'Bash') return `Allow Claude to run \`${label}\`?`;
  if (label.startsWith('Write ') || label.startsWith('Edit '))
    return `Allow Claude to ${label.charAt(0).toLowerCase()}${label.slice(1)}?`;
  return `Allow Claude to use ${name}?`;
}

export interface Decision {
  decision: 'allow' | 'deny';
  message?: string;
  answers?: Record<string, string>;
}

interface Question {
  question: string;
  header?: string;
  options?: Array<{ label: string; description?: string }>;
}

/** Allow or Deny (with a reason, told to Claude) — or, for a question, its answers. */
export function ApprovalCard({
  request,
  action,
  onDecide,
}: {
  request: PermissionRequest;
  /** The question, in words. */
  action: string;
  onDecide: (request: PermissionRequest, decision: Decision) => Promise<void>;
}) {
  const [denying, setDenying] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const input = (request.input ?? {}) as Record<string, unknown>;
  const questions = request.tool === 'AskUserQuestion' ? ((input.questions ?? []) as Question[]) : [];
  const [answers, setAnswers] = useState<Record<string, string>>({});

  const decide = async (decision: Decision): Promise<void> => {
    setBusy(true);
    try {
      await onDecide(request, decision);
    } finally {
      setBusy(false);
    }
  };

  if (questions.length > 0) {
    const complete = questions.every((question) => (answers[question.question] ?? '').trim() !== '');
    const submit = (event: SubmitEvent): void => {
      event.preventDefault();
      if (complete) void decide({ decision: 'allow', answers });
    };
    return (
      <form className="approval" aria-label="Claude asks" onSubmit={submit}>
        {questions.map((question, index) => (
          <fieldset key={question.question} className="question">
            <legend>{question.question}</legend>
            {(question.options ?? []).map((option) => (
              <label key={option.label} className="check">
                <input
                  type="radio"
                  name={`question-${request.id}-${index}`}
                  checked={answers[question.question] === option.label}
                  onChange={() => setAnswers({ ...answers, [question.question]: option.label })}
                />{' '}
                {option.label}
                {option.description && <span className="hint"> — {option.description}</span>}
              </label>
            ))}
            <input
              className="input"
              aria-label={`Your own answer to: ${question.question}`}
              placeholder="Or your own answer"
              onChange={(event) => setAnswers({ ...answers, [question.question]: event.target.value })}
            />
          </fieldset>
        ))}
        <div className="approval-actions">
          <button className="button primary" type="submit" disabled={!complete || busy}>
            Answer
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="approval" role="group" aria-label="Permission request">
      <p className="approval-question">{action}</p>
      {denying ? (
        <form
          className="approval-deny"
          onSubmit={(event) => {
            event.preventDefault();
            void decide({ decision: 'deny', ...(reason.trim() ? { message: reason.trim() } : {}) });
          }}
        >
          <input
            className="input"
            aria-label="Why not (told to Claude)"
            placeholder="Why not? (optional, told to Claude)"
            value={reason}
            autoFocus
            onChange={(event) => setReason(event.target.value)}
          />
          <div className="approval-actions">
            <button className="button" type="button" onClick={() => setDenying(false)} disabled={busy}>
              Back
            </button>
            <button className="button danger" type="submit" disabled={busy}>
              Deny
            </button>
          </div>
        </form>
      ) : (
        <div className="approval-actions">
          <button className="button" type="button" onClick={() => setDenying(true)} disabled={busy}>
            Deny…
          </button>
          <button className="button primary" type="button" onClick={() => void decide({ decision: 'allow' })} disabled={busy}>
            Allow
          </button>
        </div>
      )}
    </div>
  );
}

import { lazy, Suspense, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { AnswerStatus } from '../../answers/AnswerStatus';
import { useAnswerStream } from '../../answers/use-answer-stream';
import { messageOf } from '../../api/client';
import type { Task, Workspace } from '../../api/types';
import { useApi } from '../../app/api-context';
import { isSendKey } from '../../app/keyboard';
import { chatHref, navigate, taskHref } from '../../app/router';
import './quick-ask.css';

// The answer's renderer loads right after the input is up; until then text shows plain.
const loadMarkdown = () => import('../../markdown').then((module) => ({ default: module.StreamingMarkdown }));
const StreamingMarkdown = lazy(loadMarkdown);

/**
 * One question, one streamed answer, all by keyboard: Enter asks, Shift+Enter adds a line,
 * Esc stops an answer or dismisses the window. Follow-ups continue the same session.
 */
export function QuickAsk() {
  const { api } = useApi();
  const [question, setQuestion] = useState('');
  // The question being answered stays above its answer once the box is cleared for the next one.
  const [asked, setAsked] = useState('');
  const [pinned, setPinned] = useState(false);
  // "Run as a task": the words become a task in a workspace, opened in the main window.
  const [workspaces, setWorkspaces] = useState<Workspace[] | undefined>();
  const [workspace, setWorkspace] = useState('');
  const [taskProblem, setTaskProblem] = useState<string | undefined>();
  const { answer, ask, stop, reset } = useAnswerStream();
  const input = useRef<HTMLTextAreaElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const sessionId = answer.sessionId;

  useEffect(() => {
    void loadMarkdown();
  }, []);

  // The desktop window grows with the answer, up to its limit.
  useEffect(() => {
    const element = root.current;
    if (!element || !window.perch?.resizeQuickAsk) return;
    const observer = new ResizeObserver(() => window.perch?.resizeQuickAsk?.(Math.ceil(element.scrollHeight)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const asTask = workspaces !== undefined;

  const toggleTask = (): void => {
    setTaskProblem(undefined);
    if (asTask) {
      setWorkspaces(undefined);
    } else {
      // Loaded only when asked for: quick ask itself stays as light as it was.
      api.workspaces().then(
        (found) => {
          setWorkspaces(found);
          setWorkspace(found[0]?.id ?? '');
        },
        (error: unknown) => setTaskProblem(messageOf(error, 'Perch did not answer.')),
      );
    }
    input.current?.focus();
  };

  const startTask = async (text: string): Promise<void> => {
    try {
      const task = await api.request<Task>('POST', '/api/v1/tasks', { prompt: text, workspace, source: 'ui' });
      setQuestion('');
      setWorkspaces(undefined);
      if (window.perch?.openTask) window.perch.openTask(task.id);
      else navigate(taskHref(task.id));
    } catch (error) {
      setTaskProblem(messageOf(error, 'Perch did not answer.'));
    }
  };

  const send = (): void => {
    const text = question.trim();
    if (!text || answer.streaming) return;
    if (asTask) {
      if (workspace) void startTask(text);
      return;
    }
    setQuestion('');
    setAsked(text);
    void ask({ message: text, ...(sessionId ? { session_id: sessionId } : {}) });
  };

  const dismiss = (): void => {
    if (answer.streaming) {
      stop();
      return;
    }
    reset();
    setQuestion('');
    setAsked('');
    window.perch?.hideQuickAsk?.();
    input.current?.focus();
  };

  // Esc works wherever the focus is (a link in the answer, a button), not only in the box.
  const dismissRef = useRef(dismiss);
  useEffect(() => {
    dismissRef.current = dismiss;
  });
  useEffect(() => {
    const onKeyDown = (event: globalThis.KeyboardEvent): void => {
      if (event.key !== 'Escape' || event.defaultPrevented || event.isComposing) return;
      event.preventDefault();
      dismissRef.current();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (isSendKey(event)) {
      event.preventDefault();
      send();
    }
  };

  const continueInChat = (): void => {
    if (!sessionId) return;
    if (window.perch?.openChat) window.perch.openChat(sessionId);
    else navigate(chatHref(sessionId));
  };

  const togglePin = (): void => {
    window.perch?.pinQuickAsk?.(!pinned);
    setPinned(!pinned);
    input.current?.focus();
  };

  const hasAnswer = answer.text !== '' || answer.streaming || answer.error !== undefined;
  return (
    <div className="quick-ask" ref={root}>
      <form
        className="quick-ask-input"
        onSubmit={(event) => {
          event.preventDefault();
          send();
        }}
      >
        <textarea
          ref={input}
          className="quick-ask-textarea"
          aria-label="Message"
          placeholder={asTask ? 'What should Claude do in this workspace?' : 'Ask Claude…'}
          rows={1}
          autoFocus
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {asTask && workspaces.length > 0 && (
          <select
            className="input quick-ask-workspace"
            aria-label="Workspace"
            value={workspace}
            onChange={(event) => setWorkspace(event.target.value)}
          >
            {workspaces.map((each) => (
              <option key={each.id} value={each.id}>
                {each.name}
              </option>
            ))}
          </select>
        )}
        {answer.streaming ? (
          <button className="button" type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          <button className="button primary" type="submit" disabled={question.trim() === '' || (asTask && !workspace)}>
            {asTask ? 'Start task' : 'Send'}
          </button>
        )}
      </form>
      {asTask && workspaces.length === 0 && (
        <p className="quick-ask-note">
          Add a workspace first: <code>npx perch workspace add &lt;folder&gt;</code>
        </p>
      )}
      {taskProblem && <ErrorNotice error={{ type: 'error', message: taskProblem }} />}
      {hasAnswer && (
        <section className="quick-ask-answer" aria-label="Answer" aria-busy={answer.streaming}>
          {asked && (
            <p className="quick-ask-question" aria-label="Your question">
              {asked}
            </p>
          )}
          {answer.text && (
            <Suspense fallback={<div className="plain-answer">{answer.text}</div>}>
              <StreamingMarkdown text={answer.text} streaming={answer.streaming} />
            </Suspense>
          )}
          {answer.streaming && !answer.text && <p className="quick-ask-waiting">Claude is thinking…</p>}
          {answer.stopped && <p className="quick-ask-note">Stopped. What arrived is saved.</p>}
          {answer.error && <ErrorNotice error={answer.error} />}
        </section>
      )}
      <footer className="quick-ask-footer">
        <span className="quick-ask-keys">
          <kbd>Enter</kbd> ask · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>Esc</kbd>{' '}
          {answer.streaming ? 'stop' : window.perch?.hideQuickAsk ? 'close' : 'clear'}
        </span>
        <span className="quick-ask-actions">
          <button className="button quiet" type="button" aria-pressed={asTask} onClick={toggleTask}>
            {asTask ? 'Just ask' : 'Run as task'}
          </button>
          {sessionId && !answer.streaming ? (
            <button className="button quiet" type="button" onClick={continueInChat}>
              Continue in chat
            </button>
          ) : (
            !window.perch && (
              // In a browser tab quick ask is one page among others: the way back to them.
              <a className="button quiet" href={chatHref()}>
                Chat
              </a>
            )
          )}
          {window.perch?.pinQuickAsk && (
            <button
              className="button quiet"
              type="button"
              aria-pressed={pinned}
              title={pinned ? 'Stays open when you click elsewhere' : 'Keep this window open when you click elsewhere'}
              onClick={togglePin}
            >
              {pinned ? 'Pinned' : 'Pin'}
            </button>
          )}
        </span>
      </footer>
      <AnswerStatus answer={answer} />
    </div>
  );
}

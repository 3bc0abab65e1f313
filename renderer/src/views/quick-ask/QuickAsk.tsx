import { lazy, Suspense, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { AnswerStatus } from '../../answers/AnswerStatus';
import { useAnswerStream } from '../../answers/use-answer-stream';
import { isImeComposing } from '../../app/keyboard';
import { chatHref, navigate } from '../../app/router';
import './quick-ask.css';

// The answer's renderer loads right after the input is up; until then text shows plain.
const loadMarkdown = () => import('../../markdown').then((module) => ({ default: module.StreamingMarkdown }));
const StreamingMarkdown = lazy(loadMarkdown);

/**
 * One question, one streamed answer, all by keyboard: Enter asks, Shift+Enter adds a line,
 * Esc stops an answer or dismisses the window. Follow-ups continue the same session.
 */
export function QuickAsk() {
  const [question, setQuestion] = useState('');
  const [pinned, setPinned] = useState(false);
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

  const send = (): void => {
    const text = question.trim();
    if (!text || answer.streaming) return;
    setQuestion('');
    void ask({ message: text, ...(sessionId ? { session_id: sessionId } : {}) });
  };

  const dismiss = (): void => {
    if (answer.streaming) {
      stop();
      return;
    }
    reset();
    setQuestion('');
    window.perch?.hideQuickAsk?.();
    input.current?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (isImeComposing(event)) return;
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      send();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      dismiss();
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
          placeholder="Ask Claude…"
          rows={1}
          autoFocus
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
          onKeyDown={onKeyDown}
        />
        {answer.streaming ? (
          <button className="button" type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          <button className="button primary" type="submit" disabled={question.trim() === ''}>
            Send
          </button>
        )}
      </form>
      {hasAnswer && (
        <section className="quick-ask-answer" aria-label="Answer" aria-busy={answer.streaming}>
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
          <kbd>Enter</kbd> ask · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>Esc</kbd> {answer.streaming ? 'stop' : 'close'}
        </span>
        <span className="quick-ask-actions">
          {sessionId && !answer.streaming && (
            <button className="button quiet" type="button" onClick={continueInChat}>
              Continue in chat
            </button>
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

import { lazy, memo, Suspense, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { formatCost, formatTokens } from '../../answers/format';
import type { Message } from '../../api/types';
import { useApi } from '../../app/api-context';
import { isSendKey } from '../../app/keyboard';
import { useCopy } from '../../app/use-copy';

const StreamingMarkdown = lazy(() => import('../../markdown').then((module) => ({ default: module.StreamingMarkdown })));

/** An attached file as a message shows it: its name, and a thumbnail for an image. */
export interface AttachmentView {
  name: string;
  /** A URL for the image's thumbnail, or a saved attachment to fetch one from. */
  preview?: string | { sessionId: string; attachmentId: string } | undefined;
}

/** A saved image's thumbnail, fetched with the page's own credentials (the desktop app's token cannot ride on an img src). */
function SavedThumbnail({ sessionId, attachmentId }: { sessionId: string; attachmentId: string }) {
  const { api } = useApi();
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    const controller = new AbortController();
    let objectUrl: string | undefined;
    const path = `/api/v1/sessions/${encodeURIComponent(sessionId)}/attachments/${encodeURIComponent(attachmentId)}`;
    api.blob(path, controller.signal).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      // A thumbnail is a nicety: the name still shows.
      () => undefined,
    );
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, sessionId, attachmentId]);
  return url ? <img className="chip-thumbnail" src={url} alt="" /> : <span aria-hidden="true">📎</span>;
}

function AttachmentChip({ attachment, onRemove }: { attachment: AttachmentView; onRemove?: (() => void) | undefined }) {
  const { preview } = attachment;
  return (
    <li className={`chip${preview ? ' with-thumbnail' : ''}`}>
      {typeof preview === 'string' ? (
        <img className="chip-thumbnail" src={preview} alt="" />
      ) : preview ? (
        <SavedThumbnail {...preview} />
      ) : (
        <span aria-hidden="true">📎</span>
      )}
      <span className="chip-name">{attachment.name}</span>
      {onRemove && (
        <button className="chip-remove" type="button" aria-label={`Remove ${attachment.name}`} onClick={onRemove}>
          ×
        </button>
      )}
    </li>
  );
}

export function AttachmentChips({
  attachments,
  label,
  onRemove,
}: {
  attachments: AttachmentView[];
  label: string;
  onRemove?: ((index: number) => void) | undefined;
}) {
  if (attachments.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label={label}>
      {attachments.map((attachment, index) => (
        <AttachmentChip
          key={`${attachment.name}-${index}`}
          attachment={attachment}
          onRemove={onRemove ? () => onRemove(index) : undefined}
        />
      ))}
    </ul>
  );
}

/** Edits a question in place: Enter sends it again (replacing what followed), Esc cancels. */
function QuestionEditor({ text, onSend, onCancel }: { text: string; onSend: (text: string) => void; onCancel: () => void }) {
  const [draft, setDraft] = useState(text);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, []);
  const send = (): void => {
    if (draft.trim() !== '') onSend(draft);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (isSendKey(event)) {
      event.preventDefault();
      send();
    } else if (event.key === 'Escape') {
      // The conversation's own Esc (stop an answer) must not fire as well.
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    }
  };
  return (
    <form
      className="question-editor"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <textarea
        ref={box}
        className="composer-input"
        aria-label="Edit your message"
        value={draft}
        rows={3}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <p className="message-note">Sending replaces this message and everything after it.</p>
      <div className="message-actions">
        <button className="button quiet" type="button" onClick={onCancel}>
          Cancel
        </button>
        <button className="button primary" type="submit" disabled={draft.trim() === ''}>
          Send
        </button>
      </div>
    </form>
  );
}

export function UserBubble({
  text,
  attachments,
  onEdit,
}: {
  text: string;
  attachments: AttachmentView[];
  /** Offered when the question may be edited and sent again. */
  onEdit?: ((text: string) => void) | undefined;
}) {
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const stopEditing = (): void => {
    setEditing(false);
    // Back where the person was, not at the top of the page.
    requestAnimationFrame(() => editButton.current?.focus());
  };
  return (
    <article className={`message user${editing ? ' editing' : ''}`} aria-label="You">
      <AttachmentChips attachments={attachments} label="Attachments" />
      {editing && onEdit ? (
        <QuestionEditor
          text={text}
          onCancel={stopEditing}
          onSend={(edited) => {
            setEditing(false);
            onEdit(edited);
          }}
        />
      ) : (
        <>
          {text && <div className="user-text">{text}</div>}
          {onEdit && (
            <div className="message-actions">
              <button ref={editButton} className="button quiet small" type="button" onClick={() => setEditing(true)}>
                Edit
              </button>
            </div>
          )}
        </>
      )}
    </article>
  );
}

export function AnswerBody({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <Suspense fallback={<div className="plain-answer">{text}</div>}>
      <StreamingMarkdown text={text} streaming={streaming} />
    </Suspense>
  );
}

/** Copy for any answer; Regenerate (or Retry, after a failure) for the last one. */
export function AnswerActions({
  text,
  again,
}: {
  text: string;
  again?: { label: 'Regenerate' | 'Retry'; run: () => void } | undefined;
}) {
  const { label, copy } = useCopy();
  if (!text && !again) return null;
  return (
    <div className="message-actions">
      {text && (
        <button className="button quiet small" type="button" onClick={() => copy(text)}>
          {label ?? 'Copy'}
        </button>
      )}
      {again && (
        <button className="button quiet small" type="button" onClick={again.run}>
          {again.label}
        </button>
      )}
      <span className="visually-hidden" role="status">
        {label === 'Copied' ? 'Answer copied to the clipboard' : label}
      </span>
    </div>
  );
}

interface MessageViewProps {
  message: Message;
  /** Edit a question (and send it again): offered on questions while the conversation is idle. */
  onEdit?: ((message: Message, text: string) => void) | undefined;
  /** Ask the last question again: offered on the last answer while the conversation is idle. */
  onAskAgain?: ((message: Message) => void) | undefined;
}

/** A saved message: the question as typed, or the answer rendered with its cost. */
export const MessageView = memo(function MessageView({ message, onEdit, onAskAgain }: MessageViewProps) {
  if (message.role === 'user') {
    return (
      <UserBubble
        text={message.content}
        attachments={message.attachments.map((attachment) => ({
          name: attachment.name,
          preview: attachment.media_type.startsWith('image/')
            ? { sessionId: message.session_id, attachmentId: attachment.id }
            : undefined,
        }))}
        onEdit={onEdit ? (text) => onEdit(message, text) : undefined}
      />
    );
  }
  const stopped = message.status === 'partial';
  const failed = message.status === 'error';
  return (
    <article className="message assistant" aria-label="Claude">
      {message.content && <AnswerBody text={message.content} streaming={false} />}
      {stopped && (
        <p className="message-note">
          {message.error?.type === 'cancelled'
            ? 'Stopped before the end.'
            : `Cut short: ${message.error?.message ?? 'the answer did not finish.'}`}
        </p>
      )}
      {failed && message.error && <ErrorNotice error={message.error} />}
      {message.usage && (
        <p
          className="message-meta"
          title={
            message.usage.estimated
              ? 'The answer ended early: its output tokens (and cost) are estimated from the text that arrived.'
              : undefined
          }
        >
          {message.model} · {formatTokens(message.usage)} · {message.usage.estimated ? '≈' : ''}
          {formatCost(message.cost_usd)}
        </p>
      )}
      <AnswerActions
        text={message.content}
        again={
          onAskAgain
            ? {
                label: failed || (stopped && message.error?.type !== 'cancelled') ? 'Retry' : 'Regenerate',
                run: () => onAskAgain(message),
              }
            : undefined
        }
      />
    </article>
  );
});

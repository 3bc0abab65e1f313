import { lazy, memo, Suspense } from 'react';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { formatCost, formatTokens } from '../../answers/format';
import type { Message } from '../../api/types';

const StreamingMarkdown = lazy(() => import('../../markdown').then((module) => ({ default: module.StreamingMarkdown })));

function AttachmentChips({ names }: { names: string[] }) {
  if (names.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label="Attachments">
      {names.map((name, index) => (
        <li key={`${name}-${index}`} className="chip">
          📎 {name}
        </li>
      ))}
    </ul>
  );
}

export function UserBubble({ text, attachments }: { text: string; attachments: string[] }) {
  return (
    <article className="message user" aria-label="You">
      <AttachmentChips names={attachments} />
      {text && <div className="user-text">{text}</div>}
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

/** A saved message: the question as typed, or the answer rendered with its cost. */
export const MessageView = memo(function MessageView({ message }: { message: Message }) {
  if (message.role === 'user') {
    return <UserBubble text={message.content} attachments={message.attachments.map((attachment) => attachment.name)} />;
  }
  const stopped = message.status === 'partial';
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
      {message.status === 'error' && message.error && <ErrorNotice error={message.error} />}
      {message.usage && (
        <p className="message-meta">
          {message.model} · {formatTokens(message.usage)} · {formatCost(message.cost_usd)}
        </p>
      )}
    </article>
  );
});

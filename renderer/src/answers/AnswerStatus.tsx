import type { AnswerState } from './use-answer-stream';

/** Tells a screen reader when Claude starts and finishes answering (the text itself is not read out as it streams). */
export function AnswerStatus({ answer }: { answer: Pick<AnswerState, 'streaming' | 'done'> }) {
  return (
    <p className="visually-hidden" role="status">
      {answer.streaming ? 'Claude is answering' : answer.done ? 'Answer complete' : ''}
    </p>
  );
}

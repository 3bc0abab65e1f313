import { ApiError, type PerchApi } from '../api/client';
import type { AnswerEvent, ChatAnswer, ChatRequest } from '../api/types';

export interface AnswerState {
  text: string;
  streaming: boolean;
  sessionId?: string;
  messageId?: string;
  done?: ChatAnswer;
  error?: { type: string; message: string };
  /** True when the person pressed Stop. */
  stopped: boolean;
}

export const IDLE_ANSWER: AnswerState = { text: '', streaming: false, stopped: false };

/**
 * Streams one answer from POST /api/v1/chat, telling `onChange` how it grows. Text pieces are
 * gathered and passed on once per animation frame, not once per token, so long answers stay
 * smooth. Resolves with the final state (done, stopped or failed); never rejects.
 */
export async function streamAnswer(
  api: PerchApi,
  request: ChatRequest,
  signal: AbortSignal,
  onChange: (state: AnswerState) => void,
): Promise<AnswerState> {
  let state: AnswerState = { text: '', streaming: true, stopped: false };
  let frame: number | undefined;
  const show = (): void => {
    if (frame !== undefined) cancelAnimationFrame(frame);
    frame = undefined;
    onChange(state);
  };
  onChange(state);

  const onEvent = (event: AnswerEvent): void => {
    switch (event.event) {
      case 'start':
        state = { ...state, sessionId: event.data.session_id, messageId: event.data.message_id };
        show();
        break;
      case 'delta':
        state = { ...state, text: state.text + event.data.text };
        frame ??= requestAnimationFrame(show);
        break;
      case 'done':
        state = { ...state, text: event.data.response, done: event.data };
        break;
      case 'error':
        state = {
          ...state,
          error: event.data.error,
          ...(event.data.session_id ? { sessionId: event.data.session_id } : {}),
          ...(event.data.message_id ? { messageId: event.data.message_id } : {}),
        };
        break;
    }
  };
  try {
    await api.stream('/api/v1/chat', request, onEvent, signal);
  } catch (error) {
    if ((error as Error).name === 'AbortError') state = { ...state, stopped: true };
    else if (error instanceof ApiError) state = { ...state, error: { type: error.type, message: error.message } };
    else state = { ...state, error: { type: 'error', message: (error as Error).message } };
  }
  state = { ...state, streaming: false };
  show();
  return state;
}

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import type { AnswerEvent, ChatAnswer, ChatRequest } from '../api/types';
import { useApi } from '../app/api-context';

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

const IDLE: AnswerState = { text: '', streaming: false, stopped: false };

/**
 * Streams one answer from POST /api/v1/chat. Text pieces are gathered and shown once per
 * animation frame, not once per token, so long answers stay smooth.
 */
export function useAnswerStream(): {
  answer: AnswerState;
  ask: (request: ChatRequest) => Promise<AnswerState>;
  stop: () => void;
  reset: () => void;
} {
  const { api } = useApi();
  const [answer, setAnswer] = useState<AnswerState>(IDLE);
  const controller = useRef<AbortController | undefined>(undefined);
  const pending = useRef('');
  const frame = useRef<number | undefined>(undefined);

  const flush = useCallback(() => {
    frame.current = undefined;
    const text = pending.current;
    pending.current = '';
    if (text) setAnswer((current) => ({ ...current, text: current.text + text }));
  }, []);

  useEffect(
    () => () => {
      controller.current?.abort();
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    },
    [],
  );

  const ask = useCallback(
    async (request: ChatRequest): Promise<AnswerState> => {
      controller.current?.abort();
      const current = new AbortController();
      controller.current = current;
      pending.current = '';
      let final: AnswerState = { text: '', streaming: true, stopped: false };
      setAnswer(final);
      const onEvent = (event: AnswerEvent): void => {
        switch (event.event) {
          case 'start':
            final = { ...final, sessionId: event.data.session_id, messageId: event.data.message_id };
            setAnswer((state) => ({ ...state, sessionId: event.data.session_id, messageId: event.data.message_id }));
            break;
          case 'delta':
            final = { ...final, text: final.text + event.data.text };
            pending.current += event.data.text;
            frame.current ??= requestAnimationFrame(flush);
            break;
          case 'done':
            final = { ...final, text: event.data.response, done: event.data };
            break;
          case 'error':
            final = { ...final, error: event.data.error };
            break;
        }
      };
      try {
        await api.stream('/api/v1/chat', request, onEvent, current.signal);
      } catch (error) {
        if ((error as Error).name === 'AbortError') final = { ...final, stopped: true };
        else if (error instanceof ApiError) final = { ...final, error: { type: error.type, message: error.message } };
        else final = { ...final, error: { type: 'error', message: (error as Error).message } };
      }
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
      frame.current = undefined;
      pending.current = '';
      final = { ...final, streaming: false };
      if (controller.current === current) setAnswer(final);
      return final;
    },
    [api, flush],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const reset = useCallback(() => {
    controller.current?.abort();
    setAnswer(IDLE);
  }, []);

  return { answer, ask, stop, reset };
}

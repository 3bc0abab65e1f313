import { useCallback, useEffect, useRef, useState } from 'react';
import type { ChatRequest } from '../api/types';
import { useApi } from '../app/api-context';
import { IDLE_ANSWER, streamAnswer, type AnswerState } from './answer-stream';

export type { AnswerState } from './answer-stream';

/** One answer at a time (quick ask): a new question stops the one before. */
export function useAnswerStream(): {
  answer: AnswerState;
  ask: (request: ChatRequest) => Promise<AnswerState>;
  stop: () => void;
  reset: () => void;
} {
  const { api } = useApi();
  const [answer, setAnswer] = useState<AnswerState>(IDLE_ANSWER);
  const controller = useRef<AbortController | undefined>(undefined);

  useEffect(() => () => controller.current?.abort(), []);

  const ask = useCallback(
    (request: ChatRequest): Promise<AnswerState> => {
      controller.current?.abort();
      const current = new AbortController();
      controller.current = current;
      return streamAnswer(api, request, current.signal, (state) => {
        if (controller.current === current) setAnswer(state);
      });
    },
    [api],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const reset = useCallback(() => {
    controller.current?.abort();
    controller.current = undefined;
    setAnswer(IDLE_ANSWER);
  }, []);

  return { answer, ask, stop, reset };
}

import { useCallback, useEffect, useRef, useState } from 'react';
import { streamAnswer, type AnswerState } from '../../answers/answer-stream';
import type { AttachmentUpload, ChatRequest } from '../../api/types';
import { useApi } from '../../app/api-context';

/** A question on its way and its answer as it streams, in one conversation. */
export interface LiveTurn {
  key: string;
  /** The session it was asked in; undefined for a new chat (its id comes with the first event). */
  askedIn: string | undefined;
  question: { text: string; files: AttachmentUpload[] };
  /** The saved question this one replaces (an edit, a retry or a regenerate). */
  replaceFrom: string | undefined;
  answer: AnswerState;
}

/** The conversation a turn belongs to: its session once known. */
export const sessionOf = (turn: LiveTurn): string | undefined => turn.answer.sessionId ?? turn.askedIn;

let nextKey = 0;

/**
 * Answers in several conversations at once: each turn streams, stops and fails on its own, so
 * a person can ask in a second chat while the first is still answering.
 */
export function useChatTurns(): {
  turns: LiveTurn[];
  ask: (request: ChatRequest, question: LiveTurn['question'], onBegin?: (key: string) => void) => Promise<LiveTurn>;
  stop: (key: string) => void;
  forget: (key: string) => void;
} {
  const { api } = useApi();
  const [turns, setTurns] = useState<LiveTurn[]>([]);
  const controllers = useRef(new Map<string, AbortController>());

  useEffect(() => {
    const running = controllers.current;
    return () => {
      for (const controller of running.values()) controller.abort();
    };
  }, []);

  const ask = useCallback(
    async (request: ChatRequest, question: LiveTurn['question'], onBegin?: (key: string) => void): Promise<LiveTurn> => {
      nextKey += 1;
      const controller = new AbortController();
      let turn: LiveTurn = {
        key: `turn-${nextKey}`,
        askedIn: request.session_id,
        question,
        replaceFrom: request.replace_from,
        answer: { text: '', streaming: true, stopped: false },
      };
      controllers.current.set(turn.key, controller);
      onBegin?.(turn.key);
      setTurns((current) => [...current, turn]);
      const answer = await streamAnswer(api, request, controller.signal, (state) => {
        turn = { ...turn, answer: state };
        const changed = turn;
        setTurns((current) => current.map((each) => (each.key === changed.key ? changed : each)));
      });
      controllers.current.delete(turn.key);
      return { ...turn, answer };
    },
    [api],
  );

  const stop = useCallback((key: string) => controllers.current.get(key)?.abort(), []);
  const forget = useCallback((key: string) => {
    controllers.current.get(key)?.abort();
    setTurns((current) => current.filter((turn) => turn.key !== key));
  }, []);

  return { turns, ask, stop, forget };
}

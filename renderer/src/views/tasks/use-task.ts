import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import type { Task, TaskEvent, TaskWithTranscript } from '../../api/types';
import { useApi } from '../../app/api-context';

/** The statuses in which a task's agent works (or waits its turn): the page follows it live. */
export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(['queued', 'running', 'needs_approval']);

export interface TaskState {
  task: Task | undefined;
  /** The saved events, in order. */
  events: TaskEvent[];
  /** Claude's words of the block being written now (live only; the saved `text` event replaces it). */
  liveText: string;
  error: string | undefined;
  /** Looks again (after a decision, a follow-up, a stop) and follows the task if it works. */
  refresh: () => void;
}

/**
 * A task and its transcript, followed live: the saved events first, then the event stream from
 * the last one seen while the agent works (picked up again after a dropped connection, or when a
 * follow-up starts another turn).
 */
export function useTask(taskId: string): TaskState {
  const { api } = useApi();
  const [task, setTask] = useState<Task | undefined>();
  const [events, setEvents] = useState<TaskEvent[]>([]);
  const [liveText, setLiveText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [generation, setGeneration] = useState(0);
  const lastSeq = useRef(0);

  const refresh = useCallback(() => setGeneration((value) => value + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    const summary = (): void => {
      api.get<Task>(`/api/v1/tasks/${encodeURIComponent(taskId)}`, signal).then(setTask, () => undefined);
    };
    const follow = async (): Promise<void> => {
      for (let attempt = 0; !signal.aborted && attempt < 20; attempt += 1) {
        // Set by the stream's last event; the loop reads it once the stream has closed.
        const turn = { ended: false };
        try {
          await api.follow(
            `/api/v1/tasks/${encodeURIComponent(taskId)}/events?after=${lastSeq.current}`,
            (event) => {
              if (event.event === 'text_delta') {
                setLiveText((text) => text + (event.data as { text: string }).text);
                return;
              }
              if (event.event === 'done') {
                turn.ended = true;
                setTask(event.data as Task);
                setLiveText('');
                return;
              }
              const seq = Number(event.id);
              if (!Number.isInteger(seq) || seq <= lastSeq.current) return;
              lastSeq.current = seq;
              const saved = { seq, type: event.event, data: event.data, created_at: new Date().toISOString() } as TaskEvent;
              setEvents((list) => [...list, saved]);
              if (event.event === 'text') setLiveText('');
              if (['status', 'permission_request', 'permission_decision', 'turn_end'].includes(event.event)) summary();
            },
            signal,
          );
        } catch (caught) {
          // A refusal (not the network, not this page leaving) ends the following.
          if (caught instanceof ApiError && caught.status !== 0) {
            setError(caught.message);
            return;
          }
        }
        if (turn.ended) return;
        // The connection dropped mid-turn: pick it up where it stopped.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    };
    api.get<TaskWithTranscript>(`/api/v1/tasks/${encodeURIComponent(taskId)}`, signal).then(
      (loaded) => {
        const { transcript, ...rest } = loaded;
        setTask(rest);
        setEvents(transcript);
        lastSeq.current = transcript.at(-1)?.seq ?? 0;
        setError(undefined);
        if (ACTIVE_STATUSES.has(loaded.status)) void follow();
      },
      (caught: unknown) => {
        if (!signal.aborted) setError(caught instanceof ApiError ? caught.message : 'This task could not be loaded.');
      },
    );
    return () => controller.abort();
  }, [api, taskId, generation]);

  return { task, events, liveText, error, refresh };
}

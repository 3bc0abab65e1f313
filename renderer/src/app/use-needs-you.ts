import { useEffect, useState } from 'react';
import type { TaskList } from '../api/types';
import { useApi } from './api-context';

/** How often the count is asked for while the page is in view (hidden pages ask nothing). */
const EVERY_MS = 4000;

/** How many permission requests wait for a person across all tasks: the "needs you" count. */
export function useNeedsYou(): number {
  const { api } = useApi();
  const [count, setCount] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = (): void => {
      clearTimeout(timer);
      if (document.visibilityState === 'visible') {
        api.get<TaskList>('/api/v1/tasks?limit=1', controller.signal).then(
          (list) => setCount(list.needs_approval),
          () => undefined,
        );
      }
      timer = setTimeout(ask, EVERY_MS);
    };
    ask();
    document.addEventListener('visibilitychange', ask);
    return () => {
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', ask);
    };
  }, [api]);
  return count;
}

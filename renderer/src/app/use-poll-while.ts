import { useEffect } from 'react';

/** Calls `poll` every `intervalMs` while `active` is true; nothing runs otherwise, so an idle page costs nothing. */
export function usePollWhile(active: boolean, poll: () => void, intervalMs: number): void {
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(poll, intervalMs);
    return () => clearInterval(timer);
  }, [active, poll, intervalMs]);
}

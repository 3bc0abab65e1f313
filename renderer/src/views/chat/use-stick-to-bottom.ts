import { useCallback, useEffect, useRef, useState } from 'react';

const NEAR_BOTTOM_PX = 48;

/**
 * Keeps a scrolling list at its bottom while content grows, unless the person scrolled up to
 * read; then offers a way back ("Jump to latest").
 */
export function useStickToBottom<T extends HTMLElement>(): {
  ref: React.RefObject<T | null>;
  atBottom: boolean;
  jumpToLatest: () => void;
} {
  const ref = useRef<T>(null);
  const [atBottom, setAtBottom] = useState(true);
  const stick = useRef(true);

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onScroll = (): void => {
      const near = element.scrollHeight - element.scrollTop - element.clientHeight < NEAR_BOTTOM_PX;
      stick.current = near;
      setAtBottom(near);
    };
    // Content growth (streaming text, images loading) scrolls only while stuck to the bottom.
    const observer = new ResizeObserver(() => {
      if (stick.current) element.scrollTop = element.scrollHeight;
    });
    element.addEventListener('scroll', onScroll, { passive: true });
    for (const child of Array.from(element.children)) observer.observe(child);
    const mutations = new MutationObserver(() => {
      for (const child of Array.from(element.children)) observer.observe(child);
      if (stick.current) element.scrollTop = element.scrollHeight;
    });
    mutations.observe(element, { childList: true, subtree: true, characterData: true });
    return () => {
      element.removeEventListener('scroll', onScroll);
      observer.disconnect();
      mutations.disconnect();
    };
  }, []);

  const jumpToLatest = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    stick.current = true;
    setAtBottom(true);
    element.scrollTo({ top: element.scrollHeight, behavior: 'smooth' });
  }, []);

  return { ref, atBottom, jumpToLatest };
}

import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

const NEAR_BOTTOM_PX = 48;

/**
 * Keeps a scrolling list at its bottom while its content grows, unless the person scrolled up
 * to read; then offers a way back ("Jump to latest"). One ResizeObserver on the content
 * (at most one callback per frame) does the following, so streaming text costs no extra layout.
 */
export function useStickToBottom<Scroller extends HTMLElement, Content extends HTMLElement>(): {
  scrollerRef: RefObject<Scroller | null>;
  contentRef: RefObject<Content | null>;
  atBottom: boolean;
  jumpToLatest: () => void;
} {
  const scrollerRef = useRef<Scroller>(null);
  const contentRef = useRef<Content>(null);
  const [atBottom, setAtBottom] = useState(true);
  const stick = useRef(true);

  useEffect(() => {
    const scroller = scrollerRef.current;
    const content = contentRef.current;
    if (!scroller || !content) return;
    const onScroll = (): void => {
      const near = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM_PX;
      stick.current = near;
      setAtBottom(near);
    };
    const observer = new ResizeObserver(() => {
      if (stick.current) scroller.scrollTop = scroller.scrollHeight;
    });
    scroller.addEventListener('scroll', onScroll, { passive: true });
    observer.observe(content);
    return () => {
      scroller.removeEventListener('scroll', onScroll);
      observer.disconnect();
    };
  }, []);

  const jumpToLatest = useCallback(() => {
    const scroller = scrollerRef.current;
    if (!scroller) return;
    stick.current = true;
    setAtBottom(true);
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: 'smooth' });
  }, []);

  return { scrollerRef, contentRef, atBottom, jumpToLatest };
}

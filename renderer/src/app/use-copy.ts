import { useCallback, useEffect, useState } from 'react';

/** How long "Copied" shows after a copy. */
export const COPY_FEEDBACK_MS = 1500;

export type CopyLabel = 'Copied' | 'Copy failed';

/**
 * Puts text on the clipboard. navigator.clipboard exists only in secure contexts (https,
 * localhost, the desktop app); a phone on plain http gets the older selection-based copy.
 */
export async function copyText(text: string): Promise<void> {
  // Typed as always there, but absent outside secure contexts.
  const clipboard = navigator.clipboard as Clipboard | undefined;
  if (clipboard) return clipboard.writeText(text);
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the only copy a page served over plain http has.
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('The browser refused to copy.');
}

/** A Copy button's state: call `copy(text)`; `label` says how it went for a moment. */
export function useCopy(): { label: CopyLabel | undefined; copy: (text: string) => void } {
  // A fresh object per copy, so a second click restarts the timer.
  const [feedback, setFeedback] = useState<{ label: CopyLabel } | undefined>();

  useEffect(() => {
    if (!feedback) return;
    const timer = setTimeout(() => setFeedback(undefined), COPY_FEEDBACK_MS);
    return () => clearTimeout(timer);
  }, [feedback]);

  const copy = useCallback((text: string) => {
    copyText(text).then(
      () => setFeedback({ label: 'Copied' }),
      () => setFeedback({ label: 'Copy failed' }),
    );
  }, []);

  return { label: feedback?.label, copy };
}

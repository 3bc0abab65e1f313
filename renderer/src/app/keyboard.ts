import type { KeyboardEvent } from 'react';

/**
 * True while an input method is composing (Japanese, Chinese, Korean…): Enter then confirms
 * the composition and must not send. Safari reports it only through keyCode 229.
 */
export function isImeComposing(event: KeyboardEvent): boolean {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- keyCode is the only signal Safari gives.
  return event.nativeEvent.isComposing || event.keyCode === 229;
}

/** Enter sends a message box; Shift+Enter is a new line, and Enter that ends a composition is not a send. */
export const isSendKey = (event: KeyboardEvent): boolean => event.key === 'Enter' && !event.shiftKey && !isImeComposing(event);

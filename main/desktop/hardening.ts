import type { WebContents } from 'electron';
import { APP_ORIGIN } from './app-protocol.js';

/** Only a well-formed https URL may leave the app, and only to the default browser. */
export function externalUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' && url.hostname !== '' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** What a permission request from a page gets: nothing, except writing to the clipboard (the copy buttons). */
export function permissionAllowed(permission: string, requestingUrl: string): boolean {
  return permission === 'clipboard-sanitized-write' && requestingUrl.startsWith(`${APP_ORIGIN}/`);
}

type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/**
 * A window shows Perch's own pages only: navigating elsewhere is stopped, new windows are
 * refused, and an https link is handed to the default browser instead.
 */
export function guardContents(contents: GuardedContents, openExternal: (url: string) => void): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) {
      event.preventDefault();
      const external = externalUrl(url);
      if (external) openExternal(external);
    }
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const external = externalUrl(url);
    if (external) openExternal(external);
    return { action: 'deny' };
  });
}

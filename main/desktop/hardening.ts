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

/**
 * What Perch's own pages may do: write to the clipboard (the copy buttons) and reach the local
 * service. Chromium's Local Network Access treats a custom-scheme origin such as perch://app as
 * public, so its fetches to http://127.0.0.1 need `loopback-network` (`local-network` when the
 * service is bound to a LAN address; `local-network-access` is the older name of both). The
 * page's content security policy still limits those fetches to the service's own origin.
 */
const OWN_PAGE_PERMISSIONS = new Set(['clipboard-sanitized-write', 'loopback-network', 'local-network', 'local-network-access']);

/** What a permission request from a page gets: nothing, except what Perch's own pages need. */
export function permissionAllowed(permission: string, requestingUrl: string): boolean {
  return OWN_PAGE_PERMISSIONS.has(permission) && requestingUrl.startsWith(`${APP_ORIGIN}/`);
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

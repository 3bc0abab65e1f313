import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { externalUrl, guardContents, permissionAllowed } from '../../main/desktop/hardening.js';

describe('externalUrl', () => {
  it('lets a well-formed https URL out, normalised', () => {
    expect(externalUrl('https://docs.anthropic.com/en/api')).toBe('https://docs.anthropic.com/en/api');
    expect(externalUrl('HTTPS://Example.COM')).toBe('https://example.com/');
  });

  it('refuses every other scheme', () => {
    for (const url of [
      'http://example.com/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/html,<script>alert(1)</script>',
      'perch://app/index.html',
      'mailto:someone@example.com',
      'vbscript:msgbox',
    ]) {
      expect(externalUrl(url), url).toBeUndefined();
    }
  });

  it('refuses malformed URLs', () => {
    expect(externalUrl('')).toBeUndefined();
    expect(externalUrl('not a url')).toBeUndefined();
    expect(externalUrl('https://')).toBeUndefined();
    expect(externalUrl('https://exa mple.com/')).toBeUndefined();
  });
});

describe('permissionAllowed', () => {
  it("allows Perch's own pages to write to the clipboard (the copy buttons)", () => {
    expect(permissionAllowed('clipboard-sanitized-write', 'perch://app/index.html#/chat')).toBe(true);
  });

  it('refuses clipboard writes from any other origin', () => {
    expect(permissionAllowed('clipboard-sanitized-write', 'https://example.com/')).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', 'perch://app.evil/index.html')).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', 'perch://app')).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', '')).toBe(false);
  });

  it("lets Perch's own pages reach the local service under Local Network Access (perch://app counts as public)", () => {
    for (const permission of ['loopback-network', 'local-network', 'local-network-access']) {
      expect(permissionAllowed(permission, 'perch://app/index.html#/chat'), permission).toBe(true);
    }
  });

  it('refuses local network access to any other origin', () => {
    for (const origin of [
      'https://example.com/',
      'http://127.0.0.1:8080/',
      'perch://app.evil/index.html',
      'file:///tmp/x.html',
    ]) {
      expect(permissionAllowed('loopback-network', origin), origin).toBe(false);
      expect(permissionAllowed('local-network-access', origin), origin).toBe(false);
    }
  });

  it('refuses every other permission, even to its own pages', () => {
    for (const permission of ['clipboard-read', 'media', 'geolocation', 'notifications', 'openExternal', 'fullscreen']) {
      expect(permissionAllowed(permission, 'perch://app/index.html'), permission).toBe(false);
    }
  });
});

type WindowOpenHandler = (details: { url: string }) => { action: string };

/** A web contents as far as the guard sees it: events, and the window-open handler it installs. */
class FakeContents extends EventEmitter {
  windowOpenHandler: WindowOpenHandler | undefined;

  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler;
  }

  /** Emits a cancellable event the way Electron does; true when the page's action was stopped. */
  attempt(event: 'will-navigate' | 'will-attach-webview', url?: string): boolean {
    const preventDefault = vi.fn();
    this.emit(event, { preventDefault }, url);
    return preventDefault.mock.calls.length > 0;
  }

  open(url: string): { action: string } {
    if (!this.windowOpenHandler) throw new Error('no window-open handler installed');
    return this.windowOpenHandler({ url });
  }
}

function guarded(): { contents: FakeContents; opened: string[] } {
  const contents = new FakeContents();
  const opened: string[] = [];
  guardContents(contents as unknown as Parameters<typeof guardContents>[0], (url) => opened.push(url));
  return { contents, opened };
}

describe('guardContents', () => {
  it("lets a window move between Perch's own pages", () => {
    const { contents, opened } = guarded();
    expect(contents.attempt('will-navigate', 'perch://app/index.html#/settings')).toBe(false);
    expect(opened).toEqual([]);
  });

  it('stops navigation to another origin and opens an https target in the browser instead', () => {
    const { contents, opened } = guarded();
    expect(contents.attempt('will-navigate', 'https://example.com/page')).toBe(true);
    expect(opened).toEqual(['https://example.com/page']);
  });

  it('stops navigation to a non-https target without opening anything', () => {
    const { contents, opened } = guarded();
    for (const url of [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'perch://app.evil/',
      'perch://other/',
    ]) {
      expect(contents.attempt('will-navigate', url), url).toBe(true);
    }
    expect(opened).toEqual([]);
  });

  it('denies every new window, handing an https link to the browser', () => {
    const { contents, opened } = guarded();
    expect(contents.open('https://example.com/docs')).toEqual({ action: 'deny' });
    expect(contents.open('http://example.com/')).toEqual({ action: 'deny' });
    expect(contents.open('perch://app/index.html')).toEqual({ action: 'deny' });
    expect(contents.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://example.com/docs']);
  });

  it('prevents attaching webviews', () => {
    const { contents, opened } = guarded();
    expect(contents.attempt('will-attach-webview')).toBe(true);
    expect(opened).toEqual([]);
  });
});

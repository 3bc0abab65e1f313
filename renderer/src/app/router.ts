import { useSyncExternalStore } from 'react';

/** The views, addressed by hash so the same build works from a file, a server or a desktop window. */
export type Route =
  | { view: 'chat'; sessionId?: string }
  | { view: 'quick-ask' }
  | { view: 'settings'; section?: string }
  | { view: 'jobs' }
  | { view: 'usage' }
  | { view: 'tasks'; taskId?: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const [view, id] = path.split('/');
  if (view === 'quick-ask') return { view: 'quick-ask' };
  if (view === 'settings') return id ? { view: 'settings', section: decodeURIComponent(id) } : { view: 'settings' };
  if (view === 'jobs') return { view: 'jobs' };
  if (view === 'usage') return { view: 'usage' };
  if (view === 'tasks') return id ? { view: 'tasks', taskId: decodeURIComponent(id) } : { view: 'tasks' };
  return id ? { view: 'chat', sessionId: decodeURIComponent(id) } : { view: 'chat' };
}

export const chatHref = (sessionId?: string): string => (sessionId ? `#/chat/${encodeURIComponent(sessionId)}` : '#/chat');

/** Settings, scrolled to one of its sections when named. */
export const settingsHref = (section?: string): string => (section ? `#/settings/${encodeURIComponent(section)}` : '#/settings');

export const taskHref = (taskId?: string): string => (taskId ? `#/tasks/${encodeURIComponent(taskId)}` : '#/tasks');

export function navigate(href: string): void {
  if (window.location.hash !== href) window.location.hash = href;
}

const subscribe = (onChange: () => void): (() => void) => {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}

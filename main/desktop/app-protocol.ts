import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DESKTOP_APP_ORIGIN } from '../api/guards.js';

/**
 * The desktop windows load the UI from `perch://app/`, served from the app's own files: never
 * a remote page, and an origin of its own that the local API knows (DESKTOP_APP_ORIGIN).
 */
export const APP_ORIGIN = DESKTOP_APP_ORIGIN;
export const APP_SCHEME = new URL(APP_ORIGIN).protocol.slice(0, -1);

/** The address of a view of the UI, e.g. `perch://app/index.html#/quick-ask`. */
export const appPageUrl = (route: string): string => `${APP_ORIGIN}/index.html#/${route.replace(/^[#/]+/, '')}`;

/**
 * The service's origin as the windows should use it. A wildcard bind address (`api.host`
 * 0.0.0.0 or ::) is not one to connect to: Chromium refuses 0.0.0.0 and the service's Host
 * check knows it by no name. A wildcard listener also answers on loopback, so the windows use that.
 */
export function serviceOriginForWindows(serviceUrl: string): string {
  const url = new URL(serviceUrl);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  return url.origin;
}

/** The scheme must be registered as privileged before the app is ready. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
} as const;

/**
 * The page may run only its own scripts and talk only to the local service. Styles allow
 * inline attributes (React's `style`), and images data:/blob: (pasted attachments).
 */
export function contentSecurityPolicy(serviceOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${serviceOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file inside `rendererDir` a `perch://app/…` URL names, or undefined for another host or
 * a path that would leave the folder. `/` is the app's index.html.
 */
export function rendererFileFor(rendererDir: string, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (`${parsed.protocol}//${parsed.host}` !== APP_ORIGIN) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, `.${pathname === '/' ? '/index.html' : pathname}`);
  return file.startsWith(root + path.sep) ? file : undefined;
}

/** Answers one request for the UI's files (the handler given to `protocol.handle`). */
export async function serveRendererFile(rendererDir: string, url: string, serviceOrigin: () => string): Promise<Response> {
  const file = rendererFileFor(rendererDir, url);
  if (!file) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(file);
    const extension = path.extname(file).toLowerCase();
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
    };
    // Every page served as HTML gets the policy (`INDEX.HTML` reads index.html on macOS and Windows).
    if (extension === '.html') headers['content-security-policy'] = contentSecurityPolicy(serviceOrigin());
    return new Response(body, { status: 200, headers });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

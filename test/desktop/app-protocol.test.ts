import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  APP_SCHEME_PRIVILEGES,
  appPageUrl,
  contentSecurityPolicy,
  rendererFileFor,
  serveRendererFile,
  serviceOriginForWindows,
} from '../../main/desktop/app-protocol.js';

const SERVICE_ORIGIN = 'http://127.0.0.1:4873';

describe('appPageUrl', () => {
  it('addresses a route of the UI inside perch://app/index.html', () => {
    expect(APP_ORIGIN).toBe('perch://app');
    expect(appPageUrl('quick-ask')).toBe('perch://app/index.html#/quick-ask');
    expect(appPageUrl('chat/abc')).toBe('perch://app/index.html#/chat/abc');
  });

  it('accepts a route written with a leading # or /', () => {
    expect(appPageUrl('/settings')).toBe('perch://app/index.html#/settings');
    expect(appPageUrl('#/settings')).toBe('perch://app/index.html#/settings');
  });
});

describe('serviceOriginForWindows', () => {
  it('hands the windows loopback when the service listens on every address (api.host 0.0.0.0 or ::)', () => {
    expect(serviceOriginForWindows('http://0.0.0.0:8080')).toBe('http://127.0.0.1:8080');
    expect(serviceOriginForWindows('http://[::]:8080')).toBe('http://127.0.0.1:8080');
  });

  it('keeps an address the service listens on by name', () => {
    expect(serviceOriginForWindows('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(serviceOriginForWindows('http://[::1]:8080')).toBe('http://[::1]:8080');
    expect(serviceOriginForWindows('http://192.168.1.20:8080')).toBe('http://192.168.1.20:8080');
  });
});

describe('APP_SCHEME_PRIVILEGES', () => {
  it('registers perch: as a standard, secure scheme that may use fetch', () => {
    expect(APP_SCHEME_PRIVILEGES.scheme).toBe('perch');
    expect(APP_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true, supportFetchAPI: true });
  });
});

describe('contentSecurityPolicy', () => {
  const policy = contentSecurityPolicy(SERVICE_ORIGIN);
  const directives = new Map(
    policy.split('; ').map((directive) => {
      const [name = '', ...values] = directive.split(' ');
      return [name, values.join(' ')] as const;
    }),
  );

  it('denies everything by default', () => {
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
  });

  it("runs only the app's own scripts, never inline ones", () => {
    expect(directives.get('script-src')).toBe("'self'");
  });

  it('lets the page talk to the local service only', () => {
    expect(directives.get('connect-src')).toBe(SERVICE_ORIGIN);
  });

  it('allows inline style attributes and data:/blob: images (pasted attachments)', () => {
    expect(directives.get('style-src')).toBe("'self' 'unsafe-inline'");
    expect(directives.get('img-src')).toBe("'self' data: blob:");
  });
});

describe('rendererFileFor', () => {
  const root = path.resolve('/opt/perch/renderer');

  it('maps a perch://app/ path to the file inside the renderer folder', () => {
    expect(rendererFileFor(root, 'perch://app/assets/index-1a2b.js')).toBe(path.join(root, 'assets', 'index-1a2b.js'));
  });

  it('serves index.html for the root', () => {
    expect(rendererFileFor(root, 'perch://app/')).toBe(path.join(root, 'index.html'));
  });

  it('ignores the query and the #route', () => {
    expect(rendererFileFor(root, 'perch://app/index.html?v=2#/chat/abc')).toBe(path.join(root, 'index.html'));
  });

  it('decodes percent-encoded names', () => {
    expect(rendererFileFor(root, 'perch://app/fonts/Inter%20Var.woff2')).toBe(path.join(root, 'fonts', 'Inter Var.woff2'));
  });

  it('refuses another host or scheme', () => {
    expect(rendererFileFor(root, 'perch://other/index.html')).toBeUndefined();
    expect(rendererFileFor(root, 'perch://app.evil.example/index.html')).toBeUndefined();
    expect(rendererFileFor(root, 'perch://app:8080/index.html')).toBeUndefined();
    expect(rendererFileFor(root, 'https://app/index.html')).toBeUndefined();
    expect(rendererFileFor(root, 'file:///opt/perch/renderer/index.html')).toBeUndefined();
  });

  it('never leaves the renderer folder', () => {
    const inside = (url: string): boolean => {
      const file = rendererFileFor(root, url);
      return file === undefined || file.startsWith(root + path.sep);
    };
    for (const url of [
      'perch://app/../../etc/passwd',
      'perch://app/%2e%2e/%2e%2e/etc/passwd',
      'perch://app/%2E%2E/secret',
      'perch://app/.%2e/secret',
      'perch://app/assets/..%2F..%2F..%2Fetc%2Fpasswd',
      'perch://app/..%2f..%2fetc%2fpasswd',
      'perch://app/%2Fetc%2Fpasswd',
      'perch://app/..%5C..%5Cwindows%5Cwin.ini',
    ]) {
      expect(inside(url), url).toBe(true);
    }
  });

  it('refuses an encoded path that climbs out of the folder', () => {
    expect(rendererFileFor(root, 'perch://app/assets/..%2F..%2F..%2Fetc%2Fpasswd')).toBeUndefined();
    expect(rendererFileFor(root, 'perch://app/..%2Frenderer-secrets%2Fkey')).toBeUndefined();
  });

  it('refuses a path that names the renderer folder itself', () => {
    expect(rendererFileFor(root, 'perch://app/assets%2F..')).toBeUndefined();
  });

  it('refuses a NUL byte', () => {
    expect(rendererFileFor(root, 'perch://app/index.html%00.png')).toBeUndefined();
  });

  it('refuses malformed URLs and broken percent-encoding', () => {
    expect(rendererFileFor(root, 'not a url')).toBeUndefined();
    expect(rendererFileFor(root, '')).toBeUndefined();
    expect(rendererFileFor(root, 'perch://app/%E0%A4%A')).toBeUndefined();
    expect(rendererFileFor(root, 'perch://app/%')).toBeUndefined();
  });
});

describe('serveRendererFile', () => {
  let rendererDir: string;
  let outside: string;
  let askedForOrigin = 0;
  const serviceOrigin = (): string => {
    askedForOrigin += 1;
    return SERVICE_ORIGIN;
  };

  beforeAll(() => {
    outside = mkdtempSync(path.join(tmpdir(), 'perch-app-protocol-'));
    rendererDir = path.join(outside, 'renderer');
    mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Perch</title>');
    writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("perch")');
    writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body{}');
    writeFileSync(path.join(rendererDir, 'assets', 'blob.bin'), Buffer.from([0, 1, 2]));
    writeFileSync(path.join(rendererDir, 'SHOUTING.HTML'), '<p>upper case</p>');
    writeFileSync(path.join(outside, 'secret.txt'), 'not for the page');
  });

  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it('answers index.html for the root, with its bytes, type, nosniff and the CSP', async () => {
    askedForOrigin = 0;
    const response = await serveRendererFile(rendererDir, 'perch://app/', serviceOrigin);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<!doctype html><title>Perch</title>');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy');
    expect(csp).toBe(contentSecurityPolicy(SERVICE_ORIGIN));
    expect(csp).toContain(`connect-src ${SERVICE_ORIGIN}`);
    expect(askedForOrigin).toBe(1);
  });

  it('asks for the service origin on each page, so a port change is honoured', async () => {
    let origin = 'http://127.0.0.1:1111';
    const first = await serveRendererFile(rendererDir, 'perch://app/index.html', () => origin);
    origin = 'http://127.0.0.1:2222';
    const second = await serveRendererFile(rendererDir, 'perch://app/index.html', () => origin);
    expect(first.headers.get('content-security-policy')).toContain('connect-src http://127.0.0.1:1111');
    expect(second.headers.get('content-security-policy')).toContain('connect-src http://127.0.0.1:2222');
  });

  it('serves scripts and styles with their types and nosniff, without a CSP', async () => {
    const script = await serveRendererFile(rendererDir, 'perch://app/assets/app.js', serviceOrigin);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('x-content-type-options')).toBe('nosniff');
    expect(script.headers.get('content-security-policy')).toBeNull();
    expect(await script.text()).toBe('console.log("perch")');

    const style = await serveRendererFile(rendererDir, 'perch://app/assets/app.css', serviceOrigin);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(style.headers.get('content-security-policy')).toBeNull();
  });

  it('serves an unknown extension as octet-stream', async () => {
    const response = await serveRendererFile(rendererDir, 'perch://app/assets/blob.bin', serviceOrigin);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2]));
  });

  it('puts the CSP on every page served as HTML, whatever the case of its extension', async () => {
    const response = await serveRendererFile(rendererDir, 'perch://app/SHOUTING.HTML', serviceOrigin);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(contentSecurityPolicy(SERVICE_ORIGIN));
  });

  it('answers 404 for a missing file or a folder', async () => {
    for (const url of ['perch://app/missing.js', 'perch://app/assets/', 'perch://app/assets']) {
      const response = await serveRendererFile(rendererDir, url, serviceOrigin);
      expect(response.status, url).toBe(404);
    }
  });

  it('answers 404 for files outside the folder and for other hosts', async () => {
    for (const url of [
      'perch://app/..%2Fsecret.txt',
      'perch://app/assets/..%2F..%2Fsecret.txt',
      'perch://elsewhere/index.html',
      'perch://app/index.html%00',
    ]) {
      const response = await serveRendererFile(rendererDir, url, serviceOrigin);
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toContain('not for the page');
    }
  });
});

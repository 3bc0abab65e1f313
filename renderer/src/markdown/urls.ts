const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const IMAGE_PROTOCOLS = new Set(['http:', 'https:']);

/**
 * `url` if it is absolute and uses an allowed protocol, otherwise undefined. The URL parser decides the
 * protocol exactly as the browser will (it strips the tabs and newlines of `java\nscript:`), and relative
 * URLs have no meaning in an answer from Claude.
 */
function allowed(url: string, protocols: ReadonlySet<string>): string | undefined {
  try {
    return protocols.has(new URL(url.trim()).protocol) ? url.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** A link target that may open outside the app: http(s) or mailto. */
export function safeLinkHref(url: string): string | undefined {
  return allowed(url, LINK_PROTOCOLS);
}

/** An image address worth offering as a link: http(s) only (`data:` and the rest are dropped). */
export function safeImageSrc(url: string): string | undefined {
  return allowed(url, IMAGE_PROTOCOLS);
}

/** react-markdown's urlTransform: drops every URL attribute that is not allowed (the element then renders as text). */
export function transformUrl(url: string, key: string): string | null {
  return (key === 'src' ? safeImageSrc(url) : safeLinkHref(url)) ?? null;
}

/**
 * Syntax highlighting for finished code blocks, with shiki loaded on first use.
 *
 * Nothing here is imported up front: shiki's core, the JavaScript regex engine and the two themes are
 * loaded with `import()` the first time a finished code block asks for colours, and each grammar is its
 * own lazily loaded chunk (shiki's `bundledLanguages` map is a table of `import()` calls). The
 * highlighter and every grammar are loaded once and cached.
 *
 * The JavaScript regex engine translates the grammars' Oniguruma patterns into native `RegExp`s
 * (oniguruma-to-es builds them with the `RegExp` constructor): no WebAssembly, no `eval` and no
 * `new Function`, so it runs under the app's CSP (`script-src 'self'`, no `'unsafe-eval'`).
 */
import type { HighlighterCore, ThemeRegistration } from 'shiki/core';

/** The two themes, rendered together: shiki writes both colours as CSS variables (see markdown.css). */
export const LIGHT_THEME = 'github-light';
export const DARK_THEME = 'github-dark';

/** Longer code is shown as plain text: highlighting runs on the main thread. */
export const MAX_HIGHLIGHT_LENGTH = 200_000;

const PLAIN_LANGUAGES = new Set(['', 'text', 'txt', 'plain', 'plaintext']);

let highlighter: Promise<HighlighterCore> | undefined;
/** Canonical language id → whether its grammar loaded. */
const languages = new Map<string, Promise<boolean>>();
/** Recently highlighted code, so a remounted block shows its colours at once. */
const recent = new Map<string, string>();
const RECENT_LIMIT = 200;

/**
 * The GitHub themes' comment grey is under 4.5:1 on Perch's code background in either theme
 * (4.3 light, 2.9 dark): the same themes with comments a shade that reads (5.1 and 5.0).
 */
export const COMMENT_COLORS = { light: '#5f6770', dark: '#959da5' } as const;

function withReadableComments(theme: ThemeRegistration, color: string): ThemeRegistration {
  const isComment = (scope: unknown): boolean => (Array.isArray(scope) ? scope.includes('comment') : scope === 'comment');
  return {
    ...theme,
    tokenColors: (theme.tokenColors ?? []).map((rule) =>
      isComment(rule.scope) ? { ...rule, settings: { ...rule.settings, foreground: color } } : rule,
    ),
  };
}

async function createHighlighter(): Promise<HighlighterCore> {
  const [{ createHighlighterCore }, { createJavaScriptRegexEngine }, light, dark] = await Promise.all([
    import('shiki/core'),
    import('@shikijs/engine-javascript'),
    import('shiki/themes/github-light.mjs'),
    import('shiki/themes/github-dark.mjs'),
  ]);
  return createHighlighterCore({
    themes: [withReadableComments(light.default, COMMENT_COLORS.light), withReadableComments(dark.default, COMMENT_COLORS.dark)],
    langs: [],
    // Forgiving: a grammar pattern the engine cannot translate is skipped instead of failing the language.
    engine: createJavaScriptRegexEngine({ forgiving: true }),
  });
}

/** The shared highlighter, created on first call. */
export function loadHighlighter(): Promise<HighlighterCore> {
  if (!highlighter) {
    const loading = createHighlighter();
    highlighter = loading;
    // A failed load (say, a missing chunk after an update) may be retried by the next code block.
    loading.catch(() => {
      if (highlighter === loading) highlighter = undefined;
    });
  }
  return highlighter;
}

/** Whether loadHighlighter has been called (and not failed). */
export function isHighlighterRequested(): boolean {
  return highlighter !== undefined;
}

/** The canonical shiki id for a fence's language (`ts` → `typescript`), or undefined when shiki has no grammar for it. */
export async function resolveLanguage(lang: string | undefined): Promise<string | undefined> {
  const name = (lang ?? '').trim().toLowerCase();
  if (PLAIN_LANGUAGES.has(name)) return undefined;
  const { bundledLanguagesInfo } = await import('shiki/langs');
  return bundledLanguagesInfo.find((info) => info.id === name || info.aliases?.includes(name))?.id;
}

function loadLanguage(core: HighlighterCore, id: string): Promise<boolean> {
  let loaded = languages.get(id);
  if (!loaded) {
    loaded = import('shiki/langs')
      .then(async ({ bundledLanguages }) => {
        const grammar = bundledLanguages[id as keyof typeof bundledLanguages];
        await core.loadLanguage(grammar);
        return true;
      })
      .catch(() => {
        languages.delete(id);
        return false;
      });
    languages.set(id, loaded);
  }
  return loaded;
}

function cacheKey(code: string, lang: string | undefined): string {
  return `${lang ?? ''}\n${code}`;
}

/** Highlighted HTML already computed for this code, if any (synchronous: no loading). */
export function peekHighlighted(code: string, lang: string | undefined): string | undefined {
  return recent.get(cacheKey(code, lang));
}

/**
 * Highlights `code` as `lang` with both themes. Resolves to shiki's HTML (`<pre class="shiki">…`), or
 * undefined when the language is unknown, plain text, or the code too long — show plain text then.
 *
 * The HTML is produced by shiki from tokens: every piece of `code` is escaped by its HTML serializer,
 * so it is safe to insert with dangerouslySetInnerHTML. Nothing else may be inserted that way.
 */
export async function highlight(code: string, lang: string | undefined): Promise<string | undefined> {
  const key = cacheKey(code, lang);
  const cached = recent.get(key);
  if (cached !== undefined) return cached;
  if (code.length > MAX_HIGHLIGHT_LENGTH) return undefined;
  const id = await resolveLanguage(lang);
  if (!id) return undefined;
  const core = await loadHighlighter();
  if (!(await loadLanguage(core, id))) return undefined;
  const html = core.codeToHtml(code, {
    lang: id,
    themes: { light: LIGHT_THEME, dark: DARK_THEME },
    // No inline colour wins: markdown.css picks --shiki-light or --shiki-dark from the page theme.
    defaultColor: false,
  });
  recent.set(key, html);
  if (recent.size > RECENT_LIMIT) {
    const oldest = recent.keys().next();
    if (!oldest.done) recent.delete(oldest.value);
  }
  return html;
}

export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'perch.theme';

/** Applies the theme to the page; "system" follows prefers-color-scheme. Remembered for the next first paint. */
export function applyTheme(theme: ThemeChoice): void {
  if (theme === 'system') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.setAttribute('data-theme', theme);
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage may be unavailable (private windows); the theme still applies now.
  }
}

/** The theme chosen last time, applied before anything renders (no flash of the wrong colours). */
export function applyRememberedTheme(): void {
  let theme: string | null;
  try {
    theme = localStorage.getItem(STORAGE_KEY);
  } catch {
    theme = null;
  }
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
}

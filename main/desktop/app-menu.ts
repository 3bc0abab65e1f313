import type { MenuItemConstructorOptions } from 'electron';

/**
 * The application menu, or null for none. Without one Electron installs its default menu, whose
 * Reload and Toggle Developer Tools would sit on every Windows and Linux window (and answer
 * Ctrl+R). On macOS the menu bar of a menu-bar-only app is never shown, but its menus still give
 * the windows their keys: ⌘C/⌘V/⌘Z in text fields, ⌘W to close, ⌘Q to quit. Windows and Linux
 * need no menu for copy and paste.
 */
export function applicationMenuTemplate(platform: NodeJS.Platform): MenuItemConstructorOptions[] | null {
  if (platform !== 'darwin') return null;
  return [{ role: 'appMenu' }, { role: 'fileMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }];
}

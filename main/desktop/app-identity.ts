/**
 * electron-builder.yml's `appId`. The Windows installer gives its Start-menu shortcut this
 * AppUserModelID, and Windows shows a notification only for the app whose process carries the
 * same one; Electron also names its Run-key login item after it.
 */
export const APP_ID = 'app.perch.desktop';

/**
 * The AppUserModelID this run should carry on Windows. A development run has no installed
 * shortcut with Perch's id, so Electron's own executable stands in, as Electron's notification
 * guide advises.
 */
export const appUserModelId = (options: { isPackaged: boolean; execPath: string }): string =>
  options.isPackaged ? APP_ID : options.execPath;

import type { AppUpdater } from 'electron-updater';
import type { UpdateState } from './tray-menu.js';

/** What importing electron-updater gives at run time: its named exports and, from Node, `default`. */
type ImportedElectronUpdater = { autoUpdater?: AppUpdater; default?: { autoUpdater?: AppUpdater } };

/**
 * electron-updater's updater for this platform. The package is CommonJS and defines
 * `autoUpdater` with a getter, which Node's import of CommonJS from ESM (the main process is
 * ESM) does not list as a named export: only `default`, the module's exports object, has it.
 */
export async function loadAutoUpdater(
  load: () => Promise<ImportedElectronUpdater> = () => import('electron-updater'),
): Promise<AppUpdater> {
  const loaded = await load();
  const updater = loaded.autoUpdater ?? loaded.default?.autoUpdater;
  if (!updater) throw new Error('electron-updater has no autoUpdater for this platform.');
  return updater;
}

export interface UpdatesOptions {
  /** Only installed builds update themselves; a development run has nothing to update. */
  enabled: boolean;
  /** Loads electron-updater on first use (it is not needed for the app to start). */
  load: () => Promise<AppUpdater>;
  onStateChange: (state: UpdateState) => void;
  /** Says something worth a notification (an update is ready, or a check the person asked for found nothing). */
  notify: (title: string, body: string) => void;
  log: (message: string) => void;
  /**
   * An AppImage update renamed the file Perch runs from (the new one carries its version in its
   * name, and the old one is deleted): whatever points at the old file must follow.
   */
  onAppImageRenamed?: (file: string) => void;
}

/**
 * Updates from the GitHub releases the release workflow publishes: checked a while after start
 * and from the tray menu, downloaded in the background, installed on "Restart to Update".
 */
export class Updates {
  private state: UpdateState;
  private updater: AppUpdater | undefined;
  private askedByPerson = false;
  private note: string | undefined;

  constructor(private readonly options: UpdatesOptions) {
    this.state = options.enabled ? 'idle' : 'unavailable';
  }

  get current(): UpdateState {
    return this.state;
  }

  /** Why this build does not update itself, when a person should know (Settings shows it). */
  get offNote(): string | undefined {
    return this.note;
  }

  /** This build cannot update itself (see updateSupport): no checks, nothing in the tray, and why. */
  turnOff(note?: string): void {
    this.note = note;
    if (this.state !== 'unavailable') this.set('unavailable');
  }

  async check(askedByPerson: boolean): Promise<void> {
    if (this.state !== 'idle') return;
    this.askedByPerson = askedByPerson;
    this.set('checking');
    try {
      const updater = await this.ensure();
      const result = await updater.checkForUpdates();
      // electron-updater answers null when updates are not configured for this build.
      if (!result?.isUpdateAvailable) {
        this.set('idle');
        if (this.askedByPerson) this.options.notify('Perch is up to date', 'You have the latest version.');
      }
    } catch (error) {
      this.set('idle');
      this.options.log(`Update check failed: ${(error as Error).message}`);
      if (this.askedByPerson) this.options.notify('Could not check for updates', (error as Error).message);
    }
  }

  install(): void {
    if (this.state === 'downloaded') this.updater?.quitAndInstall();
  }

  private async ensure(): Promise<AppUpdater> {
    if (this.updater) return this.updater;
    const updater = await this.options.load();
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.on('update-available', () => this.set('downloading'));
    updater.on('update-downloaded', (info) => {
      this.set('downloaded');
      this.options.notify('An update is ready', `Perch ${info.version} installs when you choose Restart to Update.`);
    });
    updater.on('appimage-filename-updated', (file) => this.options.onAppImageRenamed?.(file));
    updater.on('error', (error) => {
      if (this.state !== 'downloaded') this.set('idle');
      this.options.log(`Update failed: ${error.message}`);
    });
    this.updater = updater;
    return updater;
  }

  private set(state: UpdateState): void {
    this.state = state;
    this.options.onStateChange(state);
  }
}

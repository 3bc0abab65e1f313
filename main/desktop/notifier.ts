import type { NotificationConstructorOptions } from 'electron';
import type { DesktopNotice } from './activity.js';

/** The parts of Electron's Notification the notifier uses (a fake in tests). */
export interface NotificationLike {
  show(): void;
  on(event: 'click' | 'failed', listener: () => void): unknown;
}

export interface NotificationClass {
  new (options: NotificationConstructorOptions): NotificationLike;
  isSupported(): boolean;
}

/**
 * Shows the app's notifications and opens a notice's route when it is clicked. Each shown
 * notification is held until it is clicked or fails: one held only by a local variable can be
 * garbage-collected while it is still on screen, and its click then never arrives. Windows keeps
 * notifications in the Action Center after they leave the screen, so there is no "gone" event
 * to wait for: only the most recent `keep` are held.
 */
export class Notifier {
  private readonly held: NotificationLike[] = [];

  constructor(
    private readonly options: {
      Notification: NotificationClass;
      open: (route: string) => void;
      keep?: number;
    },
  ) {}

  /** How many notifications are held for their click. */
  get holding(): number {
    return this.held.length;
  }

  notify(notice: DesktopNotice): void {
    const { Notification } = this.options;
    if (!Notification.isSupported()) return;
    const notification = new Notification({ title: notice.title, body: notice.body, silent: false });
    notification.on('click', () => {
      this.release(notification);
      if (notice.route) this.options.open(notice.route);
    });
    notification.on('failed', () => this.release(notification));
    this.held.push(notification);
    if (this.held.length > (this.options.keep ?? 20)) this.held.shift();
    notification.show();
  }

  private release(notification: NotificationLike): void {
    const index = this.held.indexOf(notification);
    if (index >= 0) this.held.splice(index, 1);
  }
}

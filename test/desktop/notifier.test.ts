import { EventEmitter } from 'node:events';
import type { NotificationConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { Notifier } from '../../main/desktop/notifier.js';

/** Electron's Notification as the OS drives it: shown, then maybe clicked, maybe failed. */
class FakeNotification extends EventEmitter {
  static supported = true;
  static readonly shown: FakeNotification[] = [];
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  constructor(readonly options: NotificationConstructorOptions) {
    super();
  }
  show(): void {
    FakeNotification.shown.push(this);
  }
}

function notifier(keep?: number) {
  FakeNotification.shown.length = 0;
  FakeNotification.supported = true;
  const open = vi.fn<(route: string) => void>();
  return { notifier: new Notifier({ Notification: FakeNotification, open, ...(keep ? { keep } : {}) }), open };
}

describe('Notifier', () => {
  it('shows a notice with its title and body, with sound', () => {
    const { notifier: subject } = notifier();
    subject.notify({ title: 'Task done', body: 'Write the changelog' });
    expect(FakeNotification.shown.map((shown) => shown.options)).toEqual([
      { title: 'Task done', body: 'Write the changelog', silent: false },
    ]);
  });

  it('holds every notification it shows until it is clicked, so its click is not lost to garbage collection', () => {
    const { notifier: subject, open } = notifier();
    subject.notify({ title: 'Claude needs you', body: 'Write x.md', route: 'tasks/task_1' });
    subject.notify({ title: 'Task done', body: 'Other', route: 'tasks/task_2' });
    expect(subject.holding).toBe(2);
    FakeNotification.shown[0]!.emit('click');
    expect(open).toHaveBeenCalledWith('tasks/task_1');
    expect(subject.holding).toBe(1);
  });

  it('lets go of a notification the OS could not show', () => {
    const { notifier: subject } = notifier();
    subject.notify({ title: 'Perch is up to date', body: 'You have the latest version.' });
    FakeNotification.shown[0]!.emit('failed');
    expect(subject.holding).toBe(0);
  });

  it('holds only the most recent ones, however many are never clicked', () => {
    const { notifier: subject } = notifier(3);
    for (let index = 0; index < 5; index += 1) subject.notify({ title: `Job ${index}`, body: 'Finished.' });
    expect(subject.holding).toBe(3);
  });

  it('opens nothing for a notice without a route', () => {
    const { notifier: subject, open } = notifier();
    subject.notify({ title: 'Perch is up to date', body: 'You have the latest version.' });
    FakeNotification.shown[0]!.emit('click');
    expect(open).not.toHaveBeenCalled();
    expect(subject.holding).toBe(0);
  });

  it('shows nothing where the OS has no notifications', () => {
    const { notifier: subject } = notifier();
    FakeNotification.supported = false;
    subject.notify({ title: 'Task done', body: 'x' });
    expect(FakeNotification.shown).toEqual([]);
    expect(subject.holding).toBe(0);
  });
});

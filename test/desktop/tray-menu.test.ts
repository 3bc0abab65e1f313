import type { MenuItem, MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import {
  trayMenuTemplate,
  trayToolTip,
  type TrayMenuActions,
  type TrayMenuState,
  type UpdateState,
} from '../../main/desktop/tray-menu.js';

type ClickArgs = Parameters<NonNullable<MenuItemConstructorOptions['click']>>;

const baseState: TrayMenuState = {
  quickAskShortcut: 'CommandOrControl+Shift+Space',
  status: 'Listening on http://127.0.0.1:4873',
  startAtLogin: false,
  updates: 'idle',
  waiting: [],
};

function menu(state: Partial<TrayMenuState> = {}) {
  const actions = {
    quickAsk: vi.fn(),
    openChat: vi.fn(),
    openSettings: vi.fn(),
    openTasks: vi.fn(),
    copyToken: vi.fn(),
    openLogs: vi.fn(),
    setStartAtLogin: vi.fn(),
    checkForUpdates: vi.fn(),
    installUpdate: vi.fn(),
    quit: vi.fn(),
  } satisfies TrayMenuActions;
  const items = trayMenuTemplate({ ...baseState, ...state }, actions);
  const item = (label: string): MenuItemConstructorOptions => {
    const found = items.find((candidate) => candidate.label === label);
    if (!found) throw new Error(`no "${label}" item in ${JSON.stringify(items.map((i) => i.label ?? i.type))}`);
    return found;
  };
  /** Clicks an item as Electron does, with the item itself (for a checkbox: already toggled). */
  const click = (label: string, menuItem: Partial<MenuItem> = {}): void => {
    const target = item(label);
    target.click?.(...([{ ...target, ...menuItem }, undefined, {}] as unknown as ClickArgs));
  };
  return { items, item, click, actions };
}

const labels = (items: MenuItemConstructorOptions[]): string[] => items.map((item) => item.label ?? `—${item.type ?? ''}—`);

describe('trayMenuTemplate', () => {
  it('lists the items in order, with separators between the groups', () => {
    expect(labels(menu().items)).toEqual([
      'Quick Ask',
      'Open Chat',
      'Tasks',
      'Settings',
      '—separator—',
      'Listening on http://127.0.0.1:4873',
      'Copy API Token',
      'Open Logs Folder',
      '—separator—',
      'Start at Login',
      'Check for Updates…',
      '—separator—',
      'Quit',
    ]);
  });

  it('says first when a task needs the person, and opens that task', () => {
    const { items, click, actions } = menu({ waiting: [{ task_id: 'task_1', title: 'Fix the flaky login test' }] });
    expect(labels(items).slice(0, 3)).toEqual(['Task needs you: Fix the flaky login test', '—separator—', 'Quick Ask']);
    click('Task needs you: Fix the flaky login test');
    expect(actions.openTasks).toHaveBeenCalledWith('task_1');
  });

  it('says who waits when the icon is hovered', () => {
    expect(trayToolTip([])).toBe('Perch');
    expect(trayToolTip([{ task_id: 'task_1', title: 'Fix the flaky login test' }])).toBe(
      'Perch: task needs you: Fix the flaky login test',
    );
    expect(
      trayToolTip([
        { task_id: 'task_1', title: 'One' },
        { task_id: 'task_2', title: 'Two' },
      ]),
    ).toBe('Perch: 2 tasks need you');
  });

  it('counts several waiting tasks in one line that opens the list, cutting nothing it needs', () => {
    const waiting = [
      { task_id: 'task_1', title: 'One' },
      { task_id: 'task_2', title: 'Two' },
    ];
    const { click, actions, items } = menu({ waiting });
    click('2 tasks need you');
    expect(actions.openTasks).toHaveBeenCalledWith();
    const long = menu({ waiting: [{ task_id: 'task_3', title: 'x'.repeat(80) }] }).items[0]?.label ?? '';
    expect(long.length).toBeLessThan(70);
    expect(long.endsWith('…')).toBe(true);
    expect(labels(items)).toContain('Tasks');
  });

  it('shows the quick-ask shortcut as a hint, without registering it again', () => {
    const quickAsk = menu().item('Quick Ask');
    expect(quickAsk.accelerator).toBe('CommandOrControl+Shift+Space');
    expect(quickAsk.registerAccelerator).toBe(false);
  });

  it('shows no shortcut when it is not registered', () => {
    const quickAsk = menu({ quickAskShortcut: undefined }).item('Quick Ask');
    expect(quickAsk).not.toHaveProperty('accelerator');
    expect(quickAsk).not.toHaveProperty('registerAccelerator');
  });

  it('shows Quit’s shortcut as a hint only', () => {
    expect(menu().item('Quit')).toMatchObject({ accelerator: 'CommandOrControl+Q', registerAccelerator: false });
  });

  it('shows the service status as a disabled line', () => {
    const { item } = menu({ status: 'Port 4873 is taken; listening on 50123' });
    expect(item('Port 4873 is taken; listening on 50123').enabled).toBe(false);
  });

  it('shows Start at Login as a checkbox in its current state', () => {
    expect(menu({ startAtLogin: false }).item('Start at Login')).toMatchObject({ type: 'checkbox', checked: false });
    expect(menu({ startAtLogin: true }).item('Start at Login')).toMatchObject({ type: 'checkbox', checked: true });
  });

  describe('the update item', () => {
    const updateItems = (updates: UpdateState): MenuItemConstructorOptions[] => {
      const { items } = menu({ updates });
      const start = items.findIndex((item) => item.label === 'Start at Login');
      return items.slice(start + 1, -2);
    };

    it('is absent when this build cannot update itself', () => {
      expect(updateItems('unavailable')).toEqual([]);
      expect(labels(menu({ updates: 'unavailable' }).items)).not.toContain('Check for Updates…');
    });

    it('offers a check when idle', () => {
      expect(updateItems('idle')).toEqual([expect.objectContaining({ label: 'Check for Updates…', enabled: true })]);
    });

    it('is disabled while checking or downloading', () => {
      expect(updateItems('checking')).toEqual([expect.objectContaining({ label: 'Checking for Updates…', enabled: false })]);
      expect(updateItems('downloading')).toEqual([expect.objectContaining({ label: 'Downloading Update…', enabled: false })]);
    });

    it('offers to restart once an update is downloaded', () => {
      const [restart, ...rest] = updateItems('downloaded');
      expect(rest).toEqual([]);
      expect(restart?.label).toBe('Restart to Update');
      expect(restart?.enabled).not.toBe(false);
    });
  });

  describe('clicks', () => {
    it.each([
      ['Quick Ask', 'quickAsk'],
      ['Open Chat', 'openChat'],
      ['Settings', 'openSettings'],
      ['Copy API Token', 'copyToken'],
      ['Open Logs Folder', 'openLogs'],
      ['Check for Updates…', 'checkForUpdates'],
      ['Quit', 'quit'],
    ] as const)('%s calls %s, and nothing else', (label, action) => {
      const { click, actions } = menu();
      click(label);
      for (const [name, fn] of Object.entries(actions)) {
        expect(fn, name).toHaveBeenCalledTimes(name === action ? 1 : 0);
      }
    });

    it('Restart to Update installs the update', () => {
      const { click, actions } = menu({ updates: 'downloaded' });
      click('Restart to Update');
      expect(actions.installUpdate).toHaveBeenCalledOnce();
      expect(actions.checkForUpdates).not.toHaveBeenCalled();
    });

    it('Start at Login passes the checkbox’s new state', () => {
      const off = menu({ startAtLogin: false });
      off.click('Start at Login', { checked: true });
      expect(off.actions.setStartAtLogin).toHaveBeenCalledWith(true);

      const on = menu({ startAtLogin: true });
      on.click('Start at Login', { checked: false });
      expect(on.actions.setStartAtLogin).toHaveBeenCalledWith(false);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { applicationMenuTemplate } from '../../main/desktop/app-menu.js';

describe('applicationMenuTemplate', () => {
  it('gives Windows and Linux windows no menu (not Electron’s default, with Reload and Toggle Developer Tools)', () => {
    expect(applicationMenuTemplate('win32')).toBeNull();
    expect(applicationMenuTemplate('linux')).toBeNull();
  });

  it('gives macOS the menus whose keys the windows need (edit, close, quit), and no developer items', () => {
    const template = applicationMenuTemplate('darwin');
    expect(template?.map((menu) => menu.role)).toEqual(['appMenu', 'fileMenu', 'editMenu', 'windowMenu']);
    expect(JSON.stringify(template)).not.toMatch(/reload|toggleDevTools|viewMenu/i);
  });
});

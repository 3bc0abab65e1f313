import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  autostartFilePath,
  desktopEntry,
  launchTarget,
  LinuxAutostart,
  parseExec,
  quoteExecArgument,
  type LaunchTarget,
} from '../../main/desktop/autostart.js';

const temporaryFolder = (): string => mkdtempSync(path.join(tmpdir(), 'perch-autostart-'));

const entryFile = (folder: string): string => path.join(folder, 'autostart', 'perch.desktop');

const execLine = (file: string): string =>
  readFileSync(file, 'utf8')
    .split('\n')
    .find((line) => line.startsWith('Exec='))!
    .slice('Exec='.length);

const packaged: LaunchTarget = { command: '/opt/Perch/perch', args: [] };

describe('quoteExecArgument: arguments as the Desktop Entry spec wants them on an Exec line', () => {
  it('leaves plain arguments unquoted', () => {
    expect(quoteExecArgument('/opt/Perch/perch')).toBe('/opt/Perch/perch');
    expect(quoteExecArgument('--hidden')).toBe('--hidden');
  });

  it('quotes an argument with spaces, so a program under "My Apps" still starts', () => {
    expect(quoteExecArgument('/home/jane/My Apps/Perch.AppImage')).toBe('"/home/jane/My Apps/Perch.AppImage"');
  });

  it('escapes ", `, $ and \\ inside quotes, then escapes the backslashes once more as any string value', () => {
    // The spec: a literal $ in a quoted argument is \\$ in the file, a literal backslash \\\\.
    expect(quoteExecArgument('say "hi"')).toBe(String.raw`"say \\"hi\\""`);
    expect(quoteExecArgument('`date`')).toBe('"\\\\`date\\\\`"');
    expect(quoteExecArgument('$HOME')).toBe(String.raw`"\\$HOME"`);
    expect(quoteExecArgument(String.raw`C:\temp`)).toBe(String.raw`"C:\\\\temp"`);
  });

  it('writes a percent sign as %%, quoted or not', () => {
    expect(quoteExecArgument('100%')).toBe('100%%');
    expect(quoteExecArgument('/opt/50% off/perch')).toBe('"/opt/50%% off/perch"');
  });

  it('quotes other reserved characters and the empty argument', () => {
    for (const arg of ["it's", 'a;b', 'a&b', 'a|b', '~/x', 'a*b', 'a?b', '#x', '(x)', 'a<b', 'a>b']) {
      expect(quoteExecArgument(arg)).toBe(`"${arg}"`);
    }
    expect(quoteExecArgument('')).toBe('""');
  });

  it('reads back as the same arguments (parseExec undoes every layer)', () => {
    const awkward = [
      '/home/jane/My Apps/Perch.AppImage',
      'say "hi"',
      '$HOME and `date`',
      String.raw`C:\temp\ "quoted\"`,
      '100% %U %%',
      'tab\there',
      'line\nbreak',
      "it's",
      '',
      '--hidden',
    ];
    expect(parseExec(awkward.map(quoteExecArgument).join(' '))).toEqual(awkward);
  });
});

describe('launchTarget: what the OS starts at login', () => {
  const base = { execPath: '/tmp/.mount_PerchAbc/perch', appPath: '/tmp/.mount_PerchAbc/resources/app.asar' };

  it('for an AppImage, the image itself ($APPIMAGE), never the temporary mount it runs from', () => {
    const env = { APPIMAGE: '/home/jane/Apps/Perch-1.0.AppImage', APPDIR: '/tmp/.mount_PerchAbc' };
    expect(launchTarget({ ...base, env, isPackaged: true })).toEqual({ command: env.APPIMAGE, args: [] });
  });

  it('ignores an APPIMAGE inherited from another AppImage that started us', () => {
    const env = { APPIMAGE: '/home/jane/Apps/Terminal.AppImage', APPDIR: '/tmp/.mount_TermXyz' };
    const target = launchTarget({
      env,
      execPath: '/opt/Perch/perch',
      appPath: '/opt/Perch/resources/app.asar',
      isPackaged: true,
    });
    expect(target).toEqual({ command: '/opt/Perch/perch', args: [] });
  });

  it('for another packaged install, the executable', () => {
    const target = launchTarget({
      env: {},
      execPath: '/opt/Perch/perch',
      appPath: '/opt/Perch/resources/app.asar',
      isPackaged: true,
    });
    expect(target).toEqual({ command: '/opt/Perch/perch', args: [] });
  });

  it('for a development run, Electron plus the checkout, so it can be tried from a clone', () => {
    const target = launchTarget({
      env: {},
      execPath: '/src/perch/node_modules/electron/dist/electron',
      appPath: '/src/perch',
      isPackaged: false,
    });
    expect(target).toEqual({ command: '/src/perch/node_modules/electron/dist/electron', args: ['/src/perch'] });
  });
});

describe('autostartFilePath', () => {
  it('is perch.desktop in $XDG_CONFIG_HOME/autostart', () => {
    expect(autostartFilePath({ XDG_CONFIG_HOME: '/home/jane/.cfg' }, '/home/jane')).toBe(
      '/home/jane/.cfg/autostart/perch.desktop',
    );
  });

  it('falls back to ~/.config when XDG_CONFIG_HOME is unset, empty or relative', () => {
    for (const env of [{}, { XDG_CONFIG_HOME: '' }, { XDG_CONFIG_HOME: 'relative/config' }]) {
      expect(autostartFilePath(env, '/home/jane')).toBe('/home/jane/.config/autostart/perch.desktop');
    }
  });
});

describe('desktopEntry', () => {
  it('is a complete autostart entry for the target', () => {
    expect(desktopEntry({ command: '/home/jane/My Apps/Perch.AppImage', args: [] }, { hidden: false })).toBe(
      [
        '[Desktop Entry]',
        'Type=Application',
        'Version=1.0',
        'Name=Perch',
        'Comment=Claude, always at hand',
        'Exec="/home/jane/My Apps/Perch.AppImage"',
        'Icon=perch',
        'Terminal=false',
        'StartupNotify=false',
        'NoDisplay=false',
        'X-GNOME-Autostart-enabled=true',
        '',
      ].join('\n'),
    );
  });

  it('adds --hidden after the target arguments when starting hidden', () => {
    const entry = desktopEntry({ command: '/usr/bin/electron', args: ['/src/my perch'] }, { hidden: true });
    expect(entry).toContain('\nExec=/usr/bin/electron "/src/my perch" --hidden\n');
  });
});

describe('LinuxAutostart', () => {
  it('is off until enabled, creates the folder, and is off again once disabled', () => {
    const file = entryFile(temporaryFolder());
    const autostart = new LinuxAutostart({ file, target: packaged });
    expect(autostart.isEnabled()).toBe(false);

    autostart.enable(false);
    expect(autostart.isEnabled()).toBe(true);
    expect(execLine(file)).toBe('/opt/Perch/perch');

    autostart.disable();
    expect(existsSync(file)).toBe(false);
    expect(autostart.isEnabled()).toBe(false);
    expect(() => autostart.disable()).not.toThrow();
  });

  it('records start-hidden as --hidden on the Exec line, and reads it back', () => {
    const file = entryFile(temporaryFolder());
    const autostart = new LinuxAutostart({ file, target: packaged });
    autostart.enable(true);
    expect(execLine(file)).toBe('/opt/Perch/perch --hidden');
    expect(autostart.isHidden()).toBe(true);
    autostart.enable(false);
    expect(autostart.isHidden()).toBe(false);
  });

  it('counts an entry the desktop disabled (Hidden=true, X-GNOME-Autostart-enabled=false) as off', () => {
    const file = entryFile(temporaryFolder());
    const autostart = new LinuxAutostart({ file, target: packaged });
    autostart.enable(false);
    const written = readFileSync(file, 'utf8');

    writeFileSync(file, written.replace('X-GNOME-Autostart-enabled=true', 'X-GNOME-Autostart-enabled=false'));
    expect(autostart.isEnabled()).toBe(false);
    writeFileSync(file, `${written}Hidden=true\n`);
    expect(autostart.isEnabled()).toBe(false);
    // Keys in other groups do not count.
    writeFileSync(file, `${written}[Desktop Action other]\nHidden=true\n`);
    expect(autostart.isEnabled()).toBe(true);
  });

  it('enabling rewrites an entry that starts another program or was disabled', () => {
    const file = entryFile(temporaryFolder());
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '[Desktop Entry]\nType=Application\nName=Perch\nExec=/old/Perch-0.9.AppImage\nHidden=true\n');
    const autostart = new LinuxAutostart({ file, target: packaged });
    expect(autostart.launchesTarget()).toBe(false);

    autostart.enable(false);
    expect(autostart.isEnabled()).toBe(true);
    expect(autostart.launchesTarget()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(desktopEntry(packaged, { hidden: false }));
  });

  it('replaces the file by rename, leaving no temporary files behind', () => {
    const file = entryFile(temporaryFolder());
    const autostart = new LinuxAutostart({ file, target: packaged });
    autostart.enable(false);
    const before = statSync(file).ino;
    autostart.enable(true);
    expect(statSync(file).ino).not.toBe(before);
    expect(readdirSync(path.dirname(file))).toEqual(['perch.desktop']);
  });

  it('repair re-points an entry whose program is gone (a replaced AppImage), keeping its hidden flag', () => {
    const file = entryFile(temporaryFolder());
    const current: LaunchTarget = { command: '/home/jane/Apps/Perch-1.1.AppImage', args: [] };
    new LinuxAutostart({ file, target: { command: '/home/jane/Apps/Perch-1.0.AppImage', args: [] } }).enable(true);

    const autostart = new LinuxAutostart({ file, target: current });
    expect(autostart.repair()).toBe(true);
    expect(execLine(file)).toBe('/home/jane/Apps/Perch-1.1.AppImage --hidden');
    expect(autostart.repair()).toBe(false);
  });

  it('repair leaves an entry for a program that still exists (another copy the user chose)', () => {
    const folder = temporaryFolder();
    const file = entryFile(folder);
    const otherCopy = path.join(folder, 'Perch Other.AppImage');
    writeFileSync(otherCopy, '');
    new LinuxAutostart({ file, target: { command: otherCopy, args: [] } }).enable(false);

    expect(new LinuxAutostart({ file, target: packaged }).repair()).toBe(false);
    expect(parseExec(execLine(file))).toEqual([otherCopy]);
  });

  it('explains a folder it cannot create, naming the folder', () => {
    const folder = temporaryFolder();
    writeFileSync(path.join(folder, 'autostart'), 'a file where the folder should be');
    const autostart = new LinuxAutostart({ file: entryFile(folder), target: packaged });
    expect(() => autostart.enable(false)).toThrow(
      `Could not turn on start at login: writing ${entryFile(folder)} failed: a file is in the way where a folder should be. ` +
        `Make sure ${path.join(folder, 'autostart')} is a folder you can write to.`,
    );
    expect(autostart.isEnabled()).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)('explains a folder it may not write to', () => {
    const folder = temporaryFolder();
    mkdirSync(path.join(folder, 'autostart'));
    chmodSync(path.join(folder, 'autostart'), 0o500);
    const autostart = new LinuxAutostart({ file: entryFile(folder), target: packaged });
    expect(() => autostart.enable(false)).toThrow(/permission denied\. Make sure .*autostart is a folder you can write to\./);
  });
});

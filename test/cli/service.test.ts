import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { followFile, tailFile } from '../../main/cli/log-tail.js';
import type { Output } from '../../main/cli/output.js';
import {
  serviceInstall,
  serviceLogs,
  serviceStatus,
  serviceUninstall,
  type CommandResult,
  type CommandRunner,
  type ServiceContext,
} from '../../main/cli/service-command.js';
import {
  launchdPlist,
  systemdQuote,
  systemdUnit,
  utf16le,
  windowsQuote,
  windowsTaskXml,
  type ServiceDefinition,
} from '../../main/cli/service-files.js';
import { TEST_API_KEY } from '../helpers/perch.js';
import { cliEnv, PERCH_BIN, requireBuild, runPerch } from './run-perch.js';
import { find, parsePlist, parseXml } from './tiny-xml.js';

// ---------------------------------------------------------------------------------------------
// Readers that follow each format's own rules, so the generated files are checked by parsing.

/** A unit file's sections and their keys, in order (keys may repeat). */
function parseUnit(text: string): Map<string, Array<[string, string]>> {
  const sections = new Map<string, Array<[string, string]>>();
  let current: Array<[string, string]> | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section?.[1]) {
      current = [];
      sections.set(section[1], current);
      continue;
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!pair?.[1] || pair[2] === undefined || !current) throw new Error(`Not a unit file line: ${line}`);
    current.push([pair[1], pair[2]]);
  }
  return sections;
}

const unitValues = (unit: Map<string, Array<[string, string]>>, section: string, key: string): string[] =>
  (unit.get(section) ?? []).filter(([name]) => name === key).map(([, value]) => value);

/** Splits a value into words as systemd does: `%%` → `%`, `$$` → `$`, double quotes, C escapes. */
function systemdWords(value: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    const next = value[i + 1];
    if (char === '%' || char === '$') {
      if (next !== char) throw new Error(`An unescaped ${char} (specifier or variable) in ${value}`);
      word = (word ?? '') + char;
      i++;
    } else if (char === '"') {
      quoted = !quoted;
      word ??= '';
    } else if (char === '\\' && quoted) {
      if (next !== '\\' && next !== '"') throw new Error(`Unexpected escape \\${next} in ${value}`);
      word = (word ?? '') + next;
      i++;
    } else if (char === ' ' && !quoted) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quoted) throw new Error(`Unbalanced quotes in ${value}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Splits a command line as CommandLineToArgvW (and so node.exe) does. */
function windowsArgs(line: string): string[] {
  const args: string[] = [];
  let arg: string | undefined;
  let quoted = false;
  for (let i = 0; i < line.length;) {
    const char = line[i]!;
    if (char === '\\') {
      let count = 0;
      while (line[i] === '\\') {
        count++;
        i++;
      }
      if (line[i] === '"') {
        arg = (arg ?? '') + '\\'.repeat(Math.floor(count / 2));
        if (count % 2 === 1) {
          arg += '"';
          i++;
        }
      } else {
        arg = (arg ?? '') + '\\'.repeat(count);
      }
    } else if (char === '"') {
      quoted = !quoted;
      arg ??= '';
      i++;
    } else if ((char === ' ' || char === '\t') && !quoted) {
      if (arg !== undefined) args.push(arg);
      arg = undefined;
      i++;
    } else {
      arg = (arg ?? '') + char;
      i++;
    }
  }
  if (arg !== undefined) args.push(arg);
  return args;
}

const hasProgram = (name: string, args: string[] = ['--version']): boolean => spawnSync(name, args).status === 0;

// ---------------------------------------------------------------------------------------------

/** Paths with spaces, quotes and the characters systemd would expand. */
const awkwardDefinition: ServiceDefinition = {
  node: '/opt/node 20/bin/node',
  entry: '/home/ada/My "Apps"/perch 100%/$HOME/bin/perch.js',
  serveArgs: ['--data-dir', '/home/ada/Perch data & more <x>\\y'],
  environment: {},
  dataDir: '/home/ada/Perch data & more <x>\\y',
};

describe('the systemd user unit', () => {
  it('restarts on failure, starts with the user session, stops gracefully within its timeout', () => {
    const unit = parseUnit(systemdUnit(awkwardDefinition));
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(unitValues(unit, 'Service', 'Restart')).toEqual(['on-failure']);
    expect(unitValues(unit, 'Install', 'WantedBy')).toEqual(['default.target']);
    expect(unitValues(unit, 'Service', 'KillSignal')).toEqual(['SIGTERM']);
    // serve's grace for answers in flight is 10 s (+1 s to flush): systemd must wait longer.
    expect(Number(unitValues(unit, 'Service', 'TimeoutStopSec')[0])).toBeGreaterThan(11);
  });

  it('runs node with this installation`s perch.js and serve, each path one word however awkward', () => {
    const unit = parseUnit(systemdUnit(awkwardDefinition));
    const [execStart] = unitValues(unit, 'Service', 'ExecStart');
    expect(systemdWords(execStart!)).toEqual([
      awkwardDefinition.node,
      awkwardDefinition.entry,
      'serve',
      ...awkwardDefinition.serveArgs,
    ]);
    expect(unitValues(unit, 'Service', 'Environment')).toEqual([]);
  });

  it('leaves plain paths unquoted', () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/a b')).toBe('"/a b"');
  });

  it('carries PERCH_DATA_DIR as a quoted Environment= assignment', () => {
    const unit = parseUnit(
      systemdUnit({ ...awkwardDefinition, serveArgs: [], environment: { PERCH_DATA_DIR: '/srv/Perch 50%' } }),
    );
    const environment = unitValues(unit, 'Service', 'Environment');
    expect(environment).toEqual(['"PERCH_DATA_DIR=/srv/Perch 50%%"']);
  });

  it('refuses a path with a line break instead of writing a broken unit', () => {
    expect(() => systemdUnit({ ...awkwardDefinition, entry: '/tmp/a\nExecStartPre=/bin/evil' })).toThrow(/line break/);
  });

  it.skipIf(!hasProgram('systemd-analyze'))('passes `systemd-analyze verify`', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'perch unit-'));
    const entry = path.join(dir, 'Perch App', 'bin', 'perch.js');
    mkdirSync(path.dirname(entry), { recursive: true });
    writeFileSync(entry, '');
    const file = path.join(dir, 'perch.service');
    const dataDir = path.join(dir, 'data 100%');
    writeFileSync(
      file,
      systemdUnit({
        node: process.execPath,
        entry,
        serveArgs: ['--data-dir', dataDir],
        environment: { PERCH_DATA_DIR: dataDir },
        dataDir,
      }),
    );
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the launchd agent', () => {
  const logsDir = '/Users/ada/Library/Application Support/Perch/logs';

  it('is a property list that runs at load, restarts only after a failure, and logs into the data folder', () => {
    const plist = parsePlist(launchdPlist(awkwardDefinition, logsDir));
    expect(plist).toEqual({
      Label: 'app.perch.service',
      ProgramArguments: [awkwardDefinition.node, awkwardDefinition.entry, 'serve', ...awkwardDefinition.serveArgs],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 10,
      ExitTimeOut: 30,
      StandardOutPath: `${logsDir}/service.out.log`,
      StandardErrorPath: `${logsDir}/service.err.log`,
    });
  });

  it('carries PERCH_DATA_DIR in EnvironmentVariables', () => {
    const plist = parsePlist(launchdPlist({ ...awkwardDefinition, environment: { PERCH_DATA_DIR: '/srv/P & Q' } }, logsDir));
    expect(plist).toMatchObject({ EnvironmentVariables: { PERCH_DATA_DIR: '/srv/P & Q' } });
  });

  it.skipIf(!hasProgram('python3'))("reads the same with Python's plistlib", () => {
    const text = launchdPlist({ ...awkwardDefinition, environment: { PERCH_DATA_DIR: '/srv/P & Q' } }, logsDir);
    const result = spawnSync(
      'python3',
      ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
      {
        input: text,
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(parsePlist(text));
  });
});

describe('the Windows task', () => {
  const windowsDefinition: ServiceDefinition = {
    node: 'C:\\Program Files\\nodejs\\node.exe',
    entry: 'C:\\Users\\Ada Lovelace\\AppData\\Roaming\\npm\\node_modules\\perch\\bin\\perch.js',
    serveArgs: ['--data-dir', 'C:\\Users\\Ada Lovelace\\Perch & Co\\'],
    environment: {},
    dataDir: 'C:\\Users\\Ada Lovelace\\Perch & Co\\',
  };

  it('starts at this user`s logon with their rights, without a time limit, restarting if it fails to start', () => {
    const task = parseXml(windowsTaskXml(windowsDefinition, 'PC\\ada'));
    expect(task.name).toBe('Task');
    expect(find(find(task, 'LogonTrigger')!, 'UserId')?.text).toBe('PC\\ada');
    expect(find(task, 'LogonType')?.text).toBe('InteractiveToken');
    expect(find(task, 'RunLevel')?.text).toBe('LeastPrivilege');
    expect(find(task, 'ExecutionTimeLimit')?.text).toBe('PT0S');
    expect(find(task, 'DisallowStartIfOnBatteries')?.text).toBe('false');
    expect(find(task, 'StopIfGoingOnBatteries')?.text).toBe('false');
    expect(find(find(task, 'RestartOnFailure')!, 'Count')?.text).toBe('3');
  });

  it('runs node.exe with perch.js and serve, quoted as node.exe splits its command line', () => {
    const task = parseXml(windowsTaskXml(windowsDefinition, 'PC\\ada'));
    expect(find(task, 'Command')?.text).toBe(windowsDefinition.node);
    expect(windowsArgs(find(task, 'Arguments')!.text)).toEqual([
      windowsDefinition.entry,
      'serve',
      ...windowsDefinition.serveArgs,
    ]);
  });

  it('passes a PERCH_DATA_DIR as --data-dir (a task has no environment of its own)', () => {
    const task = parseXml(
      windowsTaskXml({ ...windowsDefinition, serveArgs: [], environment: { PERCH_DATA_DIR: 'D:\\P' } }, 'ada'),
    );
    expect(windowsArgs(find(task, 'Arguments')!.text)).toEqual([windowsDefinition.entry, 'serve', '--data-dir', 'D:\\P']);
  });

  it('quotes like CommandLineToArgvW expects: trailing backslashes doubled, quotes escaped', () => {
    for (const arg of ['plain', 'with space', 'C:\\dir with space\\', 'say "hi"', 'a\\\\"b', '']) {
      expect(windowsArgs(windowsQuote(arg))).toEqual([arg]);
    }
  });

  it.skipIf(!hasProgram('python3'))('is UTF-16 with a byte-order mark, as schtasks /XML reads it', () => {
    const bytes = utf16le(windowsTaskXml(windowsDefinition, 'PC\\ada'));
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const result = spawnSync(
      'python3',
      [
        '-c',
        'import sys, xml.etree.ElementTree as ET; r = ET.fromstring(sys.stdin.buffer.read()); print(r.find(".//{*}Command").text)',
      ],
      { input: bytes, encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(windowsDefinition.node);
  });
});

// ---------------------------------------------------------------------------------------------

interface FakeMachine {
  context: ServiceContext;
  home: string;
  /** Every service-manager command run, as [program, ...args]. */
  calls: string[][];
  output: () => string;
  errors: () => string;
}

type Answer = (program: string, args: string[]) => Partial<CommandResult> | undefined;

/** A temporary HOME on a pretend OS, whose service manager answers as told (by default: success). */
function fakeMachine(platform: NodeJS.Platform, options: { env?: NodeJS.ProcessEnv; answer?: Answer } = {}): FakeMachine {
  const home = mkdtempSync(path.join(tmpdir(), 'perch home-'));
  const calls: string[][] = [];
  let stdout = '';
  let stderr = '';
  const out: Output = {
    stdout: (line) => (stdout += `${line}\n`),
    stderr: (line) => (stderr += `${line}\n`),
    write: (text) => (stdout += text),
  };
  const run: CommandRunner = (program, args) => {
    calls.push([program, ...args]);
    return Promise.resolve({ code: 0, stdout: '', stderr: '', ...options.answer?.(program, args) });
  };
  const context: ServiceContext = {
    platform,
    home,
    env: options.env ?? {},
    uid: 501,
    windowsUser: 'PC\\ada',
    run,
    installation: { node: '/opt/node 20/bin/node', entry: '/opt/Perch App/bin/perch.js' },
    out,
  };
  return { context, home, calls, output: () => stdout, errors: () => stderr };
}

const noUserBus: Answer = (program) =>
  program === 'systemctl' ? { code: 1, stderr: 'Failed to connect to bus: No medium found\n' } : undefined;
const noSystemctl: Answer = () => ({ code: 127, stderr: 'systemctl was not found', missing: true });

describe('perch service on Linux (systemd user unit)', () => {
  const unitPath = (home: string): string => path.join(home, '.config', 'systemd', 'user', 'perch.service');

  it('install writes the unit, reloads systemd and enables it now', async () => {
    const machine = fakeMachine('linux');
    const dataDir = path.join(machine.home, 'my Perch data');
    expect(await serviceInstall(machine.context, dataDir)).toBe(0);
    const unit = parseUnit(readFileSync(unitPath(machine.home), 'utf8'));
    expect(systemdWords(unitValues(unit, 'Service', 'ExecStart')[0]!)).toEqual([
      '/opt/node 20/bin/node',
      '/opt/Perch App/bin/perch.js',
      'serve',
      '--data-dir',
      dataDir,
    ]);
    expect(machine.calls).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', 'perch.service'],
    ]);
    expect(machine.output()).toContain(`Wrote Perch's systemd user unit: ${unitPath(machine.home)}`);
    expect(machine.output()).toContain('restarts it if it fails');
  });

  it('honours XDG_CONFIG_HOME for the unit`s folder', async () => {
    const machine = fakeMachine('linux');
    const config = path.join(machine.home, 'elsewhere');
    machine.context.env = { XDG_CONFIG_HOME: config };
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(existsSync(path.join(config, 'systemd', 'user', 'perch.service'))).toBe(true);
  });

  it('runs serve on the default data folder without naming it, and carries PERCH_DATA_DIR when that chose it', async () => {
    const plain = fakeMachine('linux');
    await serviceInstall(plain.context, undefined);
    const plainUnit = parseUnit(readFileSync(unitPath(plain.home), 'utf8'));
    expect(systemdWords(unitValues(plainUnit, 'Service', 'ExecStart')[0]!).slice(2)).toEqual(['serve']);
    expect(unitValues(plainUnit, 'Service', 'Environment')).toEqual([]);

    const fromEnv = fakeMachine('linux', { env: { PERCH_DATA_DIR: '/srv/perch data' } });
    await serviceInstall(fromEnv.context, undefined);
    const envUnit = parseUnit(readFileSync(unitPath(fromEnv.home), 'utf8'));
    expect(systemdWords(unitValues(envUnit, 'Service', 'ExecStart')[0]!).slice(2)).toEqual(['serve']);
    expect(unitValues(envUnit, 'Service', 'Environment').map((value) => systemdWords(value))).toEqual([
      ['PERCH_DATA_DIR=/srv/perch data'],
    ]);
  });

  it('installing again updates the unit and restarts the running service', async () => {
    const machine = fakeMachine('linux');
    await serviceInstall(machine.context, undefined);
    machine.calls.length = 0;
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(machine.output()).toContain("Updated Perch's systemd user unit");
    expect(machine.calls).toContainEqual(['systemctl', '--user', 'restart', 'perch.service']);
  });

  it('without a user bus (a container, a root shell) writes the unit, says how to enable it, and still exits 0', async () => {
    const machine = fakeMachine('linux', { answer: noUserBus });
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(existsSync(unitPath(machine.home))).toBe(true);
    expect(machine.output()).toContain("systemd's user manager did not answer: Failed to connect to bus: No medium found");
    expect(machine.output()).toContain('  systemctl --user daemon-reload\n  systemctl --user enable --now perch.service');
    expect(machine.calls).toEqual([['systemctl', '--user', 'daemon-reload']]);
  });

  it('without systemctl at all says so, and still exits 0', async () => {
    const machine = fakeMachine('linux', { answer: noSystemctl });
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(machine.output()).toContain('systemctl is not installed here');
  });

  it('fails (exit 1) when systemd answers but refuses to enable it', async () => {
    const machine = fakeMachine('linux', {
      answer: (_program, args) =>
        args.includes('enable') ? { code: 1, stderr: 'Unit perch.service has a bad setting.' } : undefined,
    });
    expect(await serviceInstall(machine.context, undefined)).toBe(1);
    expect(machine.errors()).toContain(
      'perch: systemctl --user enable --now perch.service failed: Unit perch.service has a bad setting.',
    );
  });

  it('never writes ANTHROPIC_API_KEY into the unit, and says how to store it for the service', async () => {
    const machine = fakeMachine('linux', { env: { ANTHROPIC_API_KEY: TEST_API_KEY, PERCH_DATA_DIR: '/srv/perch' } });
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(readFileSync(unitPath(machine.home), 'utf8')).not.toContain(TEST_API_KEY);
    expect(machine.output()).not.toContain(TEST_API_KEY);
    expect(machine.output()).toContain('printenv ANTHROPIC_API_KEY | npx perch config set apiKey -');
  });

  it('says nothing about the key once one is stored', async () => {
    const machine = fakeMachine('linux', { env: { ANTHROPIC_API_KEY: TEST_API_KEY } });
    const dataDir = path.join(machine.home, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'api-key'), 'sk-ant-stored\n');
    await serviceInstall(machine.context, dataDir);
    expect(machine.output()).not.toMatch(/apiKey|API key/);
  });

  it('points at perch config set for PERCH_PORT, which the service does not inherit', async () => {
    const machine = fakeMachine('linux', { env: { PERCH_PORT: '9000' } });
    await serviceInstall(machine.context, undefined);
    expect(machine.output()).toContain(
      'PERCH_PORT is set in this shell but is not carried into the service; to keep it, run: npx perch config set api.port 9000',
    );
    expect(machine.output()).toContain('Check it with: npx perch service status');
    expect(machine.output()).not.toContain('`');
    expect(readFileSync(unitPath(machine.home), 'utf8')).not.toContain('9000');
  });

  it('status reports what systemd says: installed, running, pid', async () => {
    const machine = fakeMachine('linux', {
      answer: (_program, args) =>
        args[1] === 'show'
          ? { stdout: 'LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nUnitFileState=enabled\n' }
          : undefined,
    });
    await serviceInstall(machine.context, undefined);
    expect(await serviceStatus(machine.context, undefined)).toBe(0);
    expect(machine.output()).toContain(`Perch's service is installed: ${unitPath(machine.home)}`);
    expect(machine.output()).toContain('Running:  yes, pid 4242 (systemd: active (running), enabled)');
  });

  it('status exits 1 when installed but stopped, and when not installed', async () => {
    const machine = fakeMachine('linux', {
      answer: (_program, args) =>
        args[1] === 'show' ? { stdout: 'ActiveState=failed\nSubState=failed\nMainPID=0\n' } : undefined,
    });
    expect(await serviceStatus(machine.context, undefined)).toBe(1);
    expect(machine.output()).toContain("Perch's service is not installed");
    await serviceInstall(machine.context, undefined);
    expect(await serviceStatus(machine.context, undefined)).toBe(1);
    expect(machine.output()).toContain('Running:  no (systemd: failed (failed)');
  });

  it('status without a user bus falls back to the data folder`s service.json and a live pid', async () => {
    const machine = fakeMachine('linux', { answer: noUserBus });
    const dataDir = path.join(machine.home, 'data');
    mkdirSync(dataDir);
    await serviceInstall(machine.context, dataDir);
    expect(await serviceStatus(machine.context, dataDir)).toBe(1);
    expect(machine.output()).toContain('Running:  no (by');
    // This test process stands in for a running service.
    const url = 'http://127.0.0.1:8765';
    writeFileSync(
      path.join(dataDir, 'service.json'),
      JSON.stringify({ pid: process.pid, url, host: '127.0.0.1', port: 8765, version: '0', started_at: '' }),
    );
    expect(await serviceStatus(machine.context, dataDir)).toBe(0);
    expect(machine.output()).toContain(`Running:  yes, pid ${process.pid} (by ${path.join(dataDir, 'service.json')}`);
    expect(machine.output()).toContain(`URL:      ${url}`);
  });

  it('uninstall stops and disables it, removes the unit, and is a no-op the second time', async () => {
    const machine = fakeMachine('linux');
    await serviceInstall(machine.context, undefined);
    machine.calls.length = 0;
    expect(await serviceUninstall(machine.context, undefined)).toBe(0);
    expect(existsSync(unitPath(machine.home))).toBe(false);
    expect(machine.output()).toContain(`Stopped and removed Perch's systemd user unit: ${unitPath(machine.home)}`);
    expect(machine.calls.slice(0, 2)).toEqual([
      ['systemctl', '--user', 'disable', '--now', 'perch.service'],
      ['systemctl', '--user', 'daemon-reload'],
    ]);
    machine.calls.length = 0;
    expect(await serviceUninstall(machine.context, undefined)).toBe(0);
    expect(machine.output()).toContain("Perch's service is not installed");
    expect(machine.calls).toEqual([]);
  });

  it('uninstall without a user bus still removes the unit and its login link', async () => {
    const machine = fakeMachine('linux', { answer: noUserBus });
    await serviceInstall(machine.context, undefined);
    const link = path.join(path.dirname(unitPath(machine.home)), 'default.target.wants', 'perch.service');
    mkdirSync(path.dirname(link));
    symlinkSync(unitPath(machine.home), link);
    expect(await serviceUninstall(machine.context, undefined)).toBe(0);
    expect(existsSync(unitPath(machine.home))).toBe(false);
    expect(() => lstatSync(link)).toThrow();
    expect(machine.output()).toContain(`Removed Perch's systemd user unit: ${unitPath(machine.home)}`);
    expect(machine.output()).toContain('log out or stop it with: systemctl --user stop perch.service');
    expect(machine.output()).not.toContain('`');
  });
});

describe('perch service on macOS (launchd agent)', () => {
  const plistPath = (home: string): string => path.join(home, 'Library', 'LaunchAgents', 'app.perch.service.plist');

  it('install writes the agent and bootstraps it into the GUI session', async () => {
    const machine = fakeMachine('darwin');
    const dataDir = path.join(machine.home, 'Perch data');
    expect(await serviceInstall(machine.context, dataDir)).toBe(0);
    const plist = parsePlist(readFileSync(plistPath(machine.home), 'utf8'));
    expect(plist).toMatchObject({
      ProgramArguments: ['/opt/node 20/bin/node', '/opt/Perch App/bin/perch.js', 'serve', '--data-dir', dataDir],
      StandardErrorPath: path.join(dataDir, 'logs', 'service.err.log'),
    });
    // launchd does not create the log folder.
    expect(existsSync(path.join(dataDir, 'logs'))).toBe(true);
    expect(machine.calls).toEqual([
      ['launchctl', 'bootout', 'gui/501/app.perch.service'],
      ['launchctl', 'enable', 'gui/501/app.perch.service'],
      ['launchctl', 'bootstrap', 'gui/501', plistPath(machine.home)],
    ]);
  });

  it('falls back to `launchctl load -w` when bootstrap is refused', async () => {
    const machine = fakeMachine('darwin', {
      answer: (_program, args) =>
        args[0] === 'bootstrap' ? { code: 5, stderr: 'Bootstrap failed: 5: Input/output error' } : undefined,
    });
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(machine.calls.at(-1)).toEqual(['launchctl', 'load', '-w', plistPath(machine.home)]);
    expect(machine.output()).toContain('It runs perch serve now and at every login');
    expect(machine.output()).not.toContain('`');
  });

  it('without a GUI session (over SSH) says how to load it later, and still exits 0', async () => {
    const machine = fakeMachine('darwin', {
      answer: () => ({ code: 125, stderr: 'Bootstrap failed: 125: Domain does not support specified action' }),
    });
    expect(await serviceInstall(machine.context, undefined)).toBe(0);
    expect(existsSync(plistPath(machine.home))).toBe(true);
    expect(machine.output()).toContain(`launchctl bootstrap gui/$(id -u) '${plistPath(machine.home)}'`);
  });

  it('status reads launchd`s state and pid', async () => {
    const machine = fakeMachine('darwin', {
      answer: (_program, args) =>
        args[0] === 'print' ? { stdout: 'app.perch.service = {\n\tstate = running\n\tpid = 777\n}' } : undefined,
    });
    await serviceInstall(machine.context, undefined);
    expect(await serviceStatus(machine.context, undefined)).toBe(0);
    expect(machine.output()).toContain('Running:  yes, pid 777 (launchd: running)');
  });

  it('uninstall boots it out and removes the agent', async () => {
    const machine = fakeMachine('darwin');
    await serviceInstall(machine.context, undefined);
    machine.calls.length = 0;
    expect(await serviceUninstall(machine.context, undefined)).toBe(0);
    expect(machine.calls).toEqual([['launchctl', 'bootout', 'gui/501/app.perch.service']]);
    expect(existsSync(plistPath(machine.home))).toBe(false);
  });
});

describe('perch service on Windows (scheduled task)', () => {
  const notRegistered: Answer = (_program, args) =>
    args[0] === '/Query' ? { code: 1, stderr: 'ERROR: The system cannot find the file specified.' } : undefined;

  it('install registers the UTF-16 task definition from the data folder and runs it', async () => {
    const machine = fakeMachine('win32', { answer: notRegistered });
    const dataDir = path.join(machine.home, 'Perch');
    expect(await serviceInstall(machine.context, dataDir)).toBe(0);
    const file = path.join(dataDir, 'perch-task.xml');
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]);
    const task = parseXml(bytes.subarray(2).toString('utf16le'));
    expect(find(task, 'UserId')?.text).toBe('PC\\ada');
    expect(windowsArgs(find(task, 'Arguments')!.text)).toEqual(['/opt/Perch App/bin/perch.js', 'serve', '--data-dir', dataDir]);
    expect(machine.calls).toEqual([
      ['schtasks', '/Query', '/TN', 'Perch'],
      ['schtasks', '/Create', '/TN', 'Perch', '/XML', file, '/F'],
      ['schtasks', '/Run', '/TN', 'Perch'],
    ]);
  });

  it('without schtasks says how to register it, and still exits 0', async () => {
    const machine = fakeMachine('win32', { answer: () => ({ code: 127, missing: true }) });
    expect(await serviceInstall(machine.context, path.join(machine.home, 'Perch'))).toBe(0);
    expect(machine.output()).toContain('schtasks /Create /TN Perch /XML');
  });

  it('fails when schtasks refuses the task', async () => {
    const machine = fakeMachine('win32', {
      answer: (_program, args) =>
        args[0] === '/Create' ? { code: 1, stderr: 'ERROR: Access is denied.' } : notRegistered(_program, args),
    });
    expect(await serviceInstall(machine.context, path.join(machine.home, 'Perch'))).toBe(1);
    expect(machine.errors()).toContain('schtasks /Create failed: ERROR: Access is denied.');
  });

  it('status reads the task`s status', async () => {
    const machine = fakeMachine('win32', {
      answer: (_program, args) =>
        args[0] === '/Query' ? { stdout: 'TaskName:      \\Perch\r\nStatus:        Running\r\n' } : undefined,
    });
    expect(await serviceStatus(machine.context, path.join(machine.home, 'Perch'))).toBe(0);
    expect(machine.output()).toContain('Running:  yes (Task Scheduler: Running)');
  });

  it('uninstall ends and deletes the task and removes its definition', async () => {
    const machine = fakeMachine('win32');
    const dataDir = path.join(machine.home, 'Perch');
    await serviceInstall(machine.context, dataDir);
    machine.calls.length = 0;
    expect(await serviceUninstall(machine.context, dataDir)).toBe(0);
    expect(machine.calls).toEqual([
      ['schtasks', '/Query', '/TN', 'Perch'],
      ['schtasks', '/End', '/TN', 'Perch'],
      ['schtasks', '/Delete', '/TN', 'Perch', '/F'],
    ]);
    expect(existsSync(path.join(dataDir, 'perch-task.xml'))).toBe(false);
  });

  it('never writes ANTHROPIC_API_KEY into the task', async () => {
    const machine = fakeMachine('win32', { answer: notRegistered, env: { ANTHROPIC_API_KEY: TEST_API_KEY } });
    const dataDir = path.join(machine.home, 'Perch');
    await serviceInstall(machine.context, dataDir);
    expect(readFileSync(path.join(dataDir, 'perch-task.xml')).toString('utf16le')).not.toContain(TEST_API_KEY);
    expect(machine.output()).toContain('$env:ANTHROPIC_API_KEY | npx perch config set apiKey -');
  });
});

describe('perch service logs', () => {
  function withLog(content: string): { machine: FakeMachine; dataDir: string; file: string } {
    const machine = fakeMachine('linux');
    const dataDir = path.join(machine.home, 'data');
    const file = path.join(dataDir, 'logs', 'perch.log');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return { machine, dataDir, file };
  }

  it('prints the last N lines of logs/perch.log', async () => {
    const { machine, dataDir } = withLog(lines(10));
    expect(await serviceLogs(machine.context, dataDir, { lines: 3, follow: false })).toBe(0);
    expect(machine.output()).toBe('line 8\nline 9\nline 10\n');
  });

  it('reads only the end of a large log, across block boundaries and multi-byte characters', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'perch-log-'));
    const file = path.join(dir, 'perch.log');
    const long = Array.from({ length: 5000 }, (_, i) => `entry ${i} ${'é'.repeat(i % 40)}`);
    writeFileSync(file, `${long.join('\n')}\n`);
    expect(tailFile(file, 50).text).toBe(`${long.slice(-50).join('\n')}\n`);
    expect(tailFile(file, 5000).text).toBe(`${long.join('\n')}\n`);
    expect(tailFile(file, 9999).text).toBe(`${long.join('\n')}\n`);
  });

  it('without a log file says so and, on Linux, points at the journal', async () => {
    const machine = fakeMachine('linux');
    expect(await serviceLogs(machine.context, path.join(machine.home, 'none'), { lines: 50, follow: false })).toBe(1);
    expect(machine.errors()).toContain('there is no log file at');
    expect(machine.errors()).toContain('journalctl --user -u perch -n 50');
  });

  it('--follow prints what is appended, keeps going across a rotation, and ends with the signal', async () => {
    const { machine, dataDir, file } = withLog(lines(2));
    const stop = new AbortController();
    machine.context.signal = stop.signal;
    const following = serviceLogs(machine.context, dataDir, { lines: 1, follow: true });
    await expect.poll(() => machine.output()).toBe('line 2\n');
    appendFileSync(file, 'line 3\n');
    await expect.poll(() => machine.output()).toBe('line 2\nline 3\n');
    // The logger renames the full file away and starts a new one.
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'fresh 1\n');
    await expect.poll(() => machine.output()).toBe('line 2\nline 3\nfresh 1\n');
    stop.abort();
    expect(await following).toBe(0);
  });

  it('followFile returns at once when the signal is already aborted', async () => {
    const { file } = withLog('x\n');
    await followFile(file, 0, () => undefined, AbortSignal.abort());
  });
});

// ---------------------------------------------------------------------------------------------

describe('perch service, run for real (Linux)', () => {
  beforeAll(() => requireBuild());

  /** A folder holding a stand-in `systemctl` that records its arguments and answers as told. */
  function fakeSystemctl(script: string): { bin: string; log: string } {
    const bin = mkdtempSync(path.join(tmpdir(), 'perch-bin-'));
    const log = path.join(bin, 'calls.log');
    writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${log}'\n${script}\n`);
    chmodSync(path.join(bin, 'systemctl'), 0o755);
    return { bin, log };
  }

  it.skipIf(process.platform !== 'linux')('installs a unit that runs this node and this bin/perch.js', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'perch home-'));
    const { bin, log } = fakeSystemctl('exit 0');
    const dataDir = path.join(home, 'data with spaces');
    const result = await runPerch(['service', 'install', '--data-dir', dataDir], {
      env: { ...cliEnv({ HOME: home, PATH: bin }), ANTHROPIC_API_KEY: TEST_API_KEY },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const text = readFileSync(path.join(home, '.config', 'systemd', 'user', 'perch.service'), 'utf8');
    expect(systemdWords(unitValues(parseUnit(text), 'Service', 'ExecStart')[0]!)).toEqual([
      process.execPath,
      PERCH_BIN,
      'serve',
      '--data-dir',
      dataDir,
    ]);
    expect(text).not.toContain(TEST_API_KEY);
    expect(readFileSync(log, 'utf8')).toBe('--user daemon-reload\n--user enable --now perch.service\n');
    const uninstall = await runPerch(['service', 'uninstall', '--data-dir', dataDir], { env: cliEnv({ HOME: home, PATH: bin }) });
    expect(uninstall.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('--user disable --now perch.service\n');
  });

  it.skipIf(process.platform !== 'linux')('with no systemctl on PATH still exits 0 and says how to enable it', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'perch home-'));
    const empty = mkdtempSync(path.join(tmpdir(), 'perch-empty-'));
    const result = await runPerch(['service', 'install'], { env: cliEnv({ HOME: home, PATH: empty }) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('systemctl --user enable --now perch.service');
    const status = await runPerch(['service', 'status'], { env: cliEnv({ HOME: home, PATH: empty }) });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("Perch's service is installed");
    expect(status.stdout).toContain('Running:  no');
  });

  it('logs -n refuses what is not a number (usage error)', async () => {
    const result = await runPerch(['service', 'logs', '-n', 'lots']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected a number of lines');
  });

  it('logs prints the tail of the file through the real CLI', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'perch-test-'));
    mkdirSync(path.join(dataDir, 'logs'));
    writeFileSync(path.join(dataDir, 'logs', 'perch.log'), lines(60));
    const result = await runPerch(['service', 'logs', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(lines(50, 11));
  });
});

function lines(count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => `line ${i + from}`).join('\n') + '\n';
}

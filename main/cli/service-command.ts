import { execFile, type ExecFileException } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { dataFiles, defaultDataDir, ensureDataDir } from '../core/paths.js';
import { readRuntimeInfo, type RuntimeInfo } from '../core/runtime-file.js';
import { followFile, tailFile } from './log-tail.js';
import type { Output } from './output.js';
import { currentInstallation, isProcessAlive, type Installation } from './processes.js';
import type { CliEnvironment } from './program.js';
import {
  LAUNCHD_LABEL,
  launchdLogFiles,
  launchdPlist,
  SYSTEMD_UNIT,
  systemdUnit,
  utf16le,
  WINDOWS_TASK,
  windowsTaskXml,
  type ServiceDefinition,
} from './service-files.js';

/** What a service-manager command answered. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The program itself is not there (no systemd, not a Mac…). */
  missing?: boolean;
}

/** Runs a program without a shell; injectable so tests record systemctl/launchctl/schtasks calls. */
export type CommandRunner = (file: string, args: string[]) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 90_000, windowsHide: true }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const { code } = error as ExecFileException & { code?: number | string };
      if (code === 'ENOENT') resolve({ code: 127, stdout: '', stderr: `${file} was not found`, missing: true });
      else resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr: stderr || error.message });
    });
  });

/** Everything the service commands touch of the machine, so tests can play macOS or Windows on Linux. */
export interface ServiceContext {
  platform: NodeJS.Platform;
  home: string;
  env: NodeJS.ProcessEnv;
  /** launchd's per-user domain is gui/<uid>. */
  uid: number;
  /** DOMAIN\user: whose logon starts the Windows task. */
  windowsUser: string;
  run: CommandRunner;
  installation: Installation;
  out: Output;
  /** Ends `logs --follow`. */
  signal?: AbortSignal | undefined;
}

export function defaultServiceContext(env: NodeJS.ProcessEnv, out: Output, signal?: AbortSignal): ServiceContext {
  const user = env.USERNAME ?? userInfo().username;
  return {
    platform: process.platform,
    home: homedir(),
    env,
    uid: process.getuid?.() ?? 0,
    windowsUser: env.USERDOMAIN ? `${env.USERDOMAIN}\\${user}` : user,
    run: runCommand,
    installation: currentInstallation(),
    out,
    signal,
  };
}

/** The log file the service writes (rotated by the logger), inside the data folder. */
export const serviceLogFile = (dataDir: string): string => path.join(dataDir, 'logs', 'perch.log');

interface DataDirChoice {
  dataDir: string;
  /** How the person chose it: the service must be told the same way. */
  chosenBy: 'flag' | 'environment' | 'default';
}

function chooseDataDir(context: ServiceContext, flag: string | undefined): DataDirChoice {
  if (flag !== undefined) return { dataDir: path.resolve(flag), chosenBy: 'flag' };
  if (context.env.PERCH_DATA_DIR) return { dataDir: path.resolve(context.env.PERCH_DATA_DIR), chosenBy: 'environment' };
  return { dataDir: defaultDataDir(context.env, context.platform, context.home), chosenBy: 'default' };
}

/** A word for a POSIX shell, in single quotes unless it is plain. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/** What later `perch` commands need to be told to find the same data folder. */
const dataDirSuffix = (choice: DataDirChoice, platform: NodeJS.Platform): string => {
  if (choice.chosenBy !== 'flag') return '';
  return ` --data-dir ${platform === 'win32' ? `"${choice.dataDir}"` : shellQuote(choice.dataDir)}`;
};

const firstLine = (result: CommandResult): string =>
  (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`).split('\n')[0] ?? '';

type Activation = { done: true; notes?: string[] } | { done: false; reason: string; howToLater: string[] } | { failed: string };

interface ManagerState {
  /** Whether the service manager answered at all. */
  reachable: boolean;
  installed: boolean;
  running?: boolean | undefined;
  pid?: number | undefined;
  /** The manager's own words, e.g. "active (running), enabled". */
  detail?: string | undefined;
  /** Why it did not answer. */
  reason?: string | undefined;
}

type Removal = { removed: false } | { removed: true; stopped: boolean; notes: string[] } | { failed: string };

/** One OS's service manager. */
interface ServiceManager {
  /** What it is called, for messages. */
  name: string;
  /** The file that defines the service. */
  file: string;
  installed(): Promise<boolean>;
  write(definition: ServiceDefinition): void;
  activate(replacing: boolean): Promise<Activation>;
  remove(): Promise<Removal>;
  query(): Promise<ManagerState>;
}

function removeFile(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function systemdManager(context: ServiceContext): ServiceManager {
  const configHome =
    context.env.XDG_CONFIG_HOME && path.isAbsolute(context.env.XDG_CONFIG_HOME)
      ? context.env.XDG_CONFIG_HOME
      : path.join(context.home, '.config');
  const unitDir = path.join(configHome, 'systemd', 'user');
  const file = path.join(unitDir, SYSTEMD_UNIT);
  // `systemctl enable` links the unit here; without a reachable systemd it is removed by hand.
  const wantsLink = path.join(unitDir, 'default.target.wants', SYSTEMD_UNIT);
  const systemctl = (...args: string[]): Promise<CommandResult> => context.run('systemctl', ['--user', ...args]);
  const unreachable = (result: CommandResult): string =>
    result.missing
      ? 'systemctl is not installed here (no systemd, as in most containers)'
      : `systemd's user manager did not answer: ${firstLine(result)}`;
  return {
    name: 'systemd user unit',
    file,
    installed: () => Promise.resolve(existsSync(file)),
    write(definition) {
      mkdirSync(unitDir, { recursive: true });
      // Readable by systemd; it holds paths only, never a secret.
      writeFileSync(file, systemdUnit(definition), { mode: 0o644 });
    },
    async activate(replacing) {
      const reload = await systemctl('daemon-reload');
      if (reload.code !== 0) {
        return {
          done: false,
          reason: unreachable(reload),
          howToLater: ['systemctl --user daemon-reload', `systemctl --user enable --now ${SYSTEMD_UNIT}`],
        };
      }
      const enable = await systemctl('enable', '--now', SYSTEMD_UNIT);
      if (enable.code !== 0) return { failed: `systemctl --user enable --now ${SYSTEMD_UNIT} failed: ${firstLine(enable)}` };
      if (replacing) {
        // It may have been running the previous definition.
        const restart = await systemctl('restart', SYSTEMD_UNIT);
        if (restart.code !== 0) return { failed: `systemctl --user restart ${SYSTEMD_UNIT} failed: ${firstLine(restart)}` };
      }
      return {
        done: true,
        notes: [
          `To keep it running after you log out (and start it at boot), run: loginctl enable-linger ${context.env.USER ?? '$USER'}`,
        ],
      };
    },
    async remove() {
      if (!existsSync(file)) return { removed: false };
      const notes: string[] = [];
      // Stops it gracefully (systemd waits for the answers in flight) and removes the login link.
      const disable = await systemctl('disable', '--now', SYSTEMD_UNIT);
      if (disable.code !== 0) {
        notes.push(
          `Could not stop it (${disable.missing ? unreachable(disable) : firstLine(disable)}); if it is still running, log out or stop it with: systemctl --user stop ${SYSTEMD_UNIT}`,
        );
      }
      removeFile(file);
      try {
        if (lstatSync(wantsLink).isSymbolicLink()) removeFile(wantsLink);
      } catch {
        // Not enabled.
      }
      if (disable.code === 0) {
        await systemctl('daemon-reload');
        await systemctl('reset-failed', SYSTEMD_UNIT);
      }
      return { removed: true, stopped: disable.code === 0, notes };
    },
    async query() {
      const installed = existsSync(file);
      const show = await systemctl('show', SYSTEMD_UNIT, '--property=LoadState,ActiveState,SubState,MainPID,UnitFileState');
      if (show.code !== 0) return { reachable: false, installed, reason: unreachable(show) };
      const properties = new Map(
        show.stdout
          .split('\n')
          .map((line) => line.trim().split('='))
          .filter((pair): pair is [string, string] => pair.length >= 2)
          .map(([key, ...value]) => [key, value.join('=')]),
      );
      const active = properties.get('ActiveState') ?? 'unknown';
      const pid = Number(properties.get('MainPID') ?? 0);
      return {
        reachable: true,
        installed,
        running: active === 'active' || active === 'reloading',
        pid: pid > 0 ? pid : undefined,
        detail: `systemd: ${active} (${properties.get('SubState') ?? '?'}), ${properties.get('UnitFileState') || 'not enabled'}`,
      };
    },
  };
}

function launchdManager(context: ServiceContext, dataDir: string): ServiceManager {
  const agentsDir = path.join(context.home, 'Library', 'LaunchAgents');
  const file = path.join(agentsDir, `${LAUNCHD_LABEL}.plist`);
  const domain = `gui/${context.uid}`;
  const target = `${domain}/${LAUNCHD_LABEL}`;
  const launchctl = (...args: string[]): Promise<CommandResult> => context.run('launchctl', args);
  return {
    name: 'launchd agent',
    file,
    installed: () => Promise.resolve(existsSync(file)),
    write(definition) {
      const logsDir = path.join(ensureDataDir(dataDir), 'logs');
      // launchd opens the log files but does not create their folder.
      mkdirSync(logsDir, { recursive: true, mode: 0o700 });
      mkdirSync(agentsDir, { recursive: true });
      writeFileSync(file, launchdPlist(definition, logsDir), { mode: 0o644 });
    },
    async activate() {
      // A loaded previous definition would make bootstrap fail; an earlier `disable` would keep it off.
      await launchctl('bootout', target);
      await launchctl('enable', target);
      const bootstrap = await launchctl('bootstrap', domain, file);
      if (bootstrap.code === 0) return { done: true };
      // Older macOS, or a domain bootstrap does not accept: the legacy command.
      const load = await launchctl('load', '-w', file);
      if (load.code === 0 && !/error|failed/i.test(load.stderr)) return { done: true };
      return {
        done: false,
        reason: bootstrap.missing
          ? 'launchctl is not available here'
          : `launchd did not load it (${firstLine(bootstrap)}); a session over SSH has no GUI domain`,
        howToLater: [`launchctl bootstrap gui/$(id -u) ${shellQuote(file)}`],
      };
    },
    async remove() {
      if (!existsSync(file)) return { removed: false };
      const notes: string[] = [];
      // bootout sends SIGTERM and waits up to ExitTimeOut: answers in flight finish.
      const bootout = await launchctl('bootout', target);
      let stopped = bootout.code === 0;
      if (!stopped) {
        const unload = await launchctl('unload', '-w', file);
        // Not loaded at all is as good as stopped.
        stopped = unload.code === 0 || /could not find|no such process/i.test(bootout.stdout + bootout.stderr);
        if (!stopped)
          notes.push(`launchd did not answer (${firstLine(bootout)}); if Perch is still running, it stops at logout.`);
      }
      removeFile(file);
      return { removed: true, stopped, notes };
    },
    async query() {
      const installed = existsSync(file);
      const print = await launchctl('print', target);
      if (print.code === 0) {
        const state = /^\s*state = (\S+)/m.exec(print.stdout)?.[1];
        const pid = Number(/^\s*pid = (\d+)/m.exec(print.stdout)?.[1] ?? 0);
        return {
          reachable: true,
          installed,
          running: state === 'running',
          pid: pid > 0 ? pid : undefined,
          detail: `launchd: ${state ?? 'loaded'}`,
        };
      }
      if (/could not find service/i.test(print.stdout + print.stderr)) {
        return { reachable: true, installed, running: false, detail: 'launchd: not loaded' };
      }
      const list = await launchctl('list', LAUNCHD_LABEL);
      if (list.code === 0) {
        const pid = Number(/"PID"\s*=\s*(\d+)/.exec(list.stdout)?.[1] ?? 0);
        return { reachable: true, installed, running: pid > 0, pid: pid > 0 ? pid : undefined, detail: 'launchd: loaded' };
      }
      return {
        reachable: false,
        installed,
        reason: print.missing ? 'launchctl is not available here' : `launchd did not answer: ${firstLine(print)}`,
      };
    },
  };
}

function taskSchedulerManager(context: ServiceContext, dataDir: string): ServiceManager {
  // Task Scheduler keeps the definition itself; this copy is what was given to schtasks /XML.
  const file = path.join(dataDir, 'perch-task.xml');
  const schtasks = (...args: string[]): Promise<CommandResult> => context.run('schtasks', args);
  const notAvailable = 'schtasks is not available here';
  return {
    name: 'scheduled task',
    file,
    async installed() {
      const query = await schtasks('/Query', '/TN', WINDOWS_TASK);
      return query.missing ? existsSync(file) : query.code === 0;
    },
    write(definition) {
      ensureDataDir(dataDir);
      writeFileSync(file, utf16le(windowsTaskXml(definition, context.windowsUser)), { mode: 0o600 });
    },
    async activate(replacing) {
      const create = await schtasks('/Create', '/TN', WINDOWS_TASK, '/XML', file, '/F');
      const howToLater = [`schtasks /Create /TN ${WINDOWS_TASK} /XML "${file}" /F`, `schtasks /Run /TN ${WINDOWS_TASK}`];
      if (create.missing) return { done: false, reason: notAvailable, howToLater };
      if (create.code !== 0) return { failed: `schtasks /Create failed: ${firstLine(create)}` };
      // /End stops it hard: Windows has no SIGTERM for a console program.
      if (replacing) await schtasks('/End', '/TN', WINDOWS_TASK);
      const run = await schtasks('/Run', '/TN', WINDOWS_TASK);
      if (run.code !== 0) return { failed: `schtasks /Run failed: ${firstLine(run)}` };
      return { done: true };
    },
    async remove() {
      const query = await schtasks('/Query', '/TN', WINDOWS_TASK);
      const registered = query.code === 0;
      if (!registered && !existsSync(file)) return { removed: false };
      const notes: string[] = [];
      if (registered) {
        await schtasks('/End', '/TN', WINDOWS_TASK);
        const removal = await schtasks('/Delete', '/TN', WINDOWS_TASK, '/F');
        if (removal.code !== 0) return { failed: `schtasks /Delete failed: ${firstLine(removal)}` };
      } else if (query.missing) {
        notes.push(`${notAvailable}: if the task is still registered, remove it with: schtasks /Delete /TN ${WINDOWS_TASK} /F`);
      }
      removeFile(file);
      return { removed: true, stopped: registered, notes };
    },
    async query() {
      const query = await schtasks('/Query', '/TN', WINDOWS_TASK, '/FO', 'LIST');
      if (query.missing) return { reachable: false, installed: existsSync(file), reason: notAvailable };
      if (query.code !== 0) return { reachable: true, installed: false, running: false };
      const status = /^Status:\s*(.+)$/m.exec(query.stdout)?.[1]?.trim();
      // The labels are translated on other Windows languages: then service.json decides.
      return {
        reachable: true,
        installed: true,
        running: status === undefined ? undefined : /running/i.test(status),
        detail: status ? `Task Scheduler: ${status}` : undefined,
      };
    },
  };
}

function serviceManager(context: ServiceContext, dataDir: string): ServiceManager {
  if (context.platform === 'linux') return systemdManager(context);
  if (context.platform === 'darwin') return launchdManager(context, dataDir);
  if (context.platform === 'win32') return taskSchedulerManager(context, dataDir);
  throw new Error(
    `perch service supports Linux (systemd), macOS (launchd) and Windows (Task Scheduler), not ${context.platform}.`,
  );
}

/** A running Perch for this data folder, by its service.json and a live pid. */
function runningPerch(dataDir: string): RuntimeInfo | undefined {
  const info = readRuntimeInfo(dataDir);
  return info && isProcessAlive(info.pid) ? info : undefined;
}

/** What the service will not see from this shell, and how to give it to it instead. */
function environmentNotes(context: ServiceContext, choice: DataDirChoice): string[] {
  const notes: string[] = [];
  const suffix = dataDirSuffix(choice, context.platform);
  let stored = false;
  try {
    stored = readFileSync(path.join(choice.dataDir, dataFiles.apiKey), 'utf8').trim() !== '';
  } catch {
    // No key stored.
  }
  if (!stored && context.env.ANTHROPIC_API_KEY?.trim()) {
    // Never into the service file: that is readable by other programs and ends up in backups.
    const pipe = context.platform === 'win32' ? '$env:ANTHROPIC_API_KEY' : 'printenv ANTHROPIC_API_KEY';
    notes.push(
      'ANTHROPIC_API_KEY is set in this shell, but the service does not start from it, and Perch never writes the key into a service file. Store it for the service (in an owner-only file) with:',
      `  ${pipe} | npx perch config set apiKey -${suffix}`,
    );
  } else if (!stored) {
    notes.push(`No API key is stored: chat answers 503 until you run: npx perch config set apiKey -${suffix}`);
  }
  const carried: Array<[string, string]> = [
    ['PERCH_PORT', 'api.port'],
    ['PERCH_HOST', 'api.host'],
    ['PERCH_ALLOWED_HOSTS', 'api.allowedHosts'],
    ['PERCH_UPSTREAM_URL', 'claude.upstreamUrl'],
  ];
  for (const [variable, key] of carried) {
    const value = context.env[variable];
    if (value) {
      notes.push(
        `${variable} is set in this shell but is not carried into the service; to keep it, run: npx perch config set ${key} ${value}${suffix}`,
      );
    }
  }
  if (/[\\/]_npx[\\/]/.test(context.installation.entry)) {
    notes.push(
      `This Perch runs from npx's cache (${context.installation.entry}), which npm may clean: install Perch (a clone, or npm install -g) and run perch service install from there.`,
    );
  }
  return notes;
}

/** `perch service install`. */
export async function serviceInstall(context: ServiceContext, dataDirFlag: string | undefined): Promise<number> {
  const { out } = context;
  const choice = chooseDataDir(context, dataDirFlag);
  const manager = serviceManager(context, choice.dataDir);
  const definition: ServiceDefinition = {
    node: context.installation.node,
    entry: context.installation.entry,
    serveArgs: choice.chosenBy === 'flag' ? ['--data-dir', choice.dataDir] : [],
    environment: choice.chosenBy === 'environment' ? { PERCH_DATA_DIR: choice.dataDir } : {},
    dataDir: choice.dataDir,
  };
  const replacing = await manager.installed();
  const other = replacing ? undefined : runningPerch(choice.dataDir);
  manager.write(definition);
  out.stdout(`${replacing ? 'Updated' : 'Wrote'} Perch's ${manager.name}: ${manager.file}`);
  const activation = await manager.activate(replacing);
  if ('failed' in activation) {
    out.stderr(`perch: ${activation.failed}`);
    return 1;
  }
  if (activation.done) {
    out.stdout('It runs perch serve now and at every login, and restarts it if it fails.');
    for (const note of activation.notes ?? []) out.stdout(note);
  } else {
    out.stdout(`It is not enabled yet: ${activation.reason}.`);
    out.stdout('To start it now and at every login, run this in your desktop session:');
    for (const line of activation.howToLater) out.stdout(`  ${line}`);
  }
  if (other) {
    out.stdout(
      `Perch is already running at ${other.url} (pid ${other.pid}): the service cannot listen on the same port until it stops (if you started it with perch daemon, stop it with npx perch daemon stop).`,
    );
  }
  for (const note of environmentNotes(context, choice)) out.stdout(note);
  const suffix = dataDirSuffix(choice, context.platform);
  out.stdout(`Check it with: npx perch service status${suffix}`);
  out.stdout(`Read its log with: npx perch service logs${suffix}`);
  return 0;
}

/** `perch service uninstall`: stops, disables and removes it; nothing installed is not an error. */
export async function serviceUninstall(context: ServiceContext, dataDirFlag: string | undefined): Promise<number> {
  const { out } = context;
  const choice = chooseDataDir(context, dataDirFlag);
  const manager = serviceManager(context, choice.dataDir);
  const removal = await manager.remove();
  if ('failed' in removal) {
    out.stderr(`perch: ${removal.failed}`);
    return 1;
  }
  if (!removal.removed) {
    out.stdout(`Perch's service is not installed (no ${manager.file}); nothing to remove.`);
    return 0;
  }
  out.stdout(`${removal.stopped ? 'Stopped and removed' : 'Removed'} Perch's ${manager.name}: ${manager.file}`);
  for (const note of removal.notes) out.stdout(note);
  return 0;
}

/** `perch service status`: exit 0 when it is installed and running. */
export async function serviceStatus(context: ServiceContext, dataDirFlag: string | undefined): Promise<number> {
  const { out } = context;
  const choice = chooseDataDir(context, dataDirFlag);
  const manager = serviceManager(context, choice.dataDir);
  const state = await manager.query();
  const runtime = runningPerch(choice.dataDir);
  const suffix = dataDirSuffix(choice, context.platform);
  if (!state.installed) {
    out.stdout(`Perch's service is not installed (${manager.name}: ${manager.file}).`);
    if (runtime) {
      out.stdout(`Perch is running anyway at ${runtime.url} (pid ${runtime.pid}), started by perch serve or perch daemon.`);
    }
    out.stdout(`Install it with: npx perch service install${suffix}`);
    return 1;
  }
  out.stdout(`Perch's service is installed: ${manager.file}`);
  let running: boolean;
  let how: string;
  if (state.reachable && state.running !== undefined) {
    running = state.running;
    how = state.detail ?? manager.name;
  } else {
    // The manager cannot be asked: whether a Perch runs on this data folder is the next best answer.
    running = runtime !== undefined;
    how = `by ${path.join(choice.dataDir, dataFiles.runtime)}${state.reason ? `; ${state.reason}` : ''}`;
  }
  const pid = state.pid ?? runtime?.pid;
  out.stdout(`  Running:  ${running ? `yes${pid ? `, pid ${pid}` : ''}` : 'no'} (${how})`);
  if (running && runtime) out.stdout(`  URL:      ${runtime.url}`);
  out.stdout(`  Logs:     npx perch service logs${suffix}`);
  return running ? 0 : 1;
}

export interface LogsOptions {
  lines: number;
  follow: boolean;
}

/** `perch service logs`: the tail of <dataDir>/logs/perch.log, and what is appended with --follow. */
export async function serviceLogs(
  context: ServiceContext,
  dataDirFlag: string | undefined,
  options: LogsOptions,
): Promise<number> {
  const { out } = context;
  const { dataDir } = chooseDataDir(context, dataDirFlag);
  const file = serviceLogFile(dataDir);
  if (!existsSync(file)) {
    out.stderr(`perch: there is no log file at ${file} (yet).`);
    if (context.platform === 'linux') {
      out.stderr(
        `The service's output is in the journal: journalctl --user -u perch -n ${options.lines}${options.follow ? ' -f' : ''}`,
      );
    }
    const logsDir = path.dirname(file);
    const others = [launchdLogFiles.stderr, launchdLogFiles.stdout, 'daemon.log']
      .map((name) => path.join(logsDir, name))
      .filter((candidate) => existsSync(candidate));
    for (const candidate of others) out.stderr(`Output was also written to ${candidate}`);
    return 1;
  }
  const { text, size } = tailFile(file, options.lines);
  out.write(text);
  if (options.follow) await followFile(file, size, out.write, context.signal);
  return 0;
}

function parseLineCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a number of lines.');
  return Number(value);
}

export const dataDirOption = [
  '--data-dir <dir>',
  'data directory (default: $PERCH_DATA_DIR or the per-user app-data folder)',
] as const;

/** `perch service install|uninstall|status|logs`. */
export function addServiceCommand(program: Command, environment: CliEnvironment): void {
  const context = (): ServiceContext => defaultServiceContext(environment.env, environment.out, environment.signal);
  const service = program
    .command('service')
    .description('run perch serve at login, restarted if it fails (systemd user unit, launchd agent, scheduled task)');
  service
    .command('install')
    .description('install and start the service (again: updates it)')
    .option(...dataDirOption)
    .action(async (options: { dataDir?: string }) => {
      environment.setExitCode(await serviceInstall(context(), options.dataDir));
    });
  service
    .command('uninstall')
    .description('stop, disable and remove the service')
    .option(...dataDirOption)
    .action(async (options: { dataDir?: string }) => {
      environment.setExitCode(await serviceUninstall(context(), options.dataDir));
    });
  service
    .command('status')
    .description('is it installed, where, is it running (exit 0 only when running)')
    .option(...dataDirOption)
    .action(async (options: { dataDir?: string }) => {
      environment.setExitCode(await serviceStatus(context(), options.dataDir));
    });
  service
    .command('logs')
    .description("print the end of Perch's log file (logs/perch.log in the data folder)")
    .option('-n, --lines <n>', 'how many lines', parseLineCount, 50)
    .option('-f, --follow', 'keep printing what is appended, until Ctrl-C')
    .option(...dataDirOption)
    .action(async (options: { lines: number; follow?: boolean; dataDir?: string }) => {
      environment.setExitCode(
        await serviceLogs(context(), options.dataDir, { lines: options.lines, follow: options.follow ?? false }),
      );
    });
}

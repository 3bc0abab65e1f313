import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isPerchError } from '../core/errors.js';
import { resolveDataDir } from '../core/paths.js';
import { TokenStore } from '../core/secrets.js';
import { ensureDataDir } from '../core/paths.js';
import { PERCH_VERSION } from '../core/version.js';
import { ask } from './ask-command.js';
import { configGet, configReset, configSet } from './config-command.js';
import { addDaemonCommand } from './daemon-command.js';
import { review } from './review-command.js';
import { ServiceDownError } from './service-client.js';
import { addServiceCommand } from './service-command.js';
import { addTaskCommand } from './task-command.js';
import { addWorkspaceCommand } from './workspace-command.js';
import { status } from './status-command.js';
import { processOutput, readAllStdin, stdinLineReader, type Output } from './output.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

interface ServeFlags {
  port?: number;
  host?: string;
  dataDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  sslCert?: string;
  sslKey?: string;
}

/** The certificate and key for HTTPS (`--ssl-*` are the older names, still accepted). */
function tlsFiles(flags: ServeFlags): { certFile: string; keyFile: string } | undefined {
  const certFile = flags.tlsCert ?? flags.sslCert;
  const keyFile = flags.tlsKey ?? flags.sslKey;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new Error('HTTPS needs both --tls-cert <file> and --tls-key <file>.');
  }
  return { certFile, keyFile };
}

const dataDirOption = ['--data-dir <dir>', 'data directory (default: $PERCH_DATA_DIR or the per-user app-data folder)'] as const;

/** The built web UI sits next to the built CLI: out/main/cli.js → out/renderer. */
const defaultStaticDir = (): string => fileURLToPath(new URL('../renderer', import.meta.url));

export interface CliEnvironment {
  env: NodeJS.ProcessEnv;
  out: Output;
  readStdin: () => Promise<string>;
  /** Whether stdin is piped (then `perch ask` reads it). */
  stdinPiped: boolean;
  staticDir: string;
  /** Cancels a request in flight (Ctrl-C during an answer). */
  signal?: AbortSignal;
  /** Lets a command end with a code other than 0 without it being an error. */
  setExitCode: (code: number) => void;
  /** Asks the person one line (a terminal, or piped answers); undefined when stdin has ended. */
  readLine: (prompt: string) => Promise<string | undefined>;
}

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, error: 1, serviceDown: 2, cancelled: 130 } as const;

export function buildProgram(environment: CliEnvironment): Command {
  const { env, out } = environment;
  const program = new Command('perch')
    .description('Perch: Claude, always at hand — a local API, a web UI and a desktop tray app.')
    .version(PERCH_VERSION, '-v, --version')
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => out.stdout(text.trimEnd()), writeErr: (text) => out.stderr(text.trimEnd()) });

  program
    .command('serve')
    .description('run the Perch service (API and web UI) in the foreground until Ctrl-C')
    .option('-p, --port <port>', 'port to listen on (default: setting api.port, 8080)', parsePort)
    .option('--host <address>', 'address to bind (default: setting api.host, 127.0.0.1)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key for --tls-cert')
    .addOption(new Option('--ssl-cert <file>').hideHelp())
    .addOption(new Option('--ssl-key <file>').hideHelp())
    .option(...dataDirOption)
    .action(async (options: ServeFlags) => {
      // The service (express, the SDK, SQLite) loads only for `serve`: other commands stay quick.
      const { serve } = await import('./serve-command.js');
      await serve(
        {
          dataDir: resolveDataDir(options.dataDir, env),
          dataDirGiven: options.dataDir !== undefined,
          port: options.port,
          host: options.host,
          tls: tlsFiles(options),
          staticDir: environment.staticDir,
          env,
        },
        out,
      );
    });

  program
    .command('token')
    .description('print the client API token (creating it if missing)')
    .option('--regenerate', 'replace the token; the running service accepts only the new one at once')
    .option(...dataDirOption)
    .action((options: { regenerate?: boolean; dataDir?: string }) => {
      const tokens = new TokenStore(ensureDataDir(resolveDataDir(options.dataDir, env)));
      out.stdout(options.regenerate ? tokens.regenerate() : tokens.get());
    });

  program
    .command('ask')
    .description('ask the running service; piped input is sent too (git diff | perch ask "review this")')
    .argument('[question...]', 'the question (optional when input is piped)')
    .option('--session <id>', 'continue this session')
    .option('--new', 'start a new session (by default ask continues its last one if used in the last 30 minutes)')
    .option('--model <model>', 'model for this answer')
    .option('--system <prompt>', 'system prompt for a new session')
    .option('--json', 'print the whole answer as JSON instead of streaming the text')
    .option(...dataDirOption)
    .action(
      async (
        words: string[],
        options: { session?: string; new?: boolean; model?: string; system?: string; json?: boolean; dataDir?: string },
      ) => {
        const piped = environment.stdinPiped ? await environment.readStdin() : undefined;
        await ask(resolveDataDir(options.dataDir, env), env, words, piped, options, out, environment.signal);
      },
    );

  program
    .command('review')
    .description('review code files with Claude, one streamed review per file')
    .argument('<files...>', 'files to review')
    .option('--focus <text>', 'what to look at most (e.g. "security")')
    .option('--model <model>', 'model for the review')
    .option('--json', 'print each review as JSON')
    .option(...dataDirOption)
    .action(async (files: string[], options: { focus?: string; model?: string; json?: boolean; dataDir?: string }) => {
      await review(resolveDataDir(options.dataDir, env), env, files, options, out, environment.signal);
    });

  program
    .command('status')
    .description('is the service up, on which port, with which model, and does Claude answer (exit 0 only when up)')
    .option('--json', 'print the status as JSON')
    .option(...dataDirOption)
    .action(async (options: { json?: boolean; dataDir?: string }) => {
      environment.setExitCode(await status(resolveDataDir(options.dataDir, env), env, options, out));
    });

  const config = program.command('config').description('read and change settings by dotted key (e.g. api.port)');
  config
    .command('get')
    .argument('[key]', 'dotted key such as claude.model; omit for all settings')
    .option(...dataDirOption)
    .description('print a setting, or all of them')
    .action((key: string | undefined, options: { dataDir?: string }) => {
      configGet(ensureDataDir(resolveDataDir(options.dataDir, env)), key, out, env);
    });
  config
    .command('set')
    .argument('<key>', 'dotted key such as api.port, or apiKey')
    .argument('<value>', 'the value, parsed by the setting\'s type ("20" → 20); for apiKey, "-" reads stdin')
    .option(...dataDirOption)
    .description('change a setting (validated; a bad value changes nothing)')
    .action(async (key: string, value: string, options: { dataDir?: string }) => {
      await configSet(ensureDataDir(resolveDataDir(options.dataDir, env)), key, value, out, env, environment.readStdin);
    });
  config
    .command('reset')
    .argument('<key>', 'dotted key to return to its default, or apiKey to remove the stored key')
    .option(...dataDirOption)
    .description('return a setting to its default')
    .action((key: string, options: { dataDir?: string }) => {
      configReset(ensureDataDir(resolveDataDir(options.dataDir, env)), key, out, env);
    });

  // perch workspace add|list|remove, perch task …
  addWorkspaceCommand(program, environment, dataDirOption);
  addTaskCommand(program, environment, dataDirOption);
  // perch service install|uninstall|status|logs, perch daemon start|stop|status
  addServiceCommand(program, environment);
  addDaemonCommand(program, environment);
  return program;
}

/** Runs the CLI; resolves with the exit code (serve keeps the process alive on its own). */
export async function runCli(argv: string[], environment: Partial<Omit<CliEnvironment, 'setExitCode'>> = {}): Promise<number> {
  let exitCode: number = EXIT.ok;
  const out = environment.out ?? processOutput;
  const resolved: CliEnvironment = {
    env: environment.env ?? process.env,
    out,
    readLine: environment.readLine ?? stdinLineReader(out),
    readStdin: environment.readStdin ?? (() => readAllStdin()),
    stdinPiped: environment.stdinPiped ?? !process.stdin.isTTY,
    staticDir: environment.staticDir ?? defaultStaticDir(),
    ...(environment.signal ? { signal: environment.signal } : {}),
    setExitCode: (code) => {
      exitCode = code;
    },
  };
  const program = buildProgram(resolved);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return EXIT.ok;
    if (code?.startsWith('commander.')) return (error as { exitCode?: number }).exitCode ?? EXIT.error;
    if ((error as Error).name === 'AbortError') {
      resolved.out.stderr('perch: cancelled.');
      return EXIT.cancelled;
    }
    const message = isPerchError(error) || error instanceof Error ? error.message : String(error);
    resolved.out.stderr(`perch: ${message}`);
    return error instanceof ServiceDownError ? EXIT.serviceDown : EXIT.error;
  }
}

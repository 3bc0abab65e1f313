import { openLogFile } from '../core/log-files.js';
import { createLogger } from '../core/logger.js';
import { startService, type RunningService } from '../service.js';
import type { Output } from './output.js';

export interface ServeOptions {
  dataDir: string;
  /** Whether the person chose the folder (then `perch token` needs to be told it too). */
  dataDirGiven: boolean;
  port?: number | undefined;
  host?: string | undefined;
  /** Serve HTTPS with these PEM files. */
  tls?: { certFile: string; keyFile: string } | undefined;
  staticDir?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** How long answers in flight may take to finish after SIGINT/SIGTERM before they are saved as partial. */
const SHUTDOWN_GRACE_MS = 10_000;

/** `perch serve`: the service in the foreground until SIGINT or SIGTERM. */
export async function serve(options: ServeOptions, out: Output): Promise<RunningService> {
  // Short lines in the terminal, and JSON in <dataDir>/logs/perch.log (flushed at exit).
  const logger = createLogger({ pretty: true, file: openLogFile(options.dataDir) });
  const running = await startService({
    dataDir: options.dataDir,
    env: options.env,
    logger,
    port: options.port,
    host: options.host,
    tls: options.tls,
    staticDir: options.staticDir,
  });
  const { core } = running;
  const settings = core.currentSettings();
  const keyOrigin = core.apiKeys.origin();
  out.stdout(`Perch ${core.version} is listening on ${running.url}`);
  out.stdout(`  API token:  npx perch token${options.dataDirGiven ? ` --data-dir ${JSON.stringify(options.dataDir)}` : ''}`);
  out.stdout(`  Model:      ${settings.claude.model} via ${settings.claude.upstreamUrl}`);
  out.stdout(`  Data:       ${core.dataDir}`);
  if (keyOrigin === undefined) {
    out.stdout('  API key:    not set — chat answers 503 until you set ANTHROPIC_API_KEY or run: npx perch config set apiKey -');
  } else {
    out.stdout(`  API key:    set${keyOrigin === 'environment' ? ' (from ANTHROPIC_API_KEY)' : ''}`);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      out.stderr(`Received ${signal} again; exiting now.`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`Received ${signal}; finishing answers in flight (up to ${SHUTDOWN_GRACE_MS / 1000} s), then stopping.`);
    running.stop({ graceMs: SHUTDOWN_GRACE_MS }).then(
      () => {
        logger.info('Perch stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        out.stderr(`perch: error while stopping: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // conf's atomic writer (via when-exit) re-raises these signals to kill the process at once,
    // which would cut the graceful stop short; its temp-file cleanup still runs on 'exit'.
    // Ours goes on first: were the count to drop to zero, Node would stop watching the signal,
    // and one that just arrived (a quick Ctrl-C, a supervisor's SIGTERM) would be lost.
    const others = process.listeners(signal);
    process.on(signal, shutdown);
    for (const other of others) process.off(signal, other);
  }
  return running;
}

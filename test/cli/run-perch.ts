import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PERCH_BIN = fileURLToPath(new URL('../../bin/perch.js', import.meta.url));
const BUILT_CLI = fileURLToPath(new URL('../../out/main/cli.js', import.meta.url));

export function requireBuild(): void {
  if (!existsSync(BUILT_CLI)) throw new Error('The CLI tests run the built `perch`: run `npm run build` first (npm test does).');
}

/** A clean environment: nothing from the developer's shell leaks into the CLI under test. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `perch …` to completion. */
export function runPerch(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PERCH_BIN, ...args], { env: options.env ?? cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `perch serve …` and resolves once it prints the address it listens on. */
export function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [PERCH_BIN, 'serve', ...args], { env });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`perch serve did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (https?:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`perch serve exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Stops a server these tests started and have no more use for: SIGTERM, then SIGKILL if it is
 * still there after `patienceMs` (the graceful stop itself is specified in cli.test.ts; a
 * cleanup must not hang a test that checks something else), saying so with its output.
 */
export async function stopServe(serve: ServeProcess, patienceMs = 20_000): Promise<void> {
  serve.child.kill('SIGTERM');
  const late = setTimeout(() => {
    console.warn(
      `perch serve (pid ${serve.child.pid}) ignored SIGTERM for ${patienceMs} ms; killing it. Its output:\n${serve.output()}`,
    );
    serve.child.kill('SIGKILL');
  }, patienceMs);
  await serve.exited;
  clearTimeout(late);
}

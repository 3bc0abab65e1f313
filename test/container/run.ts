/*
 * `npm run test:container`: builds Perch's image from this checkout's Dockerfile and runs it
 * for real with Podman (or Docker where it works), against a fake Anthropic API on this
 * machine. Not part of `npm test` (it takes minutes and needs a container engine); vitest never
 * picks it up (its name does not end in .test.ts).
 *
 * It checks what a person relies on: healthy within seconds, the token from `exec perch
 * token`, a chat answered through the upstream, a task run by the image's own `claude` binary
 * in a mounted project folder, nothing running as root, a wrong Host refused (and a name
 * allowed with `perch config set` or PERCH_ALLOWED_HOSTS), SIGTERM ending it gracefully (the
 * answer in flight finishes) within 10 s, and the data kept across a restart and in a new
 * container on the same volume. Everything it creates (image, containers, volume, folders) has a
 * unique name and is removed at the end, whatever happened; the engine's build cache stays, so
 * the next build is quicker (`podman image prune` clears it).
 *
 * With neither `podman` nor `docker` installed it says so and exits 0 (skipped); an engine that
 * is installed but does not work is a failure. PERCH_CONTAINER_ENGINE=podman|docker picks one;
 * PERCH_CONTAINER_IMAGE=name uses an image already built instead of building one (and leaves it
 * in place).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeAnthropic, type FakeAnthropic } from '../fixtures/fake-anthropic.js';
import { unusedPort } from '../helpers/ports.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const API_KEY = `sk-ant-container-test-${randomBytes(12).toString('hex')}`;
const CONTAINER_PORT = 8080;
/** "Healthy within a few seconds" and "ends within 10 s", as the issue asks. */
const HEALTHY_WITHIN_MS = 15_000;
const STOPS_WITHIN_MS = 10_000;

type Engine = 'podman' | 'docker';

class Failure extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failure(message);
}

// ---------------------------------------------------------------------------------------------
// The engine

async function works(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args, { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const installed = async (command: string): Promise<boolean> => works('sh', ['-c', `command -v ${command}`]);

/** Podman first (what these machines have), then Docker when its daemon answers. */
async function chooseEngine(): Promise<Engine | undefined> {
  const forced = process.env.PERCH_CONTAINER_ENGINE;
  if (forced === 'podman' || forced === 'docker') return forced;
  if ((await installed('podman')) && (await works('podman', ['info']))) return 'podman';
  if ((await installed('docker')) && (await works('docker', ['info']))) return 'docker';
  if ((await installed('podman')) || (await installed('docker'))) {
    throw new Failure(
      'podman or docker is installed but does not work (`podman info` / `docker info` fail): fix the engine first.',
    );
  }
  return undefined;
}

let engine: Engine = 'podman';

/** Runs the engine; its stdout, trimmed. Errors carry its stderr. */
async function ctr(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  try {
    const { stdout } = await run(engine, args, {
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ...options.env },
    });
    return stdout.trim();
  } catch (error) {
    const failed = error as Error & { stderr?: string };
    throw new Failure(`${engine} ${args.join(' ')} failed: ${(failed.stderr ?? failed.message).trim()}`);
  }
}

/** Whether a command succeeds, without throwing. */
async function ctrOk(args: string[]): Promise<boolean> {
  return works(engine, args);
}

/** Builds the image, its output in a log file (shown when it fails). */
async function build(image: string, logFile: string): Promise<void> {
  const log: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    // Podman writes OCI images by default, which have no HEALTHCHECK: the docker format keeps it.
    const format = engine === 'podman' ? ['--format', 'docker'] : [];
    const child = spawn(engine, ['build', ...format, '-t', image, '.'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => log.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => log.push(chunk));
    child.on('error', reject);
    child.on('close', resolve);
  });
  writeFileSync(logFile, Buffer.concat(log));
  if (code !== 0) {
    const tail = Buffer.concat(log).toString('utf8').split('\n').slice(-40).join('\n');
    throw new Failure(`${engine} build failed (exit ${code}); the end of its output:\n${tail}`);
  }
}

/** Healthy as the engine sees it (the image's HEALTHCHECK). */
async function isHealthy(name: string): Promise<boolean> {
  if (engine === 'podman') return ctrOk(['healthcheck', 'run', name]);
  return (await ctr(['inspect', '--format', '{{.State.Health.Status}}', name]).catch(() => '')) === 'healthy';
}

/** Waits for the health check to pass; the time from `since`. */
async function waitHealthy(name: string, since: number): Promise<number> {
  const deadline = since + 60_000;
  while (Date.now() < deadline) {
    if (await isHealthy(name)) return Date.now() - since;
    const state = await ctr(['inspect', '--format', '{{.State.Status}}', name]).catch(() => 'gone');
    if (state === 'exited' || state === 'gone') throw new Failure(`the container ${name} ended instead of becoming healthy`);
    await sleep(engine === 'podman' ? 100 : 250);
  }
  throw new Failure(`the container ${name} was not healthy within 60 s`);
}

// ---------------------------------------------------------------------------------------------
// The fake upstream, reachable from the container

/**
 * The fake Anthropic API listens on 127.0.0.1 only; containers reach this machine at the
 * bridge's gateway (host.containers.internal), so a TCP relay to it listens on every interface
 * for the length of the test. It carries only the fake API, which answers only this test's key.
 */
async function relayTo(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to Perch through the published port

let hostPort = 0;
let token = '';

async function api(pathname: string, init: { method?: string; json?: unknown; auth?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.auth !== false) headers.authorization = `Bearer ${token}`;
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(`http://127.0.0.1:${hostPort}${pathname}`, {
    method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    signal: AbortSignal.timeout(30_000),
  });
}

async function json<T>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  check(response.status === status, `${response.url} answered ${response.status} (wanted ${status}): ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** The status for a request carrying this Host header (fetch cannot set one). */
function statusForHost(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: hostPort, path: '/api/v1/health', headers: { host }, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

interface TaskJson {
  id: string;
  status: string;
  result: string | null;
  error: { message: string } | null;
  permission_requests: Array<{ id: string; status: string }>;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Figures {
  imageBytes?: number;
  buildMs?: number;
  healthyMs: number[];
  stopMs: number[];
}

const figures: Figures = { healthyMs: [], stopMs: [] };
const cleanups: Array<() => Promise<unknown>> = [];
/** The containers this run made, for their logs when something fails. */
const containers: string[] = [];
let current = 'choosing a container engine';

async function step(name: string, action: () => Promise<void>): Promise<void> {
  current = name;
  const started = Date.now();
  await action();
  process.stdout.write(`  ✓ ${name} (${seconds(Date.now() - started)})\n`);
}

async function main(): Promise<void> {
  const chosen = await chooseEngine();
  if (!chosen) {
    process.stdout.write('test:container skipped: neither podman nor docker is installed.\n');
    return;
  }
  engine = chosen;
  const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const given = process.env.PERCH_CONTAINER_IMAGE;
  const image = given ?? `localhost/perch-container-test:${id}`;
  const volume = `perch-ct-${id}`;
  const first = `perch-ct-${id}-a`;
  const second = `perch-ct-${id}-b`;
  containers.push(first, second);
  const scratch = mkdtempSync(path.join(tmpdir(), 'perch-container-test-'));
  cleanups.push(async () => {
    for (const name of [first, second]) await ctrOk(['rm', '--force', ...(engine === 'podman' ? ['--time', '0'] : []), name]);
    await ctrOk(['volume', 'rm', '--force', volume]);
    if (!given) await ctrOk(['rmi', '--force', image]);
    rmSync(scratch, { recursive: true, force: true });
  });
  process.stdout.write(`test:container with ${engine} (${await ctr(['--version'])})\n`);

  if (given) {
    process.stdout.write(`  using the image ${given} (PERCH_CONTAINER_IMAGE)\n`);
  } else {
    await step(`builds the image from ${repoRoot} (the first build takes minutes)`, async () => {
      const started = Date.now();
      await build(image, path.join(scratch, 'build.log'));
      figures.buildMs = Date.now() - started;
    });
  }

  await step('the image: not root, no secrets, no build tools, the agent for its platform', async () => {
    figures.imageBytes = Number(await ctr(['image', 'inspect', '--format', '{{.Size}}', image]));
    const config = JSON.parse(await ctr(['image', 'inspect', '--format', '{{json .Config}}', image])) as {
      User?: string;
      Env?: string[];
      Volumes?: Record<string, unknown>;
    };
    // (Podman's .Config is the OCI one, without the health check; this path works for both.)
    const healthcheck = JSON.parse(await ctr(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', image])) as {
      Test?: string[];
    } | null;
    check(
      config.User && !['', 'root', '0'].includes(config.User),
      `the image runs as '${config.User ?? ''}', not a user of its own`,
    );
    check(config.Volumes && '/data' in config.Volumes, 'the image declares no /data volume');
    check(healthcheck?.Test?.join(' ').includes('/api/v1/health'), 'the image has no health check against /api/v1/health');
    const secretLooking = (config.Env ?? []).filter((entry) => /KEY|TOKEN|SECRET|PASSWORD/i.test(entry.split('=')[0] ?? ''));
    check(secretLooking.length === 0, `the image's environment holds ${secretLooking.join(', ')}`);
    const inside = await ctr([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      image,
      '-c',
      [
        'set -e',
        // /data is empty: no token, key or settings baked in.
        'test -z "$(ls -A /data)"',
        'for gone in electron vite electron-vite electron-builder typescript vitest; do test ! -e "/app/node_modules/$gone" || { echo "has $gone"; exit 1; }; done',
        'for tool in gcc g++ make python3; do ! command -v "$tool" >/dev/null || { echo "has $tool"; exit 1; }; done',
        // The built service and its production dependencies, and nothing else.
        'test "$(ls -A /app | tr "\\n" " ")" = "bin node_modules out package.json " || { ls -A /app; exit 1; }',
        'ls /app/node_modules/@anthropic-ai/ | grep -- "-linux-"',
        'node -p "process.version"',
      ].join('\n'),
    ]);
    check(/claude-agent-sdk-linux-/.test(inside), `no agent package for Linux in the image: ${inside}`);
    process.stdout.write(`    Node ${inside.split('\n').at(-1) ?? '?'}, agent package ${inside.split('\n')[0] ?? '?'}\n`);
  });

  // The fake upstream, a project folder for tasks, and the key in an env file (never in argv).
  const upstream: FakeAnthropic = await startFakeAnthropic({ apiKey: API_KEY });
  const relay = await relayTo(Number(new URL(upstream.url).port));
  cleanups.unshift(async () => {
    await relay.close();
    await upstream.stop();
  });
  const gatewayName = engine === 'podman' ? 'host.containers.internal' : 'host.docker.internal';
  const project = path.join(scratch, 'project');
  mkdirSync(project);
  // The container's user (uid 1000) writes here, whoever runs the test.
  chmodSync(project, 0o777);
  const envFile = path.join(scratch, 'perch.env');
  writeFileSync(envFile, `ANTHROPIC_API_KEY=${API_KEY}\n`, { mode: 0o600 });
  hostPort = await unusedPort();

  const start = async (name: string, extra: string[] = []): Promise<number> => {
    const started = Date.now();
    await ctr([
      'run',
      '--detach',
      '--name',
      name,
      '--publish',
      `127.0.0.1:${hostPort}:${CONTAINER_PORT}`,
      '--volume',
      `${volume}:/data`,
      '--volume',
      `${project}:/workspaces/project`,
      '--env-file',
      envFile,
      '--env',
      `PERCH_UPSTREAM_URL=http://${gatewayName}:${relay.port}`,
      ...(engine === 'docker' ? ['--add-host', `${gatewayName}:host-gateway`, '--health-interval', '1s'] : []),
      ...extra,
      image,
    ]);
    const healthy = await waitHealthy(name, started);
    figures.healthyMs.push(healthy);
    return healthy;
  };

  await step('starts and is healthy within seconds', async () => {
    const healthy = await start(first);
    check(healthy <= HEALTHY_WITHIN_MS, `healthy only after ${seconds(healthy)}`);
    const health = await json<{ status: string }>(await api('/api/v1/health', { auth: false }));
    check(['ok', 'degraded'].includes(health.status), `health says ${health.status}`);
    process.stdout.write(`    start to healthy: ${seconds(healthy)}\n`);
  });

  await step('`exec perch token` prints the token, which opens the API', async () => {
    token = await ctr(['exec', first, 'perch', 'token']);
    check(/^[A-Za-z0-9_-]{32,}$/.test(token), `perch token printed '${token}'`);
    check((await api('/api/v1/status', { auth: false })).status === 401, 'the API answered without the token');
    await json(await api('/api/v1/status'));
  });

  await step('nothing in the container runs as root; tini is PID 1', async () => {
    const uids = await ctr([
      'exec',
      first,
      'sh',
      '-c',
      'for s in /proc/[0-9]*/status; do sed -n "s/^Uid:[[:space:]]*//p" "$s"; done',
    ]);
    const real = uids.split('\n').map((line) => line.split(/\s+/).map(Number));
    check(real.length > 0 && real.every((ids) => ids.every((uid) => uid !== 0)), `processes with uid 0: ${uids}`);
    const pid1 = await ctr(['exec', first, 'cat', '/proc/1/comm']);
    check(pid1 === 'tini', `PID 1 is ${pid1}`);
  });

  await step('a wrong Host is refused; a name added with `perch config set` is accepted', async () => {
    const wrong = await statusForHost(`evil.example:${hostPort}`);
    check(wrong.status === 403 && wrong.body.includes('forbidden_host'), `Host evil.example got ${wrong.status}: ${wrong.body}`);
    check((await statusForHost(`localhost:${hostPort}`)).status === 200, 'Host localhost was refused');
    await ctr(['exec', first, 'perch', 'config', 'set', 'api.allowedHosts', 'perch.lan']);
    let status = 0;
    for (let tries = 0; tries < 50 && status !== 200; tries += 1) {
      status = (await statusForHost(`perch.lan:${hostPort}`)).status;
      if (status !== 200) await sleep(100);
    }
    check(status === 200, `Host perch.lan got ${status} after \`perch config set api.allowedHosts perch.lan\``);
  });

  let sessionId = '';
  await step('a chat is answered through the upstream on the host', async () => {
    const answer = await json<{ response: string; session_id: string }>(
      await api('/api/v1/chat', { json: { message: 'hello from the container test' } }),
    );
    check(answer.response === 'You said: hello from the container test', `the answer was '${answer.response}'`);
    sessionId = answer.session_id;
    const sent = upstream.messageRequests.at(-1);
    check(sent !== undefined, 'the upstream saw no request');
  });

  let taskId = '';
  await step("a task runs the image's claude binary in a mounted workspace", async () => {
    await ctr(['exec', first, 'perch', 'workspace', 'add', '/workspaces/project', '--name', 'project']);
    upstream.enqueue(
      {
        kind: 'tool-use',
        text: 'Writing the file.',
        tool: {
          id: 'toolu_container_1',
          name: 'Write',
          input: { file_path: '/workspaces/project/hello.txt', content: 'written in the container\n' },
        },
      },
      { kind: 'answer', text: 'Wrote hello.txt.' },
    );
    const created = await json<TaskJson>(
      await api('/api/v1/tasks', { json: { prompt: 'Write hello.txt', workspace: 'project', permission_mode: 'acceptEdits' } }),
      201,
    );
    taskId = created.id;
    const deadline = Date.now() + 90_000;
    let task = created;
    while (!['done', 'failed', 'stopped'].includes(task.status) && Date.now() < deadline) {
      await sleep(250);
      task = await json<TaskJson>(await api(`/api/v1/tasks/${taskId}`));
      // Should the agent ask anyway, allow it: this checks that it runs, not its rules.
      for (const request of task.permission_requests.filter((pending) => pending.status === 'pending')) {
        await api(`/api/v1/tasks/${taskId}/permissions/${request.id}`, { json: { decision: 'allow' } });
      }
    }
    check(task.status === 'done', `the task ended ${task.status}: ${task.error?.message ?? task.result ?? ''}`);
    const written = readFileSync(path.join(project, 'hello.txt'), 'utf8');
    check(written === 'written in the container\n', `hello.txt holds '${written}'`);
    check(statSync(path.join(project, 'hello.txt')).uid !== 0, 'the task wrote the file as root');
  });

  await step('SIGTERM: the answer in flight finishes, and it stops within 10 s', async () => {
    upstream.enqueue({
      kind: 'answer',
      text: 'a slow answer that is still streaming when the stop comes',
      chunks: 8,
      delayMs: 250,
    });
    const streamed = await fetch(`http://127.0.0.1:${hostPort}/api/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'stream slowly', stream: true }),
      signal: AbortSignal.timeout(30_000),
    });
    check(streamed.status === 200 && streamed.body !== null, `the streamed chat answered ${streamed.status}`);
    const reader = (streamed.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: delta')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const started = Date.now();
    const stopping = ctr(['stop', '-t', '30', first], { timeoutMs: 60_000 });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await stopping;
    const stopped = Date.now() - started;
    figures.stopMs.push(stopped);
    check(text.includes('event: done'), `the answer in flight was cut off by the stop:\n${text.slice(-400)}`);
    const exitCode = await ctr(['inspect', '--format', '{{.State.ExitCode}}', first]);
    check(exitCode === '0', `it exited with ${exitCode} (not a graceful stop)`);
    check(stopped <= STOPS_WITHIN_MS, `stopping took ${seconds(stopped)}`);
    process.stdout.write(`    SIGTERM to stopped, with an answer in flight: ${seconds(stopped)}\n`);
  });

  const expectKept = async (where: string): Promise<void> => {
    const again = await ctr(['exec', where, 'perch', 'token']);
    check(again === token, 'the token changed');
    const session = await json<{ messages?: unknown[] }>(await api(`/api/v1/sessions/${sessionId}`));
    check((session.messages ?? []).length >= 2, 'the chat history is gone');
    const task = await json<TaskJson>(await api(`/api/v1/tasks/${taskId}`));
    check(task.status === 'done', `the task is now ${task.status}`);
    const workspaces = await json<{ workspaces: Array<{ name: string }> }>(await api('/api/v1/workspaces'));
    check(
      workspaces.workspaces.some((workspace) => workspace.name === 'project'),
      'the workspace is gone',
    );
  };

  await step('restarted, it keeps its token, history, task and workspace', async () => {
    const started = Date.now();
    await ctr(['start', first]);
    const healthy = await waitHealthy(first, started);
    figures.healthyMs.push(healthy);
    await expectKept(first);
  });

  await step('a new container on the same volume keeps them too; PERCH_ALLOWED_HOSTS allows a name', async () => {
    const started = Date.now();
    await ctr(['stop', '-t', '30', first], { timeoutMs: 60_000 });
    figures.stopMs.push(Date.now() - started);
    await ctr(['rm', first]);
    await start(second, ['--env', 'PERCH_ALLOWED_HOSTS=perch.example.test']);
    await expectKept(second);
    check((await statusForHost(`perch.example.test:${hostPort}`)).status === 200, 'Host perch.example.test was refused');
    check((await statusForHost(`evil.example:${hostPort}`)).status === 403, 'Host evil.example was accepted');
  });

  await step('stops (idle) within 10 s', async () => {
    const started = Date.now();
    await ctr(['stop', '-t', '30', second], { timeoutMs: 60_000 });
    const stopped = Date.now() - started;
    figures.stopMs.push(stopped);
    check(stopped <= STOPS_WITHIN_MS, `stopping took ${seconds(stopped)}`);
    const exitCode = await ctr(['inspect', '--format', '{{.State.ExitCode}}', second]);
    check(exitCode === '0', `it exited with ${exitCode}`);
  });

  const mb = (bytes: number | undefined): string => (bytes === undefined ? '?' : `${(bytes / 1e6).toFixed(0)} MB`);
  process.stdout.write(
    [
      'test:container passed.',
      `  image size:        ${mb(figures.imageBytes)}${figures.buildMs === undefined ? '' : ` (built in ${seconds(figures.buildMs)})`}`,
      `  start to healthy:  ${figures.healthyMs.map(seconds).join(', ')} (first start, restart, new container)`,
      `  SIGTERM to exit:   ${figures.stopMs.map(seconds).join(', ')} (answer in flight, idle, idle)`,
      '',
    ].join('\n'),
  );
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up…\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
  await cleanUp();
} catch (error) {
  process.stderr.write(
    `  ✗ ${current}\n    ${error instanceof Failure ? error.message : String((error as Error).stack ?? error)}\n`,
  );
  for (const name of containers) {
    // The service's own words, for whoever reads the failure.
    const logs = await ctr(['logs', '--tail', '30', name]).catch(() => '');
    if (logs) process.stderr.write(`--- the last lines ${name} logged:\n${logs}\n`);
  }
  await cleanUp();
  process.exitCode = 1;
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PerchError } from '../errors.js';

/**
 * What a shell needs, and nothing else of Perch's own environment: no API key, no token, no
 * proxy or Node settings meant for Perch. (The SDK's `env` replaces the child's environment.)
 */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TERM',
  'TZ',
  // Windows: what programs and shells need to start at all.
  'SystemRoot',
  'SystemDrive',
  'ComSpec',
  'PATHEXT',
  'USERPROFILE',
  'USERNAME',
  'APPDATA',
  'LOCALAPPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'windir',
  'ProgramData',
  'ProgramFiles',
  'ProgramFiles(x86)',
  'ProgramW6432',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
] as const;

export interface AgentEnvironmentOptions {
  /** Perch's environment, to take the allowed variables from. */
  inherited: NodeJS.ProcessEnv;
  /** Where the agent reaches Claude: Perch's own relay. */
  relayUrl: string;
  /** A credential good only for the relay, only while this task's agent runs. */
  agentToken: string;
  /** Claude Code's own folder (transcripts for resuming), inside Perch's data folder. */
  configDir: string;
  /** The task's own temporary folder, removed when its agent exits. */
  tempDir: string;
  /** The certificate Perch serves HTTPS with, so the agent trusts its relay. */
  tlsCertFile?: string | undefined;
  version: string;
}

/** The agent's whole environment, built from an allowlist (TASKS-DESIGN.md §6). */
export function agentEnvironment(options: AgentEnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = options.inherited[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, {
    TMPDIR: options.tempDir,
    TEMP: options.tempDir,
    TMP: options.tempDir,
    ANTHROPIC_BASE_URL: options.relayUrl,
    ANTHROPIC_AUTH_TOKEN: options.agentToken,
    CLAUDE_CONFIG_DIR: options.configDir,
    // Only the calls the task needs: no telemetry, update checks or side requests.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // Claude Code retries ten times by default, for minutes, even a refused credential.
    CLAUDE_CODE_MAX_RETRIES: '2',
    CLAUDE_AGENT_SDK_CLIENT_APP: `perch/${options.version}`,
  });
  if (options.tlsCertFile) env.NODE_EXTRA_CA_CERTS = options.tlsCertFile;
  return env;
}

/** The platform package that carries Claude Code's agent binary for this machine. */
function platformPackages(platform: NodeJS.Platform, arch: string): string[] {
  const base = `@anthropic-ai/claude-agent-sdk-${platform}-${arch}`;
  if (platform !== 'linux') return [base];
  // musl systems (Alpine) first try the musl build.
  const musl = existsSync('/etc/alpine-release');
  return musl ? [`${base}-musl`, base] : [base, `${base}-musl`];
}

/** The program on PATH named `claude` (a person's own Claude Code install), if any. */
function claudeOnPath(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const finder = process.platform === 'win32' ? 'where' : 'which';
    const found = execFileSync(finder, ['claude'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return found.split(/\r?\n/)[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The agent binary a task runs: `tasks.claudePath` when set, else the one the SDK's platform
 * package installed next to Perch (unpacked from the app archive in the desktop app), else a
 * `claude` on PATH. A clear error when there is none.
 */
export function resolveClaudeBinary(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured) {
    if (!existsSync(configured)) {
      throw new PerchError(
        'agent_missing',
        500,
        `tasks.claudePath points at ${configured}, which does not exist. Reset it with npx perch config reset tasks.claudePath on this machine, or point it at a claude binary with npx perch config set tasks.claudePath <path>.`,
      );
    }
    return configured;
  }
  const require = createRequire(import.meta.url);
  const binary = process.platform === 'win32' ? 'claude.exe' : 'claude';
  for (const name of platformPackages(process.platform, process.arch)) {
    try {
      const folder = path.dirname(require.resolve(`${name}/package.json`));
      // Native programs cannot run from inside the desktop app's archive: it unpacks them beside it.
      const candidate = path.join(folder, binary).replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`);
      if (existsSync(candidate)) return candidate;
    } catch {
      // Not installed for this platform.
    }
  }
  const own = claudeOnPath(env);
  if (own) return own;
  throw new PerchError(
    'agent_missing',
    500,
    `Claude Code's agent is not installed for ${process.platform}-${process.arch}. Reinstall Perch (npm ci installs it), or point tasks.claudePath at a claude binary with npx perch config set tasks.claudePath <path>.`,
  );
}

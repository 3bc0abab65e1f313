import { z } from 'zod';

/** The model Perch asks when nothing else is chosen: Anthropic's balanced current model. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

const hostName = z
  .string()
  .trim()
  .min(1)
  .regex(/^[A-Za-z0-9.\-:[\]]+$/, 'expected a host name or IP address without scheme or path');

const origin = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.origin !== 'null' ? url.origin === value.replace(/\/$/, '') : /^[a-z][a-z0-9+.-]*:\/\/[^/]+$/i.test(value);
    } catch {
      return false;
    }
  }, 'expected an origin such as https://example.com (scheme, host and optional port; no path)');

/**
 * Perch's settings: the one schema that validates the settings file, `perch config set`, and
 * (later) the Settings UI. Every key has a default, so an empty file is a valid configuration.
 * The Anthropic API key is deliberately absent: it never lives in this file.
 */
export const settingsSchema = z.object({
  claude: z
    .object({
      model: z.string().trim().min(1).default(DEFAULT_MODEL),
      maxTokens: z.number().int().min(1).max(128_000).default(4096),
      upstreamUrl: z.url({ protocol: /^https?$/ }).default('https://api.anthropic.com'),
      systemPrompt: z.string().default(''),
      /** Longest silence from Claude (before the first byte, or between streamed pieces). */
      timeoutSeconds: z.number().int().min(1).max(3600).default(120),
      /** Calls to Claude at the same time; more wait in line (a runaway script cannot open hundreds). */
      maxConcurrentRequests: z.number().int().min(1).max(256).default(16),
    })
    .prefault({}),
  /** Requests per minute per client on the routes that call Claude; 0 turns the limit off. */
  rateLimit: z
    .object({
      requestsPerMinute: z.number().int().min(0).max(100_000).default(120),
      /** Webhook deliveries per minute per sender address (GitHub, Slack), counted apart. */
      webhooksPerMinute: z.number().int().min(0).max(100_000).default(60),
    })
    .prefault({}),
  /** Spending guard: 0 means no cap. Counted from local midnight, in estimated US dollars. */
  budget: z
    .object({
      dailyUsd: z.number().min(0).max(1_000_000).default(0),
    })
    .prefault({}),
  api: z
    .object({
      port: z.number().int().min(1).max(65_535).default(8080),
      host: hostName.default('127.0.0.1'),
      /** Extra names the Host header may carry (the loopback names are always allowed). */
      allowedHosts: z.array(hostName).default([]),
      /** Extra browser origins allowed to call the API (the service's own are always allowed). */
      allowedOrigins: z.array(origin).default([]),
      maxBodyMb: z.number().positive().max(1024).default(32),
      maxUploadMb: z.number().positive().max(1024).default(10),
    })
    .prefault({}),
  ui: z
    .object({
      /** Follows the system unless set. */
      theme: z.enum(['system', 'light', 'dark']).default('system'),
    })
    .prefault({}),
  /** Scheduled prompts. */
  jobs: z
    .object({
      /** How many scheduled runs may ask Claude at the same time (a run never overlaps itself). */
      maxConcurrentRuns: z.number().int().min(1).max(16).default(2),
    })
    .prefault({}),
  /** Tasks: Claude Code's agent at work in registered workspaces. */
  tasks: z
    .object({
      /** The model a task uses when it names none (always passed to the agent explicitly). */
      model: z.string().trim().min(1).default(DEFAULT_MODEL),
      /** Agents running at once; more tasks wait in the queue. */
      maxConcurrent: z.number().int().min(1).max(8).default(2),
      /** Another `claude` binary to run instead of the one Perch installs (empty: Perch's own). */
      claudePath: z.string().trim().default(''),
      /** Whether a task may use the bypassPermissions mode (commands and edits without asking). */
      allowBypassPermissions: z.boolean().default(false),
      /**
       * How long a permission request waits for a person before it counts as not allowed (0: forever; 0.5 is 30 s).
       * A job's task never waits forever: with 0 it still waits only 60 minutes (JOB_APPROVAL_TIMEOUT_MINUTES).
       */
      approvalTimeoutMinutes: z.number().min(0).max(10_080).default(60),
      /** A turn whose agent sends nothing for this long (nobody being asked) is ended. */
      idleTimeoutMinutes: z.number().int().min(1).max(1440).default(30),
    })
    .prefault({}),
  /** Pull-request reviews from GitHub webhooks. */
  github: z
    .object({
      webhookSecret: z.string().default(''),
      token: z.string().default(''),
      /** Every GitHub call is built from this (GitHub Enterprise: https://host/api/v3). */
      apiUrl: z.url({ protocol: /^https?$/ }).default('https://api.github.com'),
      /** `pull_request`: review when a PR opens or changes; `on_demand`: only on a label or an "@perch review" comment. */
      trigger: z.enum(['pull_request', 'on_demand']).default('pull_request'),
      /** The label that asks for a review in on-demand mode. */
      label: z.string().trim().min(1).max(100).default('perch-review'),
    })
    .prefault({}),
  /** Slack slash commands. */
  slack: z
    .object({
      signingSecret: z.string().default(''),
    })
    .prefault({}),
  /** Used by the desktop app (tray, global shortcut, login item). */
  desktop: z
    .object({
      shortcut: z.string().trim().min(1).max(64).default('CommandOrControl+Shift+Space'),
      startAtLogin: z.boolean().default(false),
      startHidden: z.boolean().default(false),
    })
    .prefault({}),
});

/**
 * Security settings, and why each is one: they decide who can reach Perch, where a secret is
 * sent, or who may make Perch act. Only the desktop app's own windows and the CLI (which has
 * file access) change them; API clients and browsers see them read-only and get a 403 that
 * names the command to use (ARCHITECTURE.md, "Security model").
 */
export const SECURITY_SETTINGS = {
  'api.port': 'decides where Perch can be reached',
  'api.host': 'decides who can reach Perch',
  'api.allowedHosts': 'decides who can reach Perch',
  'api.allowedOrigins': 'decides which web pages can call Perch',
  'claude.upstreamUrl': 'decides where Perch sends your Anthropic API key',
  'github.apiUrl': 'decides where Perch sends your GitHub token',
  'github.webhookSecret': 'decides who can make Perch review pull requests with your GitHub token',
  'slack.signingSecret': 'decides who can make Perch answer Slack commands',
  'tasks.claudePath': 'decides which program Perch runs for tasks',
  'tasks.allowBypassPermissions': 'lets tasks edit files and run commands without asking anyone',
} as const satisfies Record<string, string>;

export type SecuritySetting = keyof typeof SECURITY_SETTINGS;

/**
 * Spending limits: they protect the person's money from the clients that hold the token, so a
 * client may tighten them but only the desktop app or the CLI may loosen them (raise them, or
 * turn them off with 0 where 0 means off).
 */
export const SPENDING_LIMITS = {
  'budget.dailyUsd': { zeroMeansOff: true },
  'rateLimit.requestsPerMinute': { zeroMeansOff: true },
  'rateLimit.webhooksPerMinute': { zeroMeansOff: true },
  'claude.maxConcurrentRequests': { zeroMeansOff: false },
  'tasks.maxConcurrent': { zeroMeansOff: false },
  // At least 1 (the schema refuses 0), so 0 never means off here.
  'jobs.maxConcurrentRuns': { zeroMeansOff: false },
} as const satisfies Record<string, { zeroMeansOff: boolean }>;

/**
 * Settings that hold secrets: they can be set by any authenticated client but never read back
 * (the API and `perch config get` say only whether they are set).
 */
export const SECRET_SETTINGS = ['github.webhookSecret', 'github.token', 'slack.signingSecret'] as const;

/** Settings only the desktop app can apply (the OS login item, the global shortcut). */
export const DESKTOP_SETTINGS = ['desktop.shortcut', 'desktop.startAtLogin', 'desktop.startHidden'] as const;

export type Settings = z.infer<typeof settingsSchema>;
export type StoredSettings = z.input<typeof settingsSchema>;

export const defaultSettings = (): Settings => settingsSchema.parse({});

import { z } from 'zod';

/**
 * The shapes the API answers with. They document the API (the OpenAPI document is built from
 * them) and the tests parse real answers with them, so the document cannot drift from reality.
 */

const fieldProblem = z.object({
  field: z
    .string()
    .meta({ description: "The field's dotted path as the request spells it, e.g. claude.maxTokens or output.file." }),
  message: z
    .string()
    .meta({ description: 'What is wrong with that field, in a sentence about it alone (e.g. "Must be at least 1.").' }),
});

export const errorResponse = z
  .object({
    error: z.object({
      type: z.string(),
      message: z.string(),
      fields: z.array(fieldProblem).optional().meta({
        description:
          'Present when fields of the request were wrong (400) or may not be changed by this client (403): one entry per field, for a form to show next to its control.',
      }),
    }),
  })
  .meta({ description: 'Every error: a stable type and a message that says what to do.' });

/** Present (true) only where output_tokens is Perch's estimate rather than Anthropic's count. */
const estimatedFlag = z.boolean().optional().meta({
  description:
    'Present, and true, only when the answer ended early (stopped, cut, timed out) before Anthropic sent its final count: output_tokens is then Perch’s estimate from the text that arrived (about 4 characters a token, never less than Anthropic had reported), and the cost follows from it. Absent: Anthropic’s own count.',
});

export const usage = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int().nullish(),
  cache_read_input_tokens: z.number().int().nullish(),
  estimated: estimatedFlag,
});

const answerFields = {
  session_id: z.string(),
  message_id: z.string(),
  model: z.string(),
  stop_reason: z.string().nullable(),
  usage,
  tokens_used: z.number().int().meta({ description: 'input_tokens + output_tokens' }),
  cost_usd: z.number().nullable().meta({ description: 'Estimated from list prices; null for an unknown model.' }),
};

export const chatAnswer = z.object({ response: z.string(), ...answerFields });
export const legacyChatAnswer = chatAnswer.extend({ status: z.literal('success') });

const fileInfo = z.object({ name: z.string(), size: z.number().int(), media_type: z.string() });
export const fileAnalysis = z.object({ analysis: z.string(), file: fileInfo, ...answerFields });
export const legacyUpload = z.object({
  status: z.literal('success'),
  filename: z.string(),
  size: z.number().int(),
  analysis: z.string(),
  ...answerFields,
});
export const codeReview = z.object({ review: z.string(), language: z.string(), ...answerFields });

export const session = z.object({
  id: z.string(),
  title: z.string(),
  system: z.string().nullable(),
  model: z.string().nullable(),
  message_count: z.number().int(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const message = z.object({
  id: z.string(),
  session_id: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  context: z.string().nullable(),
  attachments: z.array(z.object({ id: z.string(), name: z.string(), media_type: z.string(), size: z.number().int() })),
  status: z.enum(['streaming', 'complete', 'partial', 'error']),
  model: z.string().nullable(),
  stop_reason: z.string().nullable(),
  usage: usage.nullable(),
  cost_usd: z.number().nullable(),
  error: z.object({ type: z.string(), message: z.string() }).nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const sessionList = z.object({ sessions: z.array(session), has_more: z.boolean() });
export const sessionWithMessages = session.extend({ messages: z.array(message) });
/** A task whose transcript matches a search. */
const taskSearchHit = z.object({
  task_id: z.string(),
  title: z.string(),
  snippet: z.string().meta({ description: 'Matched words are wrapped in **double asterisks**.' }),
  created_at: z.iso.datetime(),
});

export const searchResults = z.object({
  results: z.array(
    z.object({
      session_id: z.string(),
      session_title: z.string(),
      message_id: z.string(),
      role: z.enum(['user', 'assistant']),
      snippet: z.string().meta({ description: 'Matched words are wrapped in **double asterisks**.' }),
      created_at: z.iso.datetime(),
    }),
  ),
  tasks: z.array(taskSearchHit).meta({ description: 'Tasks whose transcript matches, newest first.' }),
});

export const publicHealth = z.object({
  status: z.enum(['ok', 'degraded', 'error']),
  version: z.string(),
  checks: z.object({
    database: z.enum(['ok', 'error']),
    disk: z.enum(['ok', 'low', 'full', 'unknown']),
    upstream: z.enum(['unknown', 'ok', 'degraded', 'unreachable']),
  }),
});

export const serviceStatus = z.object({
  status: z.enum(['ok', 'degraded', 'error']),
  version: z.string(),
  pid: z.number().int(),
  started_at: z.iso.datetime(),
  uptime_seconds: z.number().int(),
  listening: z.object({ host: z.string(), port: z.number().int(), url: z.string() }),
  model: z.string(),
  max_tokens: z.number().int(),
  api_key: z.object({ configured: z.boolean(), source: z.enum(['environment', 'stored']).nullable() }),
  upstream: z.object({
    url: z.string(),
    state: z.enum(['unknown', 'ok', 'degraded', 'unreachable']),
    checked_at: z.string().nullable(),
    message: z.string().nullable(),
  }),
  checks: z.record(z.string(), z.unknown()),
  history: z.object({ sessions: z.number().int(), messages: z.number().int() }),
  active_answers: z.number().int(),
  data_dir: z.string(),
});

export const legacyStatus = z.object({
  status: z.literal('running'),
  version: z.string(),
  model: z.string(),
  port: z.number().int(),
  api_key_configured: z.boolean(),
  health: z.enum(['ok', 'degraded', 'error']),
});

export const modelInfo = z.object({ id: z.string(), display_name: z.string(), created_at: z.string() });
export const modelList = z.object({ models: z.array(modelInfo), default_model: z.string() });

export const compatModel = z.object({
  type: z.literal('model'),
  id: z.string(),
  display_name: z.string(),
  created_at: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
});
export const compatModelList = z.object({
  object: z.literal('list'),
  data: z.array(compatModel),
  has_more: z.boolean(),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
});

export const apiKeyState = z.object({
  configured: z.boolean(),
  source: z.enum(['environment', 'stored']).nullable(),
  verified: z.boolean().optional().meta({
    description:
      'Only after a key is set: true when Anthropic accepted it, false when Perch could not reach Anthropic to check it (it was saved anyway; see warning).',
  }),
  warning: z
    .string()
    .optional()
    .meta({ description: 'Only when verified is false: why the key could not be checked, in plain words.' }),
});

const settingsShape = z.object({
  claude: z.object({
    model: z.string(),
    maxTokens: z.number().int(),
    upstreamUrl: z.string(),
    systemPrompt: z.string(),
    timeoutSeconds: z.number().int(),
    maxConcurrentRequests: z.number().int(),
  }),
  rateLimit: z.object({ requestsPerMinute: z.number().int(), webhooksPerMinute: z.number().int() }),
  budget: z.object({ dailyUsd: z.number() }),
  api: z.object({
    port: z.number().int(),
    host: z.string(),
    allowedHosts: z.array(z.string()),
    allowedOrigins: z.array(z.string()),
    maxBodyMb: z.number(),
    maxUploadMb: z.number(),
  }),
  ui: z.object({ theme: z.enum(['system', 'light', 'dark']) }),
  jobs: z.object({ maxConcurrentRuns: z.number().int() }),
  github: z.object({
    webhookSecret: z.string().meta({ description: 'Always empty here: see `secrets`.' }),
    token: z.string().meta({ description: 'Always empty here: see `secrets`.' }),
    apiUrl: z.string(),
    trigger: z.enum(['pull_request', 'on_demand']),
    label: z.string(),
  }),
  slack: z.object({ signingSecret: z.string().meta({ description: 'Always empty here: see `secrets`.' }) }),
  desktop: z.object({ shortcut: z.string(), startAtLogin: z.boolean(), startHidden: z.boolean() }),
});

export const settingsResponse = z.object({
  settings: settingsShape.meta({ description: 'What the settings file says (with defaults).' }),
  effective: settingsShape.meta({ description: 'What is in force, with environment overrides applied.' }),
  api_key: apiKeyState,
  secrets: z
    .record(z.string(), z.boolean())
    .meta({ description: 'Secret setting → whether it is set (values are never returned).' }),
  overridden: z.record(z.string(), z.string()).meta({ description: 'Setting → the environment variable overriding it.' }),
  editable: z.object({ security: z.boolean(), desktop: z.boolean() }),
  cli: z
    .record(z.string(), z.string())
    .meta({ description: 'The CLI command that changes each security setting (and raises each spending limit).' }),
});

export const tokenResponse = z.object({ token: z.string() });

export const tokenProof = z.object({
  proof: z.string(),
  port: z.number().int().meta({ description: 'The port the service listens on (part of what the proof covers).' }),
});

export const signInState = z.object({ signed_in: z.boolean() });

export const job = z.object({
  id: z.string(),
  name: z.string(),
  prompt: z.string(),
  cron: z.string().nullable(),
  timezone: z.string().nullable(),
  interval_seconds: z.number().int().nullable(),
  model: z.string().nullable(),
  system: z.string().nullable(),
  enabled: z.boolean(),
  missed: z.enum(['skip', 'run_once']),
  output: z.object({ notify: z.boolean().optional(), file: z.string().optional(), url: z.string().optional() }),
  task: z
    .object({
      workspace: z.string().meta({ description: 'The workspace id.' }),
      permission_mode: z.enum(['default', 'acceptEdits', 'plan']),
      allowed_tools: z.array(z.string()),
    })
    .nullable()
    .meta({ description: 'Set when the job runs its prompt as a task.' }),
  webhook: z
    .object({
      path: z.string().meta({ description: 'Where to POST to run the job: /webhook/jobs/<id>, on the address Perch serves on.' }),
      secret: z.string().meta({
        description:
          'The key of the HMAC-SHA256 signature of the raw body, sent as X-Perch-Signature-256: sha256=<hex> (or GitHub’s X-Hub-Signature-256).',
      }),
    })
    .nullable()
    .meta({ description: 'Set when a signed POST can run the job; the body fills {{payload}} in the prompt.' }),
  running: z.boolean(),
  last_run_at: z.iso.datetime().nullable(),
  next_run_at: z.iso
    .datetime()
    .nullable()
    .meta({ description: 'Null when the job is disabled or has no schedule (webhook only).' }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const jobList = z.object({
  jobs: z.array(job),
  outputs_dir: z.string().meta({ description: "Perch's folder for results: a job's relative output.file is written there." }),
});

export const jobRun = z.object({
  id: z.string(),
  job_id: z.string(),
  trigger: z.enum(['schedule', 'manual', 'catch_up', 'webhook']),
  scheduled_for: z.iso.datetime().nullable(),
  started_at: z.iso.datetime(),
  finished_at: z.iso.datetime().nullable(),
  status: z.enum(['running', 'succeeded', 'failed', 'missed']),
  output: z.string().nullable(),
  error: z.string().nullable(),
  model: z.string().nullable(),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), estimated: estimatedFlag }).nullable(),
  cost_usd: z.number().nullable(),
  delivery: z
    .record(z.string(), z.string())
    .nullable()
    .meta({ description: 'What happened to each output (file, url, notify).' }),
  task_id: z.string().nullable().meta({ description: 'The task this run started, for a job that runs as a task.' }),
});

export const jobRunList = z.object({ runs: z.array(jobRun), has_more: z.boolean() });
export const startedRun = z.object({ run: jobRun });

/** A pull-request review run for a GitHub webhook (`GET /api/v1/reviews`). */
export const review = z.object({
  id: z.string(),
  repo: z.string().meta({ description: 'owner/name' }),
  pr_number: z.number().int(),
  head_sha: z.string().nullable(),
  status: z.enum(['running', 'posted', 'failed']),
  comment_url: z.string().nullable(),
  error: z.string().nullable(),
  model: z.string().nullable(),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int(), estimated: estimatedFlag }).nullable(),
  cost_usd: z.number().nullable().meta({ description: 'Estimated from list prices; null when unknown.' }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export const reviewList = z.object({ reviews: z.array(review) });

/** What a set of answers used and cost (`GET /api/v1/usage`). */
const usageAmounts = {
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_input_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int(),
  cost_usd: z.number().nullable().meta({
    description:
      'Estimated from list prices, for the requests whose model has a known price (see unpriced_requests); null when none has.',
  }),
  unpriced_requests: z.number().int().meta({ description: 'Requests left out of cost_usd: their model’s price is unknown.' }),
  estimated_requests: z.number().int().meta({
    description:
      'Requests whose output tokens (and so cost) are estimated: answers that ended early (stopped, cut) before Anthropic sent its final count.',
  }),
};

export const usageTotals = z.object(usageAmounts);

export const usageGroup = z.object({
  key: z.string().meta({
    description:
      'The day (2025-03-01), the model, the session id — or, for usage no existing chat holds, its source (chat for deleted chats, anthropic, openai, jobs, github, slack) — or the source.',
  }),
  label: z.string().meta({ description: 'What to show: the session’s title, “Scheduled prompts”, the model id, the day…' }),
  session_id: z.string().nullable().optional().meta({ description: 'Only when grouping by session: the chat to open, or null.' }),
  ...usageAmounts,
});

export const usageSummary = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime().meta({ description: 'Exclusive.' }),
  group_by: z.enum(['day', 'model', 'session', 'source']),
  time_zone: z.string().meta({ description: 'The IANA zone whose calendar days were counted.' }),
  totals: usageTotals,
  groups: z.array(usageGroup),
});

// Tasks and workspaces.
export const workspace = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string().meta({ description: 'The real path of the folder (symlinks resolved).' }),
  created_at: z.iso.datetime(),
});

export const workspaceList = z.object({ workspaces: z.array(workspace) });

const taskStatus = z
  .enum(['queued', 'running', 'needs_approval', 'done', 'failed', 'stopped'])
  .meta({ description: 'queued → running ⇄ needs_approval → done (a follow-up may start another turn) | failed | stopped.' });

export const permissionRequest = z.object({
  id: z.string(),
  tool: z.string().meta({ description: 'The tool the agent wants to use: Bash, Write, Edit, AskUserQuestion…' }),
  input: z.unknown().meta({ description: "The tool's input, as the agent sent it." }),
  tool_use_id: z.string().nullable(),
  status: z.enum(['pending', 'allowed', 'denied', 'timed_out', 'cancelled']),
  message: z.string().nullable().meta({ description: 'The reason given with a deny (or why it timed out or was cancelled).' }),
  created_at: z.iso.datetime(),
  decided_at: z.iso.datetime().nullable(),
});

export const task = z.object({
  id: z.string(),
  title: z.string().meta({ description: "The prompt's first line." }),
  prompt: z.string(),
  status: taskStatus,
  workspace: z.object({
    id: z.string().nullable().meta({ description: 'Null once the workspace was removed.' }),
    name: z.string(),
    path: z.string(),
  }),
  permission_mode: z.enum(['default', 'acceptEdits', 'plan', 'bypassPermissions']),
  model: z.string(),
  max_turns: z.number().int().nullable(),
  max_budget_usd: z.number().nullable(),
  allowed_tools: z.array(z.string()),
  source: z.enum(['api', 'cli', 'ui', 'job']),
  unattended: z.boolean(),
  agent_session_id: z.string().nullable().meta({ description: "Claude Code's session, which follow-ups continue." }),
  result: z.string().nullable().meta({ description: "The agent's final answer of the last turn." }),
  error: z.object({ type: z.string(), message: z.string() }).nullable(),
  turns: z.number().int(),
  duration_ms: z.number().int(),
  usage: z.object({
    requests: z.number().int(),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cache_read_input_tokens: z.number().int(),
    cache_creation_input_tokens: z.number().int(),
    estimated_requests: z
      .number()
      .int()
      .meta({ description: 'Requests whose output tokens are estimated: answers the agent was stopped or cut off in.' }),
  }),
  cost_usd: z
    .number()
    .nullable()
    .meta({ description: 'Estimated from list prices; null for a model whose price Perch does not know.' }),
  permission_requests: z.array(permissionRequest),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  started_at: z.iso.datetime().nullable(),
  finished_at: z.iso.datetime().nullable(),
});

export const taskEvent = z.object({
  seq: z.number().int(),
  type: z.enum([
    'prompt',
    'text',
    'tool_use',
    'tool_result',
    'permission_request',
    'permission_decision',
    'status',
    'retry',
    'turn_end',
    'error',
  ]),
  data: z.unknown(),
  created_at: z.iso.datetime(),
});

export const taskWithTranscript = task.extend({ transcript: z.array(taskEvent) });

export const taskList = z.object({
  tasks: z.array(task),
  has_more: z.boolean(),
  needs_approval: z.number().int().meta({ description: 'Permission requests waiting for a person, across all tasks.' }),
});

export const taskSearchResults = z.object({ results: z.array(taskSearchHit) });

export const taskChanges = z.object({
  changes: z.array(
    z.object({
      path: z.string().meta({ description: 'Relative to the workspace.' }),
      kind: z.enum(['added', 'modified', 'deleted']),
      diff: z.string().meta({ description: 'A unified diff against the file before the task first changed it.' }),
      note: z.string().optional().meta({ description: 'Why there is no line diff (binary, too large).' }),
    }),
  ),
});

import { z } from 'zod';
import { canonicalTimeZone, parseDateTime } from '../core/calendar.js';
import { isPerchError } from '../core/errors.js';
import { validOutputUrl } from '../core/jobs/outputs.js';
import { validateCron, validateTimeZone } from '../core/jobs/schedule.js';
import { PROOF_NONCE } from '../core/secrets.js';

const optionalText = z.string().nullish();
const optionalId = z.string().min(1).max(64).nullish();
const optionalModel = z.string().trim().min(1).max(128).nullish();

export const attachmentInput = z.object({
  name: z.string().max(255).nullish(),
  /** Informational: Perch decides the type from the bytes. */
  media_type: z.string().max(128).nullish(),
  data: z.base64(),
});

export const chatRequest = z.object({
  message: z.string(),
  session_id: optionalId,
  system: optionalText,
  context: optionalText,
  model: optionalModel,
  max_tokens: z.number().int().min(1).max(128_000).nullish(),
  stream: z.boolean().nullish(),
  attachments: z.array(attachmentInput).max(20).nullish(),
  // Edit or regenerate: this question (a user message of session_id) and everything after it are
  // replaced by the new one; its attachments carry over unless the request sends its own.
  replace_from: optionalId,
});

export const codeReviewRequest = z.object({
  code: z.string().min(1, 'expected the code to review'),
  language: z.string().trim().min(1, 'expected a language name such as typescript').max(64),
  focus: optionalText,
  filename: z.string().max(255).nullish(),
  session_id: optionalId,
  model: optionalModel,
  stream: z.boolean().nullish(),
});

/** Text fields of the multipart file-analysis form (multipart values are strings). */
export const analyzeFields = z.object({
  prompt: optionalText,
  session_id: optionalId,
  model: optionalModel,
  stream: z.enum(['true', 'false']).nullish(),
});

export const createSessionRequest = z.object({
  title: z.string().max(200).nullish(),
  system: optionalText,
  model: optionalModel,
  // An earlier exchange to continue from (a job run's prompt and answer, an import): questions and
  // answers taking turns, starting with a question.
  messages: z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().min(1, 'expected the message text') }))
    .max(200)
    .refine((list) => list.every((message, index) => message.role === (index % 2 === 0 ? 'user' : 'assistant')), {
      error: 'expected questions and answers taking turns, starting with a question (role user)',
    })
    .nullish(),
});

export const updateSessionRequest = z
  .object({
    title: z.string().max(200).optional(),
    system: z.string().nullable().optional(),
    model: z.string().trim().min(1).max(128).nullable().optional(),
  })
  .refine((body) => body.title !== undefined || body.system !== undefined || body.model !== undefined, {
    error: "send at least one of 'title', 'system' or 'model'",
  });

const limitParam = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export const listSessionsQuery = z.object({
  limit: limitParam(200, 50),
  before: z.string().min(1).max(64).optional(),
});

export const searchQuery = z.object({
  q: z.string().trim().min(1, "expected search text in 'q'").max(500),
  limit: limitParam(100, 20),
});

export const legacyChatRequest = chatRequest.omit({ stream: true, attachments: true, replace_from: true });

// OpenAI Chat Completions (only the fields Perch translates; others are accepted and ignored).
const openAiTextPart = z.object({ type: z.literal('text'), text: z.string() });
const openAiImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.string().optional() }),
});
const openAiTextContent = z.union([z.string(), z.array(openAiTextPart)]);
const openAiToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

export const chatCompletionRequest = z.object({
  model: z.string().trim().min(1),
  messages: z
    .array(
      z.discriminatedUnion('role', [
        z.object({ role: z.enum(['system', 'developer']), content: openAiTextContent }),
        z.object({
          role: z.literal('user'),
          content: z.union([z.string(), z.array(z.discriminatedUnion('type', [openAiTextPart, openAiImagePart]))]),
        }),
        z.object({
          role: z.literal('assistant'),
          content: openAiTextContent.nullish(),
          tool_calls: z.array(openAiToolCall).nullish(),
        }),
        z.object({ role: z.literal('tool'), content: openAiTextContent, tool_call_id: z.string().min(1) }),
      ]),
    )
    .min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(8)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  n: z.literal(1, 'Perch returns one choice; n must be 1').nullish(),
  response_format: z.object({ type: z.literal('text', "only response_format {type: 'text'} is supported") }).nullish(),
  user: z.string().nullish(),
});

export const signInRequest = z.object({
  token: z.string().trim().min(1, 'expected the API token (npx perch token prints it)'),
});

export const proofQuery = z.object({
  nonce: z.string().regex(PROOF_NONCE, 'expected 22 to 128 base64url characters'),
});

export const apiKeyRequest = z.object({
  api_key: z.string().trim().min(1, 'expected the Anthropic API key').max(512),
});

/** A partial settings object: only the keys to change, nested as in GET /api/v1/settings. */
export const settingsPatch = z.record(
  z.string().max(64),
  z.record(
    z.string().max(64),
    // Every setting is a scalar or a list of names: nothing deeper reaches the settings store.
    z.union([z.string().max(100_000), z.number(), z.boolean(), z.array(z.string().max(2048)).max(256)]),
  ),
);

// Scheduled prompts.

/**
 * The domain's own check of a field (which throws a field error), run at the edge too, so that a
 * job with a bad schedule and a missing name is told about both in one answer.
 */
const checkedWith =
  (validate: (value: string) => unknown) =>
  (value: string | null | undefined, context: z.core.$RefinementCtx<string | null | undefined>): void => {
    if (value === null || value === undefined) return;
    try {
      validate(value);
    } catch (error) {
      const problem = isPerchError(error) ? error.fields?.[0]?.message : undefined;
      if (!problem) throw error;
      context.addIssue({ code: 'custom', message: problem, input: value });
    }
  };

const jobOutput = z.object({
  notify: z.boolean().optional().meta({ description: 'Show a desktop notification (in the desktop app).' }),
  file: z.string().min(1).max(4096).optional().meta({
    description:
      "A file the result is appended to: a name inside Perch's outputs folder (e.g. morning.md); other paths only from the desktop app.",
  }),
  url: z
    .string()
    .min(1)
    .optional()
    .superRefine(checkedWith(validOutputUrl))
    .meta({ description: 'A URL the result is POSTed to as {text, job, output} (a Slack incoming webhook works).' }),
});

const jobFields = {
  name: z.string().trim().min(1, 'give the job a name').max(200),
  prompt: z.string().min(1, 'the prompt must not be empty').max(100_000).meta({
    description:
      'May use {{date}}, {{time}} (in the job’s zone), {{last_output}} (the previous run’s answer) and {{payload}} (the body of the signed request that ran it, for a webhook).',
  }),
  cron: z
    .string()
    .max(200)
    .nullish()
    .superRefine(checkedWith(validateCron))
    .meta({ description: '5 fields (minute hour day month weekday) or 6 (seconds first).' }),
  timezone: z
    .string()
    .max(100)
    .nullish()
    .superRefine(checkedWith(validateTimeZone))
    .meta({ description: 'An IANA zone for the cron schedule (default: the system’s).' }),
  interval_seconds: z
    .number()
    .int()
    .min(1)
    .max(366 * 24 * 3600)
    .nullish(),
  model: z.string().trim().min(1).max(128).nullish(),
  system: z.string().max(100_000).nullish(),
  enabled: z.boolean().optional(),
  webhook: z.boolean().optional().meta({
    description:
      'true: a POST to /webhook/jobs/<id> signed with the job’s own secret runs it (a schedule is then optional); false: no webhook (turning it on again makes a new secret).',
  }),
  missed: z
    .enum(['skip', 'run_once'])
    .optional()
    .meta({ description: 'Runs missed while asleep or off: one late run (default) or none.' }),
  output: jobOutput.optional(),
  task: z
    .object({
      workspace: z.string().trim().min(1).max(4096).meta({ description: 'A registered workspace: id, name or a path in it.' }),
      permission_mode: z
        .enum(['default', 'acceptEdits', 'plan'])
        .optional()
        .meta({ description: 'Never bypassPermissions: nobody watches a scheduled task.' }),
      allowed_tools: z.array(z.string().trim().min(1).max(500)).max(64).optional(),
    })
    .nullish()
    .meta({
      description:
        'Run the prompt as a task (Claude Code at work in the workspace) instead of asking once. A request that needs a yes pauses the task and tells you.',
    }),
};

export const createJobRequest = z.object(jobFields);

export const updateJobRequest = z
  .object(jobFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { error: 'send at least one field to change' });

export const runsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  before: z.string().min(1).max(64).optional(),
});

// Usage reports. Dates are parsed in the report's time zone, so here only their form is checked.
const usageInstant = (meaning: string) =>
  z
    .string()
    .trim()
    .refine((text) => parseDateTime(text, 'UTC') !== undefined, {
      error: 'expected an ISO date such as 2025-03-01, or a date and time such as 2025-03-01T09:00:00Z',
    })
    .optional()
    .meta({ description: meaning });

export const usageQuery = z.object({
  from: usageInstant(
    'Start: an ISO date (that day’s start in the time zone) or date and time. Default: the start of the day 29 days before `to`’s, so 30 days.',
  ),
  to: usageInstant(
    'End, exclusive, in the same forms (2025-04-01 ends with March 31). Default: now. At most 366 days after `from`.',
  ),
  group_by: z
    .enum(['day', 'model', 'session', 'source'])
    .default('day')
    .meta({ description: 'day: every calendar day, empty ones as zeros; model, session, source: biggest spender first.' }),
  tz: z
    .string()
    .trim()
    .max(100)
    .refine((zone) => canonicalTimeZone(zone) !== undefined, {
      error: 'expected an IANA time zone such as Europe/Paris or America/New_York',
    })
    .optional()
    .meta({ description: 'The IANA time zone whose calendar days count (default: the service’s).' }),
});

// Tasks and workspaces.
export const permissionModes = ['default', 'acceptEdits', 'plan', 'bypassPermissions'] as const;

export const createTaskRequest = z.object({
  prompt: z.string().min(1, 'tell the agent what to do').max(100_000),
  workspace: z.string().trim().min(1, 'expected a workspace id, name or path').max(4096).meta({
    description: 'A registered workspace: its id, its name, or a path in it (`GET /api/v1/workspaces` lists them).',
  }),
  permission_mode: z.enum(permissionModes).optional().meta({
    description:
      'default asks before edits and commands; acceptEdits lets edits through; plan only plans; bypassPermissions needs tasks.allowBypassPermissions.',
  }),
  model: z.string().trim().min(1).max(128).optional(),
  max_turns: z.number().int().min(1).max(1000).optional(),
  max_budget_usd: z.number().positive().max(10_000).optional(),
  allowed_tools: z
    .array(z.string().trim().min(1).max(500))
    .max(64)
    .optional()
    .meta({ description: 'Tools that run without asking, as Claude Code writes them: "Read", "Bash(npm test)".' }),
  source: z.enum(['api', 'cli', 'ui']).optional().meta({ description: 'Where the task was started (informational).' }),
});

export const followUpRequest = z.object({
  prompt: z.string().min(1, 'say what the agent should do next').max(100_000),
});

export const decisionRequest = z.object({
  decision: z.enum(['allow', 'deny']),
  message: z.string().max(4000).optional().meta({ description: 'Why (told to the agent on a deny).' }),
  answers: z
    .record(z.string().max(2000), z.string().max(4000))
    .optional()
    .meta({ description: "Answers to Claude's AskUserQuestion: question text → answer." }),
});

export const listTasksQuery = z.object({
  limit: limitParam(200, 50),
  before: z.string().min(1).max(64).optional(),
});

export const taskEventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Replay only events after this seq (or send Last-Event-ID).' }),
});

export const taskFileQuery = z.object({
  path: z.string().min(1, "expected the file's path in the workspace").max(4096),
});

export const addWorkspaceRequest = z.object({
  path: z.string().trim().min(1).max(4096),
  name: z.string().trim().min(1).max(64).optional(),
});

export const exportQuery = z.object({
  format: z.enum(['md', 'json']).default('md').meta({ description: 'md: to read; json: everything Perch keeps.' }),
});

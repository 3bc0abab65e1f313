/** What a prompt template can use: `{{date}}`, `{{time}}`, `{{last_output}}`, `{{payload}}`. */
export interface TemplateValues {
  now: number;
  timezone: string;
  lastOutput: string | null;
  /** The body of the signed request that started the run (webhook runs only). */
  payload?: string | null | undefined;
}

/** The most of a webhook's body a prompt takes: enough for a CI log's tail or an event's JSON. */
export const MAX_PAYLOAD_CHARS = 20_000;

function payloadText(payload: string | null | undefined): string {
  if (payload === null || payload === undefined) return '(no payload: this run was not started by the job’s webhook)';
  if (payload.length <= MAX_PAYLOAD_CHARS) return payload;
  return `${payload.slice(0, MAX_PAYLOAD_CHARS)}\n[… ${payload.length - MAX_PAYLOAD_CHARS} more characters cut]`;
}

function parts(now: number, timezone: string): Record<string, string> {
  const formatted = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  return Object.fromEntries(formatted.map((part) => [part.type, part.value]));
}

/**
 * Fills a job's prompt: `{{date}}` (YYYY-MM-DD) and `{{time}}` (HH:MM) in the job's zone,
 * `{{last_output}}` (the previous successful run's answer), so "what changed since last time"
 * jobs work, and `{{payload}}` (what its webhook was sent). Unknown placeholders stay as written.
 */
export function renderPrompt(template: string, values: TemplateValues): string {
  const clock = parts(values.now, values.timezone);
  const replacements: Record<string, string> = {
    date: `${clock.year}-${clock.month}-${clock.day}`,
    time: `${clock.hour}:${clock.minute}`,
    last_output: values.lastOutput ?? '(there is no earlier output yet)',
    payload: payloadText(values.payload),
  };
  // One pass, so text a payload brings in is never read as a placeholder itself.
  return template.replace(/\{\{\s*(date|time|last_output|payload)\s*\}\}/g, (_match, name: string) => replacements[name] ?? '');
}

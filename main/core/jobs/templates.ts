/** What a prompt template can use: `{{date}}`, `{{time}}`, `{{last_output}}`. */
export interface TemplateValues {
  now: number;
  timezone: string;
  lastOutput: string | null;
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
 * Fills a job's prompt: `{{date}}` (YYYY-MM-DD) and `{{time}}` (HH:MM) in the job's zone, and
 * `{{last_output}}` (the previous successful run's answer), so "what changed since last time"
 * jobs work. Unknown placeholders stay as written.
 */
export function renderPrompt(template: string, values: TemplateValues): string {
  const clock = parts(values.now, values.timezone);
  const replacements: Record<string, string> = {
    date: `${clock.year}-${clock.month}-${clock.day}`,
    time: `${clock.hour}:${clock.minute}`,
    last_output: values.lastOutput ?? '(there is no earlier output yet)',
  };
  return template.replace(/\{\{\s*(date|time|last_output)\s*\}\}/g, (_match, name: string) => replacements[name] ?? '');
}

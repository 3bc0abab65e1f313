import type { z } from 'zod';

/**
 * One field a request got wrong: its dotted path as the API spells it (`claude.maxTokens`,
 * `output.file`) and what is wrong with it in plain words, a sentence about that field alone
 * ("Must be at least 1."), so a form can show it next to the control.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Made on first use: an Intl formatter at start-up would load ICU's number data into every idle service. */
let numberFormat: Intl.NumberFormat | undefined;
const formatNumber = (value: number | bigint): string => (numberFormat ??= new Intl.NumberFormat('en')).format(value);

const KIND_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

/** zod's own wording starts like this; anything else is a message written for the schema. */
const ZOD_WORDING = /^(Too small|Too big|Invalid input|Invalid option|Invalid URL|Invalid string|Invalid element|Invalid key)/;

const sentence = (text: string): string => {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
};

function sizeLimit(origin: string, bound: number | bigint, inclusive: boolean, direction: 'least' | 'most'): string {
  const amount = formatNumber(bound);
  switch (origin) {
    case 'string':
      if (direction === 'least' && Number(bound) === 1) return 'Must not be empty.';
      return `Must be at ${direction} ${amount} characters long.`;
    case 'array':
    case 'set':
      if (direction === 'least' && Number(bound) === 1) return 'Give at least one.';
      return `Give at ${direction} ${amount}.`;
    default:
      if (inclusive) return `Must be at ${direction} ${amount}.`;
      return direction === 'least' ? `Must be more than ${amount}.` : `Must be less than ${amount}.`;
  }
}

/** What a zod issue says about its field, in plain words (no zod-speak such as ">=1"). */
export function plainIssueMessage(issue: z.core.$ZodIssue): string {
  if (!ZOD_WORDING.test(issue.message)) return sentence(issue.message);
  switch (issue.code) {
    case 'too_small':
      return sizeLimit(issue.origin, issue.minimum, issue.inclusive ?? true, 'least');
    case 'too_big':
      return sizeLimit(issue.origin, issue.maximum, issue.inclusive ?? true, 'most');
    case 'invalid_type':
      if (issue.message.endsWith('received undefined')) return 'Required.';
      return `Must be ${KIND_NAMES[issue.expected] ?? issue.expected}.`;
    case 'invalid_format':
      if (issue.format === 'url') return 'Enter a full web address that starts with https:// (or http://).';
      if (issue.format === 'regex') return 'Not in the expected form.';
      return `Must be a valid ${issue.format}.`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `Must be ${JSON.stringify(issue.values[0])}.`
        : `Must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}.`;
    default:
      return sentence(issue.message.replace(/^Invalid input: /, ''));
  }
}

/** The problems a failed parse found, one per field (the first one each field had). */
export function fieldProblemsOf(
  issues: readonly z.core.$ZodIssue[],
  fieldOf = (issue: z.core.$ZodIssue) => issue.path.join('.'),
): FieldProblem[] {
  const problems = new Map<string, string>();
  for (const issue of issues) {
    const field = fieldOf(issue);
    if (field && !problems.has(field)) problems.set(field, plainIssueMessage(issue));
  }
  return [...problems].map(([field, message]) => ({ field, message }));
}

/** "Must be at least 1." → "must be at least 1", to follow "Invalid field 'x': ". */
export const inSentence = (message: string): string => {
  const trimmed = message.replace(/\.$/, '');
  // Keep a leading quote, number or name as it is; lower only an ordinary first word.
  return /^[A-Z][a-z]/.test(trimmed) ? `${trimmed.charAt(0).toLowerCase()}${trimmed.slice(1)}` : trimmed;
};

/** The whole-request message for field problems: "Invalid field 'a': must be …. Invalid field 'b': …." */
export const describeFieldProblems = (problems: readonly FieldProblem[]): string =>
  problems.map(({ field, message }) => `Invalid field '${field}': ${inSentence(message)}.`).join(' ');

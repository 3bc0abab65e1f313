import type { z } from 'zod';
import { PerchError, invalidFields, invalidRequest } from '../core/errors.js';
import { fieldProblemsOf, inSentence, plainIssueMessage } from '../core/field-problems.js';

const pathOf = (issue: z.core.$ZodIssue): string => issue.path.map(String).join('.');

/**
 * An issue with the request as a whole — not an object, keys nobody asked for, a key with an
 * empty name (which no form field has) — rather than with one field of it.
 */
const isAboutWholeRequest = (issue: z.core.$ZodIssue): boolean => pathOf(issue) === '' || issue.code === 'unrecognized_keys';

function describeWholeRequest(issue: z.core.$ZodIssue): string {
  if (issue.path.length === 0 && issue.code === 'invalid_type') return 'The request body must be a JSON object.';
  if (issue.path.length === 0 || issue.code === 'unrecognized_keys') return `${issue.message.replace(/\.$/, '')}.`;
  return `Invalid field '${pathOf(issue)}': ${inSentence(plainIssueMessage(issue))}.`;
}

/** Validates a request part at the edge; a failure is a 400 that names every bad field (in `fields` too). */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const whole = result.error.issues.filter(isAboutWholeRequest).map(describeWholeRequest).join(' ');
  const problems = fieldProblemsOf(result.error.issues.filter((issue) => !isAboutWholeRequest(issue)));
  if (problems.length === 0) throw invalidRequest(whole || 'The request is not valid.');
  const byField = invalidFields(problems);
  if (!whole) throw byField;
  throw new PerchError(byField.type, 400, `${byField.message} ${whole}`, { fields: problems });
}

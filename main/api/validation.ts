import type { z } from 'zod';
import { PerchError, invalidFields, invalidRequest } from '../core/errors.js';
import { fieldProblemsOf } from '../core/field-problems.js';

/** An issue with the request as a whole (not an object; keys nobody asked for) rather than one field of it. */
const isAboutWholeRequest = (issue: z.core.$ZodIssue): boolean => issue.path.length === 0 || issue.code === 'unrecognized_keys';

function describeWholeRequest(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.path.length === 0) return 'The request body must be a JSON object.';
  return `${issue.message.replace(/\.$/, '')}.`;
}

/** Validates a request part at the edge; a failure is a 400 that names every bad field (in `fields` too). */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const whole = result.error.issues.filter(isAboutWholeRequest).map(describeWholeRequest).join(' ');
  const problems = fieldProblemsOf(result.error.issues.filter((issue) => !isAboutWholeRequest(issue)));
  if (problems.length === 0) throw invalidRequest(whole);
  const byField = invalidFields(problems);
  if (!whole) throw byField;
  throw new PerchError(byField.type, 400, `${byField.message} ${whole}`, { fields: problems });
}

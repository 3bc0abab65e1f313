import type { z } from 'zod';
import { invalidRequest } from '../core/errors.js';

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  const detail = issue.message.replace(/^Invalid input: /, '');
  if (field === '') return issue.code === 'invalid_type' ? 'The request body must be a JSON object.' : detail;
  if (issue.code === 'unrecognized_keys') return detail;
  return `Invalid field '${field}': ${detail}.`;
}

/** Validates a request part at the edge; a failure is a 400 that names every bad field. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw invalidRequest(result.error.issues.map(describeIssue).join(' '));
}

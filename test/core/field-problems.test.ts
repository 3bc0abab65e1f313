import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FieldChecks, PerchError, invalidField } from '../../main/core/errors.js';
import { describeFieldProblems, fieldProblemsOf, inSentence } from '../../main/core/field-problems.js';

const problemsFor = (schema: z.ZodType, input: unknown) => fieldProblemsOf(schema.safeParse(input).error?.issues ?? []);

describe('what a refused field is told, in plain words', () => {
  const cases: Array<[string, z.ZodType, unknown, string]> = [
    ['a number below its minimum', z.number().min(1), 0, 'Must be at least 1.'],
    ['a number that must be positive', z.number().positive(), 0, 'Must be more than 0.'],
    ['a number above its maximum', z.number().max(256), 1000, 'Must be at most 256.'],
    ['a large bound, with digit groups', z.number().max(100_000), 200_000, 'Must be at most 100,000.'],
    ['a fraction where a whole number goes', z.number().int(), 1.5, 'Must be a whole number.'],
    ['text where a number goes', z.number(), 'lots', 'Must be a number.'],
    ['a number where text goes', z.string(), 42, 'Must be text.'],
    ['a missing field', z.string(), undefined, 'Required.'],
    ['empty text', z.string().min(1), '', 'Must not be empty.'],
    ['text too long', z.string().max(3), 'abcd', 'Must be at most 3 characters long.'],
    ['a list too long', z.array(z.string()).max(2), ['a', 'b', 'c'], 'Give at most 2.'],
    ['a word not among the choices', z.enum(['light', 'dark']), 'blue', 'Must be one of "light", "dark".'],
    ['not a yes or no', z.boolean(), 'yes', 'Must be true or false.'],
    ['not a web address', z.url(), 'nope', 'Enter a full web address that starts with https:// (or http://).'],
    ["the schema's own words, as a sentence", z.string().min(1, 'give the job a name'), '', 'Give the job a name.'],
  ];

  it.each(cases)('%s', (_case, schema, input, said) => {
    expect(problemsFor(z.object({ value: schema }), { value: input })).toEqual([{ field: 'value', message: said }]);
  });

  it('never speaks zod (">=", "expected", "received")', () => {
    for (const [, schema, input] of cases) {
      const [problem] = problemsFor(z.object({ value: schema }), { value: input });
      expect(problem?.message).not.toMatch(/>=|<=|expected|received|Invalid input/);
    }
  });

  it('names nested fields by their dotted path, once each', () => {
    const schema = z.object({ output: z.object({ url: z.string().min(5).max(3) }) });
    expect(problemsFor(schema, { output: { url: 'abcd' } })).toEqual([
      { field: 'output.url', message: 'Must be at least 5 characters long.' },
    ]);
  });

  it('reads as one message for the whole request', () => {
    expect(
      describeFieldProblems([
        { field: 'cron', message: "'61 9 * * *' is not a schedule." },
        { field: 'name', message: 'Give the job a name.' },
      ]),
    ).toBe("Invalid field 'cron': '61 9 * * *' is not a schedule. Invalid field 'name': give the job a name.");
    expect(inSentence('API keys start with sk-ant-.')).toBe('API keys start with sk-ant-');
  });
});

describe('FieldChecks', () => {
  it('collects every field problem and throws them together', () => {
    const checks = new FieldChecks();
    checks.add('name', 'Give the job a name.');
    const refused = (): string => {
      throw invalidField('cron', 'Not a schedule.');
    };
    expect(checks.check(refused)).toBeUndefined();
    expect(checks.check(() => 'kept')).toBe('kept');
    checks.add('name', 'said twice');
    const thrown = (() => {
      try {
        checks.finish();
      } catch (error) {
        return error as PerchError;
      }
      return undefined;
    })();
    expect(thrown?.status).toBe(400);
    expect(thrown?.fields).toEqual([
      { field: 'name', message: 'Give the job a name.' },
      { field: 'cron', message: 'Not a schedule.' },
    ]);
  });

  it('lets a refusal that is not about a field through at once', () => {
    const checks = new FieldChecks();
    expect(() =>
      checks.check(() => {
        throw new PerchError('forbidden_output', 403, 'Not from here.');
      }),
    ).toThrow('Not from here.');
    expect(() => checks.finish()).not.toThrow();
  });
});

import type { z } from 'zod';
import { PerchError } from '../errors.js';
import { settingsSchema } from './schema.js';

type AnySchema = z.ZodType;

/** Strips `.default()`, `.prefault()` and `.optional()` wrappers to reach the value's own schema. */
function unwrap(schema: AnySchema): AnySchema {
  let current: AnySchema = schema;
  for (;;) {
    const def = current.def as { type: string; innerType?: AnySchema };
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

function objectShape(schema: AnySchema): Record<string, AnySchema> | undefined {
  const inner = unwrap(schema);
  return inner.def.type === 'object' ? (inner as unknown as z.ZodObject).shape : undefined;
}

/** Every leaf setting as a dotted key, in schema order: `claude.model`, `api.port`, … */
export function settingKeys(): string[] {
  const keys: string[] = [];
  const walk = (shape: Record<string, AnySchema>, prefix: string): void => {
    for (const [name, child] of Object.entries(shape)) {
      const nested = objectShape(child);
      if (nested) walk(nested, `${prefix}${name}.`);
      else keys.push(`${prefix}${name}`);
    }
  };
  walk(settingsSchema.shape, '');
  return keys;
}

/** The schema of one dotted key (a leaf or a whole section), or undefined for an unknown key. */
export function schemaForKey(key: string): AnySchema | undefined {
  let current: AnySchema = settingsSchema;
  for (const part of key.split('.')) {
    const shape = objectShape(current);
    if (!shape || !Object.hasOwn(shape, part)) return undefined;
    current = shape[part] as AnySchema;
  }
  return current;
}

export function unknownSettingError(key: string): PerchError {
  return new PerchError('unknown_setting', 400, `Unknown setting '${key}'. Known settings: apiKey, ${settingKeys().join(', ')}.`);
}

/**
 * Turns the text a person typed (`perch config set api.port 8081`) into the value the schema
 * wants: numbers and booleans are parsed, lists accept JSON (`["a","b"]`) or commas (`a,b`),
 * strings are taken as written.
 */
export function parseSettingText(key: string, text: string): unknown {
  const schema = schemaForKey(key);
  if (!schema) throw unknownSettingError(key);
  const kind = unwrap(schema).def.type;
  const trimmed = text.trim();
  switch (kind) {
    case 'number': {
      const value = trimmed === '' ? Number.NaN : Number(trimmed);
      if (!Number.isFinite(value)) throw invalidValue(key, text, 'expected a number');
      return value;
    }
    case 'boolean': {
      if (/^(true|yes|on|1)$/i.test(trimmed)) return true;
      if (/^(false|no|off|0)$/i.test(trimmed)) return false;
      throw invalidValue(key, text, 'expected true or false');
    }
    case 'array': {
      if (trimmed.startsWith('[')) {
        try {
          return JSON.parse(trimmed) as unknown;
        } catch {
          throw invalidValue(key, text, 'expected a JSON list such as ["a","b"] or a comma-separated list');
        }
      }
      return trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
    }
    case 'object':
      throw new PerchError(
        'invalid_setting',
        400,
        `'${key}' is a group of settings; set one of its keys instead (${settingKeys()
          .filter((candidate) => candidate.startsWith(`${key}.`))
          .join(', ')}).`,
      );
    default:
      return text;
  }
}

function invalidValue(key: string, text: string, expectation: string): PerchError {
  return new PerchError('invalid_setting', 400, `Invalid value ${JSON.stringify(text)} for '${key}': ${expectation}.`, {
    fields: [{ field: key, message: `${expectation.charAt(0).toUpperCase()}${expectation.slice(1)}.` }],
  });
}

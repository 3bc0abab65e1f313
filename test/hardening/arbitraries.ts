import fc from 'fast-check';

/**
 * fast-check arbitraries for hostile requests: values that follow an OpenAPI (JSON Schema)
 * request body, then mutations of them — wrong types, missing and extra fields, deep nesting,
 * oversized and unicode-heavy text, truncated and undecodable bytes.
 */

export interface JsonSchema {
  type?: string | string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  format?: string;
}

/** Characters that break naive handling: lone surrogates, RTL overrides, NUL, emoji, combining marks, BOM. */
const NASTY = [
  '\ud800',
  '\udfff',
  '\u202e',
  '\u200f',
  '\u0000',
  '\u001b[31m',
  '😀',
  '👩‍👩‍👧‍👦',
  '\u0301\u0301\u0301',
  '\ufeff',
  '\u2028',
  'العربية',
  '𝕳𝖊𝖑𝖑𝖔',
  '"\'`${}<script>',
  '../../etc/passwd',
  '%00%ff',
  '\\',
  '*',
  'NEAR(a b)',
  '"unbalanced',
  'AND OR NOT',
  '{{last_output}}',
];

/** Text mixing every Unicode plane with the characters above. */
export const nastyString = (maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...NASTY),
        fc.string({ unit: 'binary', maxLength: 6 }),
        fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), maxLength: 3 }),
        fc.string({ maxLength: 8 }),
      ),
      { maxLength: Math.max(1, Math.ceil(maxLength / 4)) },
    )
    .map((parts) => parts.join(''));

/** A small JSON value of any kind (wrong types for any field). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, '', '0', 'true', 'null', [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  fc.double(),
  nastyString(),
);

/** A value nested `depth` levels deep, as arrays or objects. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level += 1) value = kind === 'array' ? [value] : { a: value };
  return value;
}

/** JSON text of any value (`null` for what JSON cannot say). */
const toJson = (value: unknown): string => (value === undefined ? 'null' : JSON.stringify(value));

/** The JSON text of a value nested `depth` levels deep, built without recursion. */
export const deeplyNestedText = (depth: number, kind: 'array' | 'object'): string =>
  kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const typesOf = (schema: JsonSchema): string[] => (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []);

/** Values that satisfy a JSON Schema as the OpenAPI document states it (unicode-heavy strings, small sizes). */
export function fromSchema(schema: JsonSchema | boolean | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || typeof schema === 'boolean') return fc.jsonValue({ maxDepth: 2 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alternative) => fromSchema(alternative, depth)));
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((type) => fromSchema({ ...schema, type }, depth)));
  switch (types[0]) {
    case 'string': {
      if (schema.format === 'base64') return fc.base64String({ maxLength: 64 });
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 40, Math.max(minLength, 40));
      return fc.oneof(
        fc.string({ minLength, maxLength }),
        nastyString(maxLength).filter((text) => text.length >= minLength && text.length <= maxLength),
      );
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(depth > 4 ? fc.constant(null) : fromSchema(schema.items, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, Math.max(schema.minItems ?? 0, 3)),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const names = Object.keys(properties);
      if (names.length === 0) return fc.dictionary(nastyString(12), anyJson, { maxKeys: 4 });
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const name of names) record[name] = depth > 4 ? fc.constant(null) : fromSchema(properties[name], depth + 1);
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((name) => names.includes(name)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Changes one thing in a valid body so it is (probably) no longer valid. */
export function mutated(valid: fc.Arbitrary<unknown>, oversizedChars: number): fc.Arbitrary<unknown> {
  const asObject = (value: unknown): Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
  const pickKey = (object: Record<string, unknown>, index: number): string | undefined => {
    const keys = Object.keys(object);
    return keys.length === 0 ? undefined : keys[index % keys.length];
  };
  return fc.oneof(
    // A field with the wrong type.
    fc.tuple(valid, fc.nat(), anyJson).map(([value, index, wrong]) => {
      const object = asObject(value);
      const key = pickKey(object, index);
      if (key !== undefined) object[key] = wrong;
      return object;
    }),
    // A missing field.
    fc.tuple(valid, fc.nat()).map(([value, index]) => {
      const object = asObject(value);
      const key = pickKey(object, index);
      if (key !== undefined) Reflect.deleteProperty(object, key);
      return object;
    }),
    // Unknown extra fields, including prototype-pollution names.
    fc
      .tuple(valid, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', ''), anyJson)
      .map(([value, key, extra]) => {
        // Written as JSON text, so "__proto__" stays an own key instead of setting the prototype.
        const rest = JSON.stringify(asObject(value));
        const first = `${JSON.stringify(key)}:${toJson(extra)}`;
        return JSON.parse(rest === '{}' ? `{${first}}` : `{${first},${rest.slice(1)}`) as unknown;
      }),
    // A field nested deeply.
    fc
      .tuple(valid, fc.nat(), fc.integer({ min: 100, max: 3_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
      .map(([value, index, depth, kind]) => {
        const object = asObject(value);
        object[pickKey(object, index) ?? 'nested'] = deeplyNested(depth, kind);
        return object;
      }),
    // A field far over any limit.
    fc.tuple(valid, fc.nat()).map(([value, index]) => {
      const object = asObject(value);
      object[pickKey(object, index) ?? 'big'] = 'x'.repeat(oversizedChars);
      return object;
    }),
    // Not an object at all.
    anyJson,
  );
}

/** A JSON body as bytes, sometimes cut short or spliced with bytes that are not UTF-8. */
export const encodedJson = (value: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 10, arbitrary: value.map((body) => Buffer.from(toJson(body), 'utf8')) },
    {
      weight: 2,
      arbitrary: fc.tuple(value, fc.nat()).map(([body, cut]) => {
        const text = Buffer.from(toJson(body), 'utf8');
        return text.subarray(0, text.length === 0 ? 0 : cut % text.length);
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(value, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([body, bytes]) => {
        const text = toJson(body);
        const quote = text.indexOf('"', 1);
        const at = quote === -1 ? 0 : quote;
        return Buffer.concat([
          Buffer.from(text.slice(0, at)),
          Buffer.from([0xff, 0xc3, 0x28, ...bytes]),
          Buffer.from(text.slice(at)),
        ]);
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        Buffer.alloc(0),
        Buffer.from('\ufeff{}'),
        Buffer.from('{"a":1}{"b":2}'),
        Buffer.from('{"message":"x","message":{"a":1}}'),
        Buffer.from('1e999999'),
        Buffer.from(deeplyNestedText(20_000, 'array')),
        Buffer.from(deeplyNestedText(5_000, 'object')),
      ),
    },
  );

/** Percent-encodes any text as UTF-8 (lone surrogates become U+FFFD) so it can sit in a URL. */
export const encodeUrlPart = (text: string): string =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** A path segment in place of `{id}`: plausible ids, hostile text, traversal, broken escapes. */
export const pathSegment = (known: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    ...(known.length > 0 ? [fc.constantFrom(...known).map(encodeURIComponent)] : []),
    nastyString(30).map(encodeUrlPart),
    fc.constantFrom('%FF', '%C3%28', '%E0%80%80', '%', '%zz', '..%2F..%2Fetc', '%2e%2e', 'a%00b', 'x'.repeat(300), '%ED%A0%80'),
    fc.stringMatching(/^[a-z]{3}_[A-Za-z0-9]{1,30}$/),
  );

/** A query string: the documented parameters with hostile values, repeated keys and stray ones. */
export const queryString = (names: string[]): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        names.length > 0 ? fc.oneof(fc.constantFrom(...names), nastyString(8)) : nastyString(8),
        fc.oneof(
          fc.constantFrom(
            '',
            '0',
            '-1',
            '1',
            '20',
            '1e3',
            'NaN',
            'Infinity',
            '99999999999999999999',
            'true',
            '[]',
            'day',
            'model',
          ),
          nastyString(20),
          fc.constantFrom('2025-01-01', '2025-13-45', 'Europe/Paris', 'Mars/Olympus', 'x'.repeat(600)),
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) =>
      pairs.length === 0 ? '' : `?${pairs.map(([key, value]) => `${encodeUrlPart(key)}=${encodeUrlPart(value)}`).join('&')}`,
    );

/** Content types a client might (wrongly) send. */
export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=nonsense',
  'application/vnd.api+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'garbage/;;;=',
  '',
);

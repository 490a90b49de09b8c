import { type TSchema, Type } from '@sinclair/typebox';
import { invalidQuery } from '../errors.js';
import { acceptableJson } from './json.js';

/**
 * Query parameters read the way Mainflux reads them (API.md §0.7). Their syntax is the
 * route's querystring schema, built from the parameter kinds below and validated by
 * fastify before the handler runs: a parameter given twice is an error (it arrives as
 * an array, which no kind accepts), unsigned integers are digits only, booleans are Go's
 * ParseBool words, and no value may hold U+0000 (no database can). A value that fails
 * its kind answers 400 `invalid query parameters`, or the parameter's own `x-error`
 * text where 0.12.1 words it differently. Unlike 0.12.1, a value with a comma is a
 * value, not a repetition (compatibility policy §3).
 *
 * Integers are digit strings, not `integer` with type coercion: a coercing validator
 * would take " 1" and "1e3", which Mainflux refuses. The handler turns a validated
 * value into its number (`count`), boolean (`flag`) or object (`jsonObject`: JSON in a
 * value is beyond what a schema can check).
 */

/** Unannotated extension keyword: the error text for a parameter that fails its kind. */
export const QUERY_ERROR = 'x-error';

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];
const NO_NUL = '^[^\\u0000]*$';

const opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
const errorText = (error?: string) => (error ? { [QUERY_ERROR]: error } : {});

export const Param = {
  /** Digits (at most 15: no overflow); with `empty`, also nothing (meaning the default). */
  uint: (description: string, options: { error?: string; empty?: boolean } = {}) =>
    opt(
      Type.String({
        pattern: `^[0-9]{${options.empty ? 0 : 1},15}$`,
        description,
        ...errorText(options.error),
      }),
    ),
  /** Any text without U+0000. */
  text: (description: string) => opt(Type.String({ pattern: NO_NUL, description })),
  /** One of a few words. */
  oneOf: <const V extends readonly string[]>(values: V, description: string, error?: string) =>
    opt(Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...errorText(error) })),
  /** Go's ParseBool: 1 t T TRUE true True, 0 f F FALSE false False. */
  bool: (description: string) => opt(Type.String({ enum: [...TRUE, ...FALSE], description })),
  /** A JSON object, as text. */
  json: (description: string) => opt(Type.String({ pattern: NO_NUL, description })),
  /** Read by nobody in 0.12.1, so any value (or repetition) of it is accepted. */
  ignored: (description: string) => opt(Type.Unknown({ description })),
};

/** A validated `Param.uint`, or the fallback when absent. */
export const count = (value: string | undefined, fallback: number): number =>
  value === undefined ? fallback : Number(value);

/** A validated `Param.bool`, or the fallback when absent. */
export const flag = (value: string | undefined, fallback: boolean): boolean =>
  value === undefined ? fallback : TRUE.includes(value);

/** A `Param.ignored` boolean that 0.12.1 does not read: false only when it says false. */
export const saysFalse = (value: unknown): boolean => typeof value === 'string' && FALSE.includes(value);

/** The object of a `Param.json` (absent or empty: undefined); anything else is an invalid query. */
export function jsonObject(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown;
  try {
    parsed = acceptableJson(parseQueryJson(value));
  } catch {
    throw invalidQuery();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidQuery();
  return parsed as Record<string, unknown>;
}

/**
 * The error for a querystring that failed its schema: the failing parameter's
 * `x-error` text, or Mainflux's `invalid query parameters`.
 */
export function queryError(schema: unknown, instancePath: string | undefined) {
  const name = (instancePath ?? '').split('/')[1] ?? '';
  const properties = (schema as { properties?: Record<string, Record<string, unknown>> } | undefined)
    ?.properties;
  const text = name && properties?.[name]?.[QUERY_ERROR];
  return invalidQuery(typeof text === 'string' ? text : undefined);
}

/**
 * JSON from a query value. The seed document writes its filter shell-quoted,
 * `metadata="\{\"serial\":\"123456\"\}"`, and what arrives depends on the shell and
 * curl: the plain object, that object as a JSON string, or the text as written. Where
 * strict parsing fails or gives a string, those spellings are unwrapped (compatibility
 * policy §2); nothing that parsed as an object before changes meaning.
 */
function parseQueryJson(value: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    if (!/\\[{}]/.test(value)) throw err;
    parsed = JSON.parse(value.replace(/\\([{}])/g, '$1'));
  }
  return typeof parsed === 'string' ? JSON.parse(parsed) : parsed;
}

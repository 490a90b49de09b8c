import { invalidQuery } from '../errors.js';
import { acceptableJson, acceptableText } from './json.js';

/**
 * Query parameters read the way Mainflux reads them (API.md §0.7): a repeated parameter
 * is an error, unsigned integers are digits only, booleans are Go's ParseBool. Unlike
 * 0.12.1, a value with a comma is a value, not a repetition (compatibility policy §3).
 * A value no database can hold (U+0000) is refused like any other invalid parameter.
 */
export type Query = Record<string, string | string[] | undefined>;

export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw invalidQuery();
  if (value === undefined) return value;
  try {
    return acceptableText(value);
  } catch {
    throw invalidQuery();
  }
}

export function uint(query: Query, name: string, fallback: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value)) throw invalidQuery();
  return Number(value);
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function bool(query: Query, name: string, fallback: boolean): boolean {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw invalidQuery();
}

/** A boolean parameter 0.12.1 does not read: false only when it says false, else ignored. */
export function saysFalse(query: Query, name: string): boolean {
  const value = query[name];
  return typeof value === 'string' && FALSE.has(value);
}

export function jsonObject(query: Query, name: string): Record<string, unknown> | undefined {
  const value = single(query, name);
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

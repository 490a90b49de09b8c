import { malformed } from '../errors.js';
import { byteLength } from '../things/types.js';
import type { Layout, LayoutParameter } from './layout.js';

/**
 * Layout parameters at provisioning time: the values a request gives are checked against
 * the layout's declarations (`[parameters.<name>]`), then every `{{name}}` placeholder of
 * the layout's thing and channel names, metadata and bootstrap content is replaced.
 */

/** `{{name}}`, spaces allowed inside the braces; other `{{…}}` text is left as it is. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/**
 * Placeholders every layout may use without declaring them: the request's external id,
 * the name it gives (else the external id), and the registration id of an enrolling
 * device (empty through /mapping).
 */
export const BUILT_INS = ['external_id', 'name', 'registration_id'] as const;

export type ParameterValue = string | number | boolean;

/** A string parameter's value is at most this long (bytes): it goes into names and metadata. */
export const MAX_STRING_VALUE = 1024;

/** Adds the placeholder names a value holds (in strings, nested in objects and arrays) to `into`. */
export function placeholdersIn(value: unknown, into: Set<string>): Set<string> {
  if (typeof value === 'string') {
    for (const match of value.matchAll(PLACEHOLDER)) into.add(match[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) placeholdersIn(v, into);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) placeholdersIn(v, into);
  }
  return into;
}

/**
 * Whether a pattern repeats a group that itself holds a repetition (`(a+)+`, `(\w*-)*`,
 * `(x{2,})+`): the shape whose backtracking can take exponential time on a value that
 * almost matches. Patterns are the layout owner's, values the requester's (later an
 * enrolling device's), and a regular expression cannot be interrupted, so such
 * patterns are refused. Overlapping alternatives (`(a|a)+`) are not detected.
 */
export function nestedRepetition(pattern: string): boolean {
  const repeats = (at: number) =>
    pattern[at] === '*' || pattern[at] === '+' || /^\{\d+,\d*\}/.test(pattern.slice(at));
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      groups.push(false);
    } else if (c === ')') {
      const holds = groups.pop() ?? false;
      if (holds && repeats(i + 1)) return true;
      if ((holds || repeats(i + 1)) && groups.length > 0) groups[groups.length - 1] = true;
    } else if (repeats(i) && groups.length > 0) {
      groups[groups.length - 1] = true;
    }
  }
  return false;
}

const TYPE_WORDS = { string: 'a string', integer: 'an integer', boolean: 'true or false' } as const;

/** Whether a value is of a parameter type (the check of requests and of declared defaults). */
export function ofType(type: LayoutParameter['type'], value: unknown): value is ParameterValue {
  if (type === 'string') return typeof value === 'string';
  if (type === 'integer') return typeof value === 'number' && Number.isSafeInteger(value);
  return typeof value === 'boolean';
}

export const typeWords = (type: LayoutParameter['type']) => TYPE_WORDS[type];

const ZERO: Record<LayoutParameter['type'], ParameterValue> = { string: '', integer: 0, boolean: false };

/**
 * The value of every declared parameter: the one given, else the declared default, else
 * the type's zero value ("", 0, false). A parameter the layout does not declare, a
 * missing required one, a value of the wrong type or one that does not match the
 * pattern is malformed, naming the parameter. `null` counts as not given.
 */
export function resolveParameters(
  declared: LayoutParameter[],
  given: Record<string, unknown> | undefined,
  layoutName: string,
): Record<string, ParameterValue> {
  const byName = new Map(declared.map((p) => [p.name, p]));
  for (const name of Object.keys(given ?? {})) {
    if (given![name] === null) continue;
    if (!byName.has(name)) {
      const known = declared.map((p) => p.name).join(', ');
      throw malformed(
        `unknown parameter "${name}": layout ${layoutName} declares ${known ? `only ${known}` : 'no parameters'}`,
      );
    }
  }
  const values: Record<string, ParameterValue> = {};
  for (const p of declared) {
    const value = given?.[p.name] ?? null;
    if (value === null) {
      if (p.required) throw malformed(`parameter "${p.name}" is required by layout ${layoutName}`);
      values[p.name] = p.default ?? ZERO[p.type];
      continue;
    }
    if (!ofType(p.type, value)) throw malformed(`parameter "${p.name}" must be ${TYPE_WORDS[p.type]}`);
    if (typeof value === 'string') {
      if (byteLength(value) > MAX_STRING_VALUE)
        throw malformed(`parameter "${p.name}" is longer than ${MAX_STRING_VALUE} bytes`);
      if (p.pattern !== null && !new RegExp(p.pattern, 'u').test(value))
        throw malformed(`parameter "${p.name}" does not match its pattern ${p.pattern}`);
    }
    values[p.name] = value;
  }
  return values;
}

/** A string with its placeholders replaced; a string that is one placeholder becomes the typed value. */
function fill(text: string, values: Record<string, ParameterValue>): ParameterValue {
  const whole = WHOLE.exec(text);
  if (whole && whole[1]! in values) return values[whole[1]!]!;
  return text.replace(PLACEHOLDER, (match, name: string) => (name in values ? String(values[name]) : match));
}

function fillDeep(value: unknown, values: Record<string, ParameterValue>): unknown {
  if (typeof value === 'string') return fill(value, values);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, values));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, values)]));
  }
  return value;
}

/**
 * The layout with its placeholders replaced by `values` (the parameters' and the
 * built-ins'): in thing and channel names (always text), in metadata and in the
 * bootstrap content (a whole-value placeholder keeps its parameter's type).
 */
export function bindLayout(layout: Layout, values: Record<string, ParameterValue>): Layout {
  if (layout.placeholders.length === 0) return layout;
  const entity = (e: Layout['things'][number]) => ({
    ...e,
    name: String(fill(e.name, values)),
    metadata: fillDeep(e.metadata, values) as Record<string, unknown>,
  });
  return {
    ...layout,
    things: layout.things.map(entity),
    channels: layout.channels.map(entity),
    content: layout.content ? (fillDeep(layout.content, values) as Record<string, unknown>) : null,
  };
}

/**
 * What a decoded JSON value must satisfy before it reaches a service, so no input can
 * make a database fail (a 5xx) where it should have been refused (a 400):
 * - U+0000 in a string or key: PostgreSQL text and jsonb cannot hold it, so it is refused;
 * - unpaired UTF-16 surrogates (`"\ud800"`): replaced by U+FFFD, as Go's decoder does
 *   (PostgreSQL's jsonb would reject the escape);
 * - nesting deeper than MAX_JSON_DEPTH: refused (SQLite's JSON functions stop at 1000
 *   levels, PostgreSQL at its stack limit).
 */
export const MAX_JSON_DEPTH = 512;

export class UnacceptableJson extends Error {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function cleanString(s: string): string {
  if (s.includes('\u0000')) throw new UnacceptableJson('a string contains U+0000');
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) throw new UnacceptableJson('JSON nested too deep');
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = clean(value[i], depth + 1);
      if (v !== value[i]) {
        out ??= value.slice();
        out[i] = v;
      }
    }
    return out ?? value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  let changed = false;
  const cleaned = entries.map(([k, v]): [string, unknown] => {
    const pair: [string, unknown] = [cleanString(k), clean(v, depth + 1)];
    if (pair[0] !== k || pair[1] !== v) changed = true;
    return pair;
  });
  if (!changed) return value;
  // defineProperty, not assignment: a "__proto__" key stays a plain key, as JSON.parse made it.
  const out: Record<string, unknown> = {};
  for (const [k, v] of cleaned)
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** The value made safe to store, or UnacceptableJson. */
export function acceptableJson<T>(value: T): T {
  return clean(value, 0) as T;
}

/** A query-string value made safe to use in a query, or UnacceptableJson. */
export function acceptableText(value: string): string {
  return cleanString(value);
}

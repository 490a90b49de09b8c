/**
 * Text and JSON that both databases can store and query. PostgreSQL refuses a NUL
 * character in `text` and `jsonb` and a lone UTF-16 surrogate in `jsonb`; SQLite's GLOB
 * stops at a NUL. Either would turn a client's bad input into a 500 (or, on SQLite, a
 * filter that matches everything), so such input is refused at the service edge.
 */

/** Deeper JSON than this is refused: serialising it would overflow the stack. */
export const MAX_JSON_DEPTH = 100;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s);
}

export function isStorableJson(value: unknown, depth = 0): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (typeof value === 'string') return isStorableText(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((v) => isStorableJson(v, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (!isStorableText(k) || !isStorableJson(v, depth + 1)) return false;
  }
  return true;
}

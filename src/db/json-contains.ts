import { type RawBuilder, sql } from 'kysely';
import type { Dialect } from './schema.js';

/**
 * JSON containment with PostgreSQL's jsonb `@>` semantics: every key of the filter
 * object is in the stored object with a contained value; arrays contain when every
 * filter element is contained in some stored element; scalars compare equal.
 */
export function jsonContains(stored: unknown, filter: unknown): boolean {
  if (filter === null || typeof filter !== 'object') {
    return stored === filter;
  }
  if (Array.isArray(filter)) {
    if (!Array.isArray(stored)) return false;
    return filter.every((f) => stored.some((s) => jsonContains(s, f)));
  }
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return false;
  const obj = stored as Record<string, unknown>;
  for (const [k, v] of Object.entries(filter)) {
    if (!Object.hasOwn(obj, k) || !jsonContains(obj[k], v)) return false;
  }
  return true;
}

/**
 * SQL: `column` (a metadata column of this dialect) contains `filter`, with `@>` on
 * PostgreSQL and `tethys_json_contains` (the function above, registered with SQLite)
 * there; TRUE without a filter.
 */
export function containsSql(
  dialect: Dialect,
  column: RawBuilder<unknown>,
  filter: Record<string, unknown> | undefined,
): RawBuilder<unknown> {
  if (!filter || Object.keys(filter).length === 0) return sql`TRUE`;
  const json = JSON.stringify(filter);
  return dialect === 'postgres'
    ? sql`${column} @> ${json}::jsonb`
    : sql`tethys_json_contains(${column}, ${json}) = 1`;
}

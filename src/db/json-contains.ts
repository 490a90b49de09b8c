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

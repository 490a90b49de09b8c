import { sql } from 'kysely';
import type { Db } from './schema.js';

/** How long after a write the pending entries are merged. */
const FLUSH_AFTER_MS = 1000;

/**
 * PostgreSQL's GIN indexes (metadata containment, name trigrams) put new entries in a
 * pending list and merge it into the index only when it passes 4 MB (or when VACUUM
 * runs, which after a burst of inserts can be minutes away); every search reads the
 * whole list. Measured at 1M things: a metadata filter cost PostgreSQL 0.3 ms with an
 * empty list and 1.6–2.2 ms with 2–3 MB pending after a bulk import, a third of the
 * requests a second. Keeping the list off (`fastupdate=off`) made bulk creates a fifth to a
 * third slower, so inserts keep the list and this merges it (`gin_clean_pending_list`)
 * a second after writes, at most once a second: a filter after an import is as fast as
 * before it, and during a long import the list stays far below its limit.
 */
export class GinPendingFlush {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private db: Db,
    private indexes: string[],
  ) {}

  /** Rows were written to the indexed table: merge its pending entries soon. */
  written(): void {
    if (this.db.dialect !== 'postgres' || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, FLUSH_AFTER_MS);
    this.timer.unref();
  }

  /** Merges now; an index that does not exist (no pg_trgm) is skipped. */
  async flush(): Promise<void> {
    try {
      await sql`SELECT gin_clean_pending_list(i) FROM unnest(${this.indexes}::text[]) AS n,
        LATERAL to_regclass(n) AS i WHERE i IS NOT NULL`.execute(this.db.kysely);
    } catch {
      // The pool closed with the server, or the index went away: VACUUM merges it anyway.
    }
  }
}

import { sql } from 'kysely';
import type { Db } from '../../src/db/schema.js';

/**
 * Runs `work` while the events table refuses every insert (a trigger): each change
 * made meanwhile must fail with its event, and leave nothing behind.
 */
export async function whileEventsRefused(db: Db, work: () => Promise<void>): Promise<void> {
  const trigger =
    db.dialect === 'postgres'
      ? [
          sql`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`,
          sql`CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_events()`,
        ]
      : [sql`CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END`];
  for (const s of trigger) await s.execute(db.kysely);
  try {
    await work();
  } finally {
    await sql`DROP TRIGGER refuse${sql.raw(db.dialect === 'postgres' ? ' ON events' : '')}`.execute(
      db.kysely,
    );
    if (db.dialect === 'postgres') await sql`DROP FUNCTION refuse_events()`.execute(db.kysely);
  }
}

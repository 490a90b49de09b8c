import crypto from 'node:crypto';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { ExtendedScenario } from './extended.js';
import type { BenchContext } from './types.js';

/** Events in the table when the events scenario measures. */
export const EVENTS = 1_000_000;
/** Seeded things whose histories the scenario reads, one a request in turn. */
const ENTITIES = 1000;

/**
 * Tops the audit trail up to `total` events: the seeding's thing.create events, then
 * synthetic ones of the main account (thing.update of 100,000 other ids, ten each),
 * written straight into the table, older than every real one. The user's events are
 * then a million rows the visibility filter must not read.
 */
async function topUp(ctx: BenchContext, total: number): Promise<number> {
  const base = Date.now() - 86_400_000;
  const owner = ctx.main.email;
  if (ctx.db === 'postgres') {
    const client = new pg.Client({ connectionString: ctx.dbUrl });
    await client.connect();
    try {
      const have = Number((await client.query('SELECT count(*) AS n FROM events')).rows[0].n);
      const missing = total - have;
      if (missing > 0) {
        await client.query(
          `INSERT INTO events (id, actor, actor_user, action, entity_id, related_id, owner, source, request_id, details)
           SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || lpad(to_hex(g % 4096), 3, '0') || '-8' || substr(m, 1, 3) || '-' || substr(m, 4, 12))::uuid,
             $1, NULL, 'thing.update', md5('e' || (g % 100000))::uuid::text, NULL, $1, '127.0.0.1', NULL,
             '{"name":"x","metadata_fields":[]}'::jsonb
           FROM (SELECT g, md5(g::text) AS m, lpad(to_hex($2::bigint + g / 20), 12, '0') AS h
                 FROM generate_series(1, $3::int) g) s`,
          [owner, base, missing],
        );
        await client.query('ANALYZE events');
      }
      return Math.max(have, total);
    } finally {
      await client.end();
    }
  }
  const db = new SqliteDatabase(path.join(ctx.server.dataDir, 'tethys.db'));
  try {
    db.pragma('busy_timeout = 30000');
    const have = Number((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n);
    const insert = db.prepare(
      `INSERT INTO events (id, actor, actor_user, action, entity_id, related_id, owner, source, request_id, details)
       VALUES (?, ?, NULL, 'thing.update', ?, NULL, ?, '127.0.0.1', NULL, '{"name":"x","metadata_fields":[]}')`,
    );
    const entity = (g: number) =>
      crypto
        .createHash('md5')
        .update(`e${g % 100000}`)
        .digest('hex')
        .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
    const batch = db.transaction((from: number, to: number) => {
      for (let g = from; g < to; g++) {
        const ms = base + Math.floor(g / 20);
        const h = ms.toString(16).padStart(12, '0');
        const r = crypto.randomBytes(8).toString('hex');
        const id = `${h.slice(0, 8)}-${h.slice(8)}-7${(g % 4096).toString(16).padStart(3, '0')}-8${r.slice(0, 3)}-${r.slice(3, 15)}`;
        insert.run(id, owner, entity(g), owner);
      }
    });
    for (let g = have; g < total; g += 50_000) batch(g, Math.min(total, g + 50_000));
    db.exec('ANALYZE events');
    return Math.max(have, total);
  } finally {
    db.close();
  }
}

/**
 * GET /events filtered by entity: an operator opening a thing's history, with the
 * trail at a million events of the same account (issue 21: ≥ 1,000 req/s, p99 < 50 ms
 * on PostgreSQL).
 */
export const eventsByEntity: ExtendedScenario = {
  id: 'events',
  title: `GET /events?entity_id=<one of ${ENTITIES} seeded things> with ${EVENTS.toLocaleString('en')} events of the account`,
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 1000, maxP99Ms: 50 },
  async prepare(ctx) {
    const count = await topUp(ctx, EVENTS);
    const ids = ctx.kept
      .all()
      .slice(0, ENTITIES)
      .map((t) => t.id);
    const path = (n: number) => `/events?entity_id=${ids[n % ids.length]}&limit=10`;
    const check = await ctx.api.call('GET', path(0), { token: ctx.main.token, expect: 200 });
    const first = check.events[0];
    if (!(check.total >= 1) || (first?.entity_id !== ids[0] && first?.related_id !== ids[0]))
      throw new Error(`events: expected the thing's history, got ${JSON.stringify(check).slice(0, 200)}`);
    if (count < EVENTS) throw new Error(`events: ${count} events in the table, expected ${EVENTS}`);
    let next = 0;
    return {
      method: 'GET',
      path: path(0),
      headers: { authorization: ctx.main.token },
      okStatus: 200,
      setupRequest: (req) => ({ ...req, path: path(next++) }),
    };
  },
};

export const eventsScenarios = [eventsByEntity];

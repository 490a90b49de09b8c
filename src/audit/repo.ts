import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { executor, unitBuffer } from '../db/transactions.js';
import type { Actor, AuditEvent, EventQuery, NewEvent } from './types.js';

/**
 * The stored columns, and the one-letter name each has in the JSON an INSERT carries
 * (every byte of it is built, sent and parsed with every change). An event's time is
 * its id's first 48 bits, its entity type its action's first word, and `actor_user` is
 * stored only when it is not the actor itself: every byte of a row is written too.
 */
const COLUMNS = {
  id: 'i',
  actor: 'a',
  actor_user: 'u',
  action: 'c',
  entity_id: 'e',
  related_id: 'r',
  owner: 'o',
  source: 's',
  request_id: 'q',
  details: 'd',
} as const;

type Column = keyof typeof COLUMNS;
const NAMES = Object.keys(COLUMNS) as Column[];

/** The column list, and how each database reads stored events out of their JSON. */
const LIST = sql.raw(NAMES.join(', '));
const PG_RECORD = sql.raw(
  NAMES.map((c) => `${COLUMNS[c]} ${c === 'details' ? 'jsonb' : c === 'id' ? 'uuid' : 'text'}`).join(', '),
);
const PG_AS_COLUMNS = sql.raw(NAMES.map((c) => `${COLUMNS[c]} AS ${c}`).join(', '));
const SQLITE_VALUES = sql.raw(
  NAMES.map((c) => (c === 'details' ? `json(value -> '$.d')` : `value ->> '$.${COLUMNS[c]}'`)).join(', '),
);

/** The unit of work's buffer of events (see `buffer`). */
const BUFFER = Symbol('audit events');

/** Matches counted at most; beyond, a page says there are at least this many. */
export const COUNT_CAP = 100_000;

type Row = Omit<AuditEvent, 'details' | 'time' | 'entity_type'> & { details: unknown };

/**
 * The smallest id of a time: ids begin with the clock's 48 bits in hex (see newEventId).
 * A whole UUID, as PostgreSQL's uuid column compares it.
 */
export function idBound(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** The time of an event id (its first 48 bits: milliseconds since 1970). */
export function timeOfId(id: string): string {
  return new Date(Number.parseInt(`${id.slice(0, 8)}${id.slice(9, 13)}`, 16)).toISOString();
}

/**
 * An event ready to be written with its change: its stored JSON (see COLUMNS), built
 * once, and its entity and related ids, by which a write keeps only some (a connection's
 * event when its pair is inserted).
 */
export interface StoredEvent {
  readonly entityId: string;
  readonly relatedId: string | null;
  readonly json: string;
}

/**
 * The stored JSON members that the events of one actor and request share (see COLUMNS):
 * built once for them all. `actor_user` is left out when it is the actor itself, and a
 * missing member reads as NULL.
 */
export function storedShared(actor: Actor, source: string | null, requestId: string | null): string {
  const user = actor.user !== null && actor.user !== actor.actor ? `"u":${JSON.stringify(actor.user)},` : '';
  return `"a":${JSON.stringify(actor.actor)},${user}"s":${JSON.stringify(source)},"q":${JSON.stringify(requestId)},`;
}

/** An event as stored: `shared` from storedShared, `details` already JSON (and scrubbed). */
export function storedEvent(id: string, shared: string, e: NewEvent, details: string): StoredEvent {
  const relatedId = e.relatedId ?? null;
  const related = relatedId === null ? '' : `"r":${JSON.stringify(relatedId)},`;
  return {
    entityId: e.entityId,
    relatedId,
    json: `{"i":"${id}",${shared}"c":"${e.action}","e":${JSON.stringify(e.entityId)},${related}"o":${JSON.stringify(e.owner)},"d":${details}}`,
  };
}

/** An event as answered, from its stored row (see COLUMNS); `details` parsed. */
function answered(r: Row, details: unknown): AuditEvent {
  const person = !r.actor.includes(':') && r.actor !== 'system';
  return {
    id: r.id,
    time: timeOfId(r.id),
    actor: r.actor,
    actor_user: r.actor_user ?? (person ? r.actor : null),
    action: r.action,
    entity_type: r.action.slice(0, r.action.indexOf('.')),
    entity_id: r.entity_id,
    related_id: r.related_id ?? null,
    owner: r.owner ?? null,
    source: r.source ?? null,
    request_id: r.request_id ?? null,
    details: details as Record<string, unknown>,
  };
}

/** An event as answered, from its stored JSON (what the stream carries once it commits). */
export function answeredEvent(e: StoredEvent): AuditEvent {
  const j = JSON.parse(e.json) as Record<string, unknown>;
  const r = {} as Record<Column, unknown>;
  for (const c of NAMES) r[c] = j[COLUMNS[c]] ?? null;
  return answered(r as Row, r.details);
}

/** SQL for the `events` table, which only this repository names. */
export class EventsRepository {
  constructor(
    private db: Db,
    /** Matches counted at most (COUNT_CAP; smaller in tests). */
    private countCap = COUNT_CAP,
  ) {}

  /** An event as answered, from its stored row (see COLUMNS). */
  private toEvent(r: Row): AuditEvent {
    return answered(r, this.db.parseJson(r.details));
  }

  private ex() {
    return executor(this.db);
  }

  /**
   * The INSERT of events, one statement whose one parameter is their JSON: the database
   * reads the rows out of it (PostgreSQL json_to_recordset, SQLite json_each), which
   * costs less than binding twelve values a row or twelve arrays. On PostgreSQL another
   * repository's statement takes it as one of its WITH queries, so a change and its
   * events are one statement (see `WriteGroups`); `keep` is then a condition on the event
   * `e` (a connection's event only when its pair was inserted).
   */
  insertStatement(events: StoredEvent[], keep?: RawBuilder<unknown>): RawBuilder<unknown> {
    let json = '[';
    for (let i = 0; i < events.length; i++) json += i === 0 ? events[i]!.json : `,${events[i]!.json}`;
    json += ']';
    if (this.db.dialect === 'postgres') {
      return sql`INSERT INTO events (${LIST})
        SELECT ${LIST} FROM (SELECT ${PG_AS_COLUMNS} FROM json_to_recordset(${json}::json) AS j(${PG_RECORD})) e
        ${keep ? sql`WHERE ${keep}` : sql``}`;
    }
    if (keep) throw new Error('events: a kept-when condition is PostgreSQL only');
    return sql`INSERT INTO events (${LIST}) SELECT ${SQLITE_VALUES} FROM json_each(${json})`;
  }

  async insert(events: StoredEvent[]): Promise<void> {
    if (events.length > 0) await this.insertStatement(events).execute(this.ex());
  }

  /**
   * Adds events to the current unit of work: they are written in one statement, with
   * every other event of the unit, just before it commits. False outside a unit of work.
   */
  buffer(events: StoredEvent[]): boolean {
    return unitBuffer(BUFFER, events, (items) => this.insert(items));
  }

  /** The conditions besides the entity, owner first. */
  private conditions(owner: string | null, q: EventQuery): RawBuilder<unknown>[] {
    const where: RawBuilder<unknown>[] = [];
    if (owner !== null) {
      // With an entity, SQLite must find the rows by the entity's index, not the owner's
      // (`+` keeps a column's index out of the plan; PostgreSQL's statistics choose well).
      const column = sql.raw(q.entityId && this.db.dialect === 'sqlite' ? '+owner' : 'owner');
      where.push(sql`${column} = ${owner}`);
    }
    if (q.entityType) where.push(sql`substr(action, 1, ${q.entityType.length + 1}) = ${`${q.entityType}.`}`);
    if (q.action?.endsWith('.')) {
      // A prefix: `thing.` is every action on things.
      where.push(sql`substr(action, 1, ${q.action.length}) = ${q.action}`);
    } else if (q.action) where.push(sql`action = ${q.action}`);
    if (q.actor) where.push(sql`actor = ${q.actor}`);
    if (q.from !== undefined) where.push(sql`id >= ${idBound(q.from)}`);
    if (q.to !== undefined) where.push(sql`id < ${idBound(q.to)}`);
    if (q.after) where.push(sql`id > ${q.after}`);
    return where;
  }

  /**
   * The ids that match: with an entity, the union of the rows found by each of its two
   * indexes (as the entity, as the related one), so each is read along its own index.
   */
  private matching(owner: string | null, q: EventQuery): RawBuilder<unknown> {
    const where = this.conditions(owner, q);
    const and = (first: RawBuilder<unknown> | null) => {
      const all = first ? [first, ...where] : where;
      return all.length > 0 ? sql`WHERE ${sql.join(all, sql` AND `)}` : sql``;
    };
    if (!q.entityId) return sql`SELECT id FROM events ${and(null)}`;
    return sql`SELECT id FROM events ${and(sql`entity_id = ${q.entityId}`)}
      UNION SELECT id FROM events ${and(sql`related_id = ${q.entityId}`)}`;
  }

  /**
   * A page of events, and how many match. The page is a deferred join: the indexes find
   * the page's ids (with its offset), then only those rows are read.
   */
  async page(
    owner: string | null,
    q: EventQuery,
  ): Promise<{ total: number; capped: boolean; items: AuditEvent[] }> {
    const ids = this.matching(owner, q);
    const order = sql.raw(q.dir === 'asc' ? 'ASC' : 'DESC');
    // Counting stops past COUNT_CAP: a page's cost must not grow with the whole trail.
    const count = sql<{
      n: number | string;
    }>`SELECT count(*) AS n FROM (SELECT id FROM (${ids}) m LIMIT ${this.countCap + 1}) c`.execute(this.ex());
    const rows =
      q.limit === 0
        ? Promise.resolve({ rows: [] as Row[] })
        : sql<Row>`SELECT ${sql.raw(NAMES.map((c) => `e.${c}`).join(', '))} FROM events e
            JOIN (SELECT id FROM (${ids}) m ORDER BY id ${order} LIMIT ${q.limit} OFFSET ${q.offset}) p
              ON p.id = e.id
            ORDER BY e.id ${order}`.execute(this.ex());
    const [n, page] = await Promise.all([count, rows]);
    const total = Number(n.rows[0]?.n ?? 0);
    return {
      total: Math.min(total, this.countCap),
      capped: total > this.countCap,
      items: page.rows.map((r) => this.toEvent(r)),
    };
  }

  /** Deletes at most `batch` of the oldest events older than `bound` (an id bound); returns how many. */
  async prune(bound: string, batch: number): Promise<number> {
    const result = await sql`DELETE FROM events WHERE id IN
      (SELECT id FROM events WHERE id < ${bound} ORDER BY id LIMIT ${batch})`.execute(this.ex());
    return Number(result.numAffectedRows ?? 0);
  }

  /**
   * Takes (or keeps) the sink's lease for `holder` until `leaseUntil`, creating its
   * cursor at `startId` the first time; one statement, so of several instances one
   * holds it. The cursor when held, else null.
   */
  async claimCursor(
    sink: string,
    holder: string,
    now: number,
    leaseUntil: number,
    startId: string,
  ): Promise<string | null> {
    await sql`INSERT INTO event_cursors (sink, last_id, holder, lease_until)
      VALUES (${sink}, ${startId}, NULL, ${new Date(0).toISOString()})
      ON CONFLICT (sink) DO NOTHING`.execute(this.ex());
    const rows = await sql<{ last_id: string }>`UPDATE event_cursors
      SET holder = ${holder}, lease_until = ${new Date(leaseUntil).toISOString()}
      WHERE sink = ${sink} AND (holder = ${holder} OR lease_until < ${new Date(now).toISOString()})
      RETURNING last_id`.execute(this.ex());
    return rows.rows[0]?.last_id ?? null;
  }

  /** Moves the sink's cursor, if `holder` still holds it; whether it did. */
  async advanceCursor(sink: string, holder: string, lastId: string): Promise<boolean> {
    const result = await sql`UPDATE event_cursors SET last_id = ${lastId}
      WHERE sink = ${sink} AND holder = ${holder}`.execute(this.ex());
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** Events after `afterId` and before `beforeId`, oldest first (a sink's next batch). */
  async between(afterId: string, beforeId: string, limit: number): Promise<AuditEvent[]> {
    const rows = await sql<Row>`SELECT ${LIST} FROM events
      WHERE id > ${afterId} AND id < ${beforeId} ORDER BY id LIMIT ${limit}`.execute(this.ex());
    return rows.rows.map((r) => this.toEvent(r));
  }
}

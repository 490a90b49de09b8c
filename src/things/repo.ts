import { type RawBuilder, sql } from 'kysely';
import type { EventsRepository, StoredEvent } from '../audit/repo.js';
import { WriteGroups } from '../batcher.js';
import { PLAN_EACH_TIME } from '../db/database.js';
import { GinPendingFlush } from '../db/gin-pending.js';
import { containsSql } from '../db/json-contains.js';
import type { Admission, Db } from '../db/schema.js';
import { executor, inTransaction, inUnitOfWork, LockClass, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import { ANCHOR_EVERY, type Anchor, PageAnchors } from './page-anchors.js';
import type { Channel, Metadata, Page, PageQuery, Thing } from './types.js';

type Table = 'things' | 'channels';
type Row = { id: string; owner: string; name: string; metadata: unknown; key?: string };

/** Rows a multi-row INSERT carries at most (PostgreSQL allows 65535 parameters). */
const INSERT_CHUNK = 5000;

/**
 * Inserts of fewer rows than this share statements with other requests' (WriteGroups);
 * larger ones already spread the cost of a statement and its commit over their rows, and
 * run side by side on their own connections instead of queueing behind a group.
 */
const GROUP_BELOW = 100;

/**
 * How many of a write group's statements run at once: one. While it runs, the requests
 * that arrive wait and leave together in the next, so a busy server writes fewer, larger
 * statements (fewer commits, fewer turns of the event loop a row) and its statements do
 * not contend with each other for the same index pages (the newest events, an owner's
 * counters). Measured alternated on PostgreSQL (single creates, connects, 32 clients):
 * faster than two at once both before and after the audit trail (bench/RESULTS.md).
 */
const GROUP_STATEMENTS = 1;

/**
 * SQL shared by things and channels: paging, the name and metadata filters, exact
 * totals. Pages are a deferred join (the index finds the page's ids, then only those
 * rows are read), unfiltered totals come from the trigger-kept counters.
 */
abstract class EntityRepository<T extends Thing | Channel> {
  protected abstract table: Table;
  protected abstract columns: string[];

  private anchors = new PageAnchors();

  constructor(
    protected db: Db,
    /** The audit trail's events, written with the rows that cause them. */
    protected events: EventsRepository,
  ) {
    this.inserts = new WriteGroups(
      (rows, events) => this.insertNow(rows, events),
      GROUP_STATEMENTS,
      INSERT_CHUNK,
      db.admission,
    );
  }

  /** How long and how many requests may wait for the database (Db.admission). */
  get admission(): Admission {
    return this.db.admission;
  }

  protected abstract toEntity(row: Row): T;

  protected ex() {
    return executor(this.db);
  }

  private metaTable() {
    return this.table === 'things'
      ? { name: 'thing_meta', id: 'thing_id' }
      : { name: 'channel_meta', id: 'channel_id' };
  }

  /** The WHERE conditions of a list query, owner first. */
  protected conditions(
    owner: string,
    q: Pick<PageQuery, 'name' | 'metadata'>,
    alias = '',
  ): RawBuilder<unknown>[] {
    const col = (c: string) => sql.raw(alias ? `${alias}.${c}` : c);
    const where: RawBuilder<unknown>[] = [sql`${col('owner')} = ${owner}`];
    // Filters: the plan depends on how many rows the value matches (PLAN_EACH_TIME).
    if (q.name) {
      const pattern = `%${q.name}%`;
      where.push(
        this.db.dialect === 'postgres'
          ? sql`${sql.raw(PLAN_EACH_TIME)} ${col('name')} ILIKE ${pattern}`
          : sql`${col('name')} LIKE ${pattern}`,
      );
    }
    // PostgreSQL reads a metadata filter's rows first (see `containing`).
    if (this.db.dialect !== 'postgres' && q.metadata && Object.keys(q.metadata).length > 0) {
      where.push(...this.sqliteMetadata(owner, q.metadata, col));
    }
    return where;
  }

  private sqliteMetadata(
    owner: string,
    filter: Metadata,
    col: (c: string) => RawBuilder<unknown>,
  ): RawBuilder<unknown>[] {
    const meta = this.metaTable();
    const out: RawBuilder<unknown>[] = [];
    let needsFullCheck = false;
    for (const [k, v] of Object.entries(filter)) {
      const lookup = sql`SELECT ${sql.raw(meta.id)} FROM ${sql.raw(meta.name)} WHERE owner = ${owner} AND k = ${k}`;
      let match: RawBuilder<unknown>;
      if (v === null) match = sql`${lookup} AND t = 'null'`;
      else if (typeof v === 'boolean') match = sql`${lookup} AND t = ${v ? 'true' : 'false'}`;
      else if (typeof v === 'number') match = sql`${lookup} AND v = ${v} AND t IN ('integer', 'real')`;
      else if (typeof v === 'string') match = sql`${lookup} AND v = ${v} AND t = 'text'`;
      else {
        match = sql`${lookup} AND t = ${Array.isArray(v) ? 'array' : 'object'}`;
        needsFullCheck = true;
      }
      out.push(sql`${col('id')} IN (${match})`);
    }
    if (needsFullCheck)
      out.push(sql`tethys_json_contains(${col('metadata')}, ${JSON.stringify(filter)}) = 1`);
    return out;
  }

  protected orderBy(q: Pick<PageQuery, 'order' | 'dir'>, alias = ''): RawBuilder<unknown> {
    const dir = sql.raw(q.dir === 'asc' ? 'ASC' : 'DESC');
    const p = alias ? `${alias}.` : '';
    return q.order === 'name'
      ? sql`${sql.raw(`${p}name`)} ${dir}, ${sql.raw(`${p}id`)} ${dir}`
      : sql`${sql.raw(`${p}id`)} ${dir}`;
  }

  protected select(alias: string): RawBuilder<unknown> {
    return sql.raw(this.columns.map((c) => `${alias}.${c}`).join(', '));
  }

  /** The owner's exact total and write counter, from the trigger-kept counters. */
  async ownerStats(owner: string): Promise<{ total: number; writes: string }> {
    const row = await this.ex()
      .selectFrom('entity_counts')
      .select((eb) => [eb.fn.sum<number | string>('n').as('n'), eb.fn.sum<number | string>('writes').as('w')])
      .where('owner', '=', owner)
      .where('kind', '=', this.table)
      .executeTakeFirst();
    return { total: Number(row?.n ?? 0), writes: String(row?.w ?? 0) };
  }

  async ownerTotal(owner: string): Promise<number> {
    return (await this.ownerStats(owner)).total;
  }

  /**
   * PostgreSQL, a listing filtered by metadata: the rows the filter contains, found
   * through the GIN index before anything else (a CTE the planner cannot fold into the
   * owner's ordered index walk, which it prefers when it cannot see how few rows match),
   * then the rest of the conditions, order and page on those rows only.
   */
  private containing(json: string, columns: string): RawBuilder<unknown> {
    return sql`WITH m AS MATERIALIZED (SELECT ${sql.raw(columns)} FROM ${sql.raw(this.table)}
      WHERE ${sql.raw(PLAN_EACH_TIME)} metadata @> ${json}::jsonb) `;
  }

  async list(owner: string, q: PageQuery): Promise<Page<T>> {
    const hasMetadata = Boolean(q.metadata && Object.keys(q.metadata).length);
    if (hasMetadata && this.db.dialect === 'postgres') return this.listContaining(owner, q);
    const conditions = this.conditions(owner, q);
    const table = sql.raw(this.table);
    const filtered = Boolean(q.name) || hasMetadata;
    let total: Promise<number> | null = null;
    let offset = q.offset;
    if (!filtered) {
      const stats = await this.ownerStats(owner);
      total = Promise.resolve(stats.total);
      if (q.offset >= ANCHOR_EVERY) {
        const key = `${owner} ${q.order} ${q.dir}`;
        const anchors = await this.anchors.get(key, stats.writes, () => this.loadAnchors(owner, q));
        const i = Math.min(Math.floor(q.offset / ANCHOR_EVERY), anchors.length - 1);
        if (i > 0) {
          conditions.push(this.fromAnchor(anchors[i]!, q));
          offset -= i * ANCHOR_EVERY;
        }
      }
    }
    const where = sql.join(conditions, sql` AND `);
    const page = sql<Row>`SELECT ${this.select('e')} FROM ${table} e
      JOIN (SELECT id FROM ${table} WHERE ${where} ORDER BY ${this.orderBy(q)} LIMIT ${q.limit} OFFSET ${offset}) p ON p.id = e.id
      ORDER BY ${this.orderBy(q, 'e')}`;
    if (total) {
      const [rows, count] = await Promise.all([page.execute(this.ex()), total]);
      return { total: count, items: rows.rows.map((r) => this.toEntity(r)) };
    }
    return this.filteredPage(q, page, sql`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
  }

  /** PostgreSQL, a metadata filter (and maybe a name filter): see `containing`. */
  private async listContaining(owner: string, q: PageQuery): Promise<Page<T>> {
    const where = sql.join(this.conditions(owner, q), sql` AND `);
    const json = JSON.stringify(q.metadata);
    const page = sql<Row>`${this.containing(json, this.columns.join(', '))}SELECT ${sql.raw(this.columns.join(', '))} FROM m
      WHERE ${where} ORDER BY ${this.orderBy(q)} LIMIT ${q.limit} OFFSET ${q.offset}`;
    const count = sql`${this.containing(json, 'owner, name')}SELECT count(*) AS n FROM m WHERE ${where}`;
    return this.filteredPage(q, page, count);
  }

  /**
   * A filtered page that is not full tells its own exact total (a metadata filter
   * usually matches a few rows): only a full page needs the COUNT.
   */
  private async filteredPage(
    q: PageQuery,
    page: RawBuilder<Row>,
    count: RawBuilder<unknown>,
  ): Promise<Page<T>> {
    const rows = await page.execute(this.ex());
    const short = rows.rows.length < q.limit && (rows.rows.length > 0 || q.offset === 0);
    const total = short
      ? q.offset + rows.rows.length
      : Number(((await count.execute(this.ex())).rows[0] as { n?: number | string } | undefined)?.n ?? 0);
    return { total, items: rows.rows.map((r) => this.toEntity(r)) };
  }

  /** Rows from the anchor on, in the listing's order (the anchor row included). */
  private fromAnchor(anchor: Anchor, q: PageQuery): RawBuilder<unknown> {
    const op = sql.raw(q.dir === 'asc' ? '>=' : '<=');
    return q.order === 'name'
      ? sql`(name, id) ${op} (${anchor.name}, ${anchor.id})`
      : sql`id ${op} ${anchor.id}`;
  }

  /** The sort key of rows 0, ANCHOR_EVERY, 2·ANCHOR_EVERY, … in one index-only pass. */
  private async loadAnchors(owner: string, q: PageQuery): Promise<Anchor[]> {
    const columns = sql.raw(q.order === 'name' ? 'id, name' : 'id');
    const rows = await sql<{ id: string; name?: string }>`SELECT ${columns} FROM (
        SELECT ${columns}, row_number() OVER (ORDER BY ${this.orderBy(q)}) AS rn FROM ${sql.raw(this.table)} WHERE owner = ${owner}
      ) s WHERE (rn - 1) % ${ANCHOR_EVERY} = 0 ORDER BY rn`.execute(this.ex());
    return rows.rows.map((r) => ({ id: r.id, name: r.name ?? '' }));
  }

  /**
   * The rows, with the columns of `columns` (metadata as stored: Db.parseJson reads it),
   * only the owner's and only those whose metadata contains `metadata` when given, as a
   * row source another domain's repository joins in a statement of its own (ARCHITECTURE.md,
   * "Who may touch what"): a page or a lookup that needs rows of both domains stays one
   * query. A plain subquery, which PostgreSQL and SQLite both fold into the statement
   * around it: the plans are those of a join with the table.
   */
  source(filter: { owner?: string; metadata?: Metadata } = {}): RawBuilder<unknown> {
    const where: RawBuilder<unknown>[] = [];
    if (filter.owner !== undefined) where.push(sql`owner = ${filter.owner}`);
    if (filter.metadata && Object.keys(filter.metadata).length > 0)
      where.push(containsSql(this.db.dialect, sql.raw('metadata'), filter.metadata));
    const columns = sql.raw(this.columns.join(', '));
    return where.length === 0
      ? sql`(SELECT ${columns} FROM ${sql.raw(this.table)})`
      : sql`(SELECT ${columns} FROM ${sql.raw(this.table)} WHERE ${sql.join(where, sql` AND `)})`;
  }

  async byId(owner: string, id: string): Promise<T | null> {
    const rows =
      await sql<Row>`SELECT ${this.select('e')} FROM ${sql.raw(this.table)} e WHERE e.id = ${id} AND e.owner = ${owner}`.execute(
        this.ex(),
      );
    return rows.rows[0] ? this.toEntity(rows.rows[0]) : null;
  }

  /**
   * Ids among `ids` that exist and belong to `owner`. In a transaction on PostgreSQL
   * the rows are locked to commit (KEY SHARE, in id order), so none is deleted between
   * this check and the writes that refer to it: a delete that came first has then
   * committed and its id is not among those returned.
   */
  async ownedIds(owner: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.ex()
      .selectFrom(this.table)
      .select('id')
      .where('owner', '=', owner)
      .where('id', 'in', ids)
      .$if(inUnitOfWork() && this.db.dialect === 'postgres', (q) => q.orderBy('id').forKeyShare())
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  async update(owner: string, id: string, name: string, metadata: Metadata): Promise<boolean> {
    this.ginPending().written();
    const result = await this.ex()
      .updateTable(this.table)
      .set({ name, metadata: this.db.json(metadata) })
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async remove(owner: string, id: string): Promise<T | null> {
    const rows =
      await sql<Row>`DELETE FROM ${sql.raw(this.table)} WHERE id = ${id} AND owner = ${owner} RETURNING ${sql.raw(this.columns.join(', '))}`.execute(
        this.ex(),
      );
    return rows.rows[0] ? this.toEntity(rows.rows[0]) : null;
  }

  /**
   * The owner's entities connected (or not) to one entity of the other kind. The
   * complement's total is the owner's total minus the connected count, so it stays
   * exact without an anti-join count.
   */
  protected async listByConnection(
    owner: string,
    q: PageQuery,
    connected: boolean,
    otherColumn: 'thing_id' | 'channel_id',
    otherId: string,
  ): Promise<Page<T>> {
    const ex = this.ex();
    const table = sql.raw(this.table);
    const other = sql.raw(otherColumn);
    const self = sql.raw(otherColumn === 'thing_id' ? 'channel_id' : 'thing_id');
    const connectedCount = sql<{
      n: number | string;
    }>`SELECT count(*) AS n FROM connections WHERE ${other} = ${otherId} AND owner = ${owner}`
      .execute(ex)
      .then((r) => Number(r.rows[0]?.n ?? 0));
    if (connected) {
      const page = sql<Row>`SELECT ${this.select('e')} FROM ${table} e JOIN connections c ON c.${self} = e.id
        WHERE c.${other} = ${otherId} AND c.owner = ${owner} AND e.owner = ${owner}
        ORDER BY ${this.orderBy(q, 'e')} LIMIT ${q.limit} OFFSET ${q.offset}`;
      const [rows, total] = await Promise.all([page.execute(ex), connectedCount]);
      return { total, items: rows.rows.map((r) => this.toEntity(r)) };
    }
    const page = sql<Row>`SELECT ${this.select('e')} FROM ${table} e
      WHERE e.owner = ${owner} AND NOT EXISTS (SELECT 1 FROM connections c WHERE c.${other} = ${otherId} AND c.${self} = e.id)
      ORDER BY ${this.orderBy(q, 'e')} LIMIT ${q.limit} OFFSET ${q.offset}`;
    const [rows, all, conn] = await Promise.all([page.execute(ex), this.ownerTotal(owner), connectedCount]);
    return { total: all - conn, items: rows.rows.map((r) => this.toEntity(r)) };
  }

  /** Inserts made outside a transaction at about the same time leave in one statement. */
  private inserts: WriteGroups<Record<string, unknown>, void, StoredEvent>;

  /**
   * All rows or none, with their audit events: one statement when they fit in one
   * (shared with other requests' rows when no transaction is open), else one
   * transaction. A key or id that another row has fails it: conflict.
   */
  protected insertRows(rows: Record<string, unknown>[], events: StoredEvent[]): Promise<void> {
    this.ginPending().written();
    const write =
      !inUnitOfWork() && rows.length < GROUP_BELOW
        ? this.inserts.submit(rows, events)
        : this.insertNow(rows, events);
    return onDuplicate(write, () => conflict());
  }

  private pendingFlush: GinPendingFlush | null = null;

  /** The merge of the metadata and name indexes' pending entries (see GinPendingFlush). */
  private ginPending(): GinPendingFlush {
    this.pendingFlush ??= new GinPendingFlush(this.db, [`${this.table}_metadata`, `${this.table}_name_trgm`]);
    return this.pendingFlush;
  }

  /**
   * On PostgreSQL rows that fit in one statement take their events into it (no
   * transaction to open: the statement is one); else the rows' statements and the
   * events are one transaction (or part of the caller's). On SQLite they are one
   * transaction run at once (Db.atOnce), or part of the unit of work that holds the
   * connection.
   */
  private async insertNow(given: Record<string, unknown>[], events: StoredEvent[]): Promise<void> {
    // Rows in one order everywhere (by key, the unique value a client chooses), so two
    // writes that share keys meet at the first shared one instead of each holding one
    // the other waits for: a deadlock on PostgreSQL.
    const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) => {
      const [x, y] = [String(a.key), String(b.key)];
      return x < y ? -1 : x > y ? 1 : 0;
    };
    const rows = 'key' in given[0]! ? [...given].sort(byKey) : given;
    const postgres = this.db.dialect === 'postgres';
    if (postgres && rows.length <= INSERT_CHUNK) return this.insertUnnest(rows, events);
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) chunks.push(rows.slice(i, i + INSERT_CHUNK));
    if (postgres) {
      await inTransaction(this.db, async () => {
        for (const chunk of chunks) await this.insertUnnest(chunk, []);
        this.events.buffer(events);
      });
      return;
    }
    const inserts = chunks.map((chunk) =>
      this.db.kysely
        .insertInto(this.table)
        .values(chunk as never)
        .compile(),
    );
    const done =
      !inUnitOfWork() &&
      this.db.atOnce?.((run) => {
        for (const insert of inserts) run(insert);
        if (events.length > 0) run(this.events.insertStatement(events).compile(this.db.kysely));
      });
    if (done) return;
    await inTransaction(this.db, async () => {
      for (const insert of inserts) await this.ex().executeQuery(insert);
      this.events.buffer(events);
    });
  }

  /**
   * PostgreSQL: rows as one array a column (`unnest`), so an insert of any size is one
   * statement text with five parameters, planned once per connection, instead of five
   * parameters a row for the query builder to assemble and the server to bind. The same
   * statement adds the rows to the owner's counters (the sharded `entity_counts` rows
   * that make totals exact without COUNT; see migration 0005). A thing whose key is
   * taken is left out (ON CONFLICT DO NOTHING: concurrent inserts of one key into its
   * exclusion constraint would otherwise deadlock) and then fails the whole statement
   * with a unique violation (`tethys_duplicate`, migration 0008), events and all.
   */
  private async insertUnnest(rows: Record<string, unknown>[], events: StoredEvent[]): Promise<void> {
    const columns = Object.keys(rows[0]!);
    const arrays = columns.map(
      (c) => sql`${rows.map((r) => r[c])}::${sql.raw(c === 'metadata' ? 'jsonb[]' : 'text[]')}`,
    );
    const onKeyTaken = sql.raw(
      this.table === 'things' ? 'ON CONFLICT ON CONSTRAINT things_key_unique DO NOTHING' : '',
    );
    await sql`WITH inserted AS (
        INSERT INTO ${sql.raw(this.table)} (${sql.raw(columns.join(', '))})
        SELECT * FROM unnest(${sql.join(arrays)}) ${onKeyTaken} RETURNING owner),
      counted AS (INSERT INTO entity_counts (owner, kind, shard, n, writes)
        SELECT owner, ${this.table}, pg_backend_pid() % 64, count(*), count(*) FROM inserted GROUP BY owner
      ON CONFLICT (owner, kind, shard)
        DO UPDATE SET n = entity_counts.n + EXCLUDED.n, writes = entity_counts.writes + EXCLUDED.writes)
      ${events.length > 0 ? sql`, audit AS (${this.events.insertStatement(events)})` : sql``}
      SELECT tethys_duplicate(${this.table}) FROM (SELECT count(*) AS n FROM inserted) i
        WHERE i.n < ${rows.length}`.execute(this.ex());
  }
}

export class ThingsRepository extends EntityRepository<Thing> {
  protected table = 'things' as const;
  protected columns = ['id', 'owner', 'name', 'key', 'metadata'];

  protected toEntity(row: Row): Thing {
    return {
      id: row.id,
      owner: row.owner,
      name: row.name,
      key: row.key ?? '',
      metadata: this.db.parseJson(row.metadata),
    };
  }

  /** `events`: the audit trail's, written with the rows (see insertRows). */
  async insert(things: Thing[], events: StoredEvent[]): Promise<void> {
    await this.insertRows(
      things.map((t) => ({
        id: t.id,
        owner: t.owner,
        name: t.name,
        key: t.key,
        metadata: this.db.json(t.metadata),
      })),
      events,
    );
  }

  /**
   * Run in a transaction. On PostgreSQL, changes that involve one key, as the new or the
   * old key, wait for each other (advisory locks on the keys' hashes, taken in order and
   * held to commit): two updates into the exclusion constraint at once that each meet
   * the other's row (one new key, or two things swapping keys) would each wait for the
   * other and deadlock, where one after the other the second sees the first's row and
   * fails with a violation. (A bulk create holding a thing's old and new key while it
   * changes still can: the error mapping answers that 409.)
   */
  async updateKey(owner: string, id: string, key: string): Promise<string | null> {
    if (this.db.dialect === 'postgres')
      await sql`SELECT pg_advisory_xact_lock(${LockClass.thingKey}, h) FROM (
          SELECT hashtext(${key}) AS h UNION SELECT hashtext(key) FROM things WHERE id = ${id} AND owner = ${owner}
        ) keys ORDER BY h`.execute(this.ex());
    const current = await this.byId(owner, id);
    if (!current) return null;
    await onDuplicate(
      this.ex().updateTable('things').set({ key }).where('id', '=', id).where('owner', '=', owner).execute(),
      () => conflict(),
    );
    return current.key;
  }

  /**
   * Thing ids by key, for the keys that exist: one prepared statement for any number of
   * keys (an array on PostgreSQL, a JSON list on SQLite). The cache misses of MQTT
   * CONNECTs and messages arrive here; straight to the driver, outside a transaction.
   */
  async idsByKeys(keys: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    const rows = inUnitOfWork()
      ? await this.ex().selectFrom('things').select(['id', 'key']).where('key', 'in', keys).execute()
      : this.db.dialect === 'postgres'
        ? await this.db.read<{ id: string; key: string }>(
            'SELECT id, key FROM things WHERE key = ANY($1::text[])',
            [keys],
          )
        : await this.db.read<{ id: string; key: string }>(
            'SELECT id, key FROM things WHERE key IN (SELECT value FROM json_each(?))',
            [JSON.stringify(keys)],
          );
    for (const r of rows) found.set(r.key, r.id);
    return found;
  }

  /**
   * In a transaction on PostgreSQL, locks the owner's thing row to commit (FOR NO KEY
   * UPDATE): another domain's changes to what belongs to the thing (a bootstrap config's
   * state and channels) so go one at a time, each after the one before committed, and
   * after a deletion of the thing that came first (which locks the row too). SQLite runs
   * one write transaction at a time: nothing to lock.
   */
  async lockOwned(owner: string, id: string): Promise<void> {
    if (this.db.dialect === 'postgres')
      await sql`SELECT 1 FROM things WHERE id = ${id} AND owner = ${owner} FOR NO KEY UPDATE`.execute(
        this.ex(),
      );
  }

  /** Whether the thing exists, whoever owns it. */
  async exists(id: string): Promise<boolean> {
    const row = await this.ex().selectFrom('things').select('id').where('id', '=', id).executeTakeFirst();
    return Boolean(row);
  }

  /** The owner's things connected (or, with `connected` false, not connected) to a channel. */
  async listByChannel(
    owner: string,
    channelId: string,
    q: PageQuery,
    connected: boolean,
  ): Promise<Page<Thing>> {
    return this.listByConnection(owner, q, connected, 'channel_id', channelId);
  }
}

export class ChannelsRepository extends EntityRepository<Channel> {
  protected table = 'channels' as const;
  protected columns = ['id', 'owner', 'name', 'metadata'];

  protected toEntity(row: Row): Channel {
    return { id: row.id, owner: row.owner, name: row.name, metadata: this.db.parseJson(row.metadata) };
  }

  /** `events`: the audit trail's, written with the rows (see insertRows). */
  async insert(channels: Channel[], events: StoredEvent[]): Promise<void> {
    await this.insertRows(
      channels.map((c) => ({ id: c.id, owner: c.owner, name: c.name, metadata: this.db.json(c.metadata) })),
      events,
    );
  }

  async listByThing(
    owner: string,
    thingId: string,
    q: PageQuery,
    connected: boolean,
  ): Promise<Page<Channel>> {
    return this.listByConnection(owner, q, connected, 'thing_id', thingId);
  }
}

/** A connection as an INSERT returns it. */
interface PairRow {
  channel_id: string;
  thing_id: string;
}

interface Pair {
  channelId: string;
  thingId: string;
  owner: string;
}

export class ConnectionsRepository {
  /** Single-pair connects made outside a transaction at about the same time share a statement. */
  private pairs: WriteGroups<Pair, Set<string>, StoredEvent>;

  constructor(
    private db: Db,
    /** The audit trail's events, written with the pairs that cause them. */
    private events: EventsRepository,
  ) {
    this.pairs = new WriteGroups(
      (pairs, events) => this.insertOwnedPairs(pairs, events),
      GROUP_STATEMENTS,
      1000,
      db.admission,
    );
  }

  /**
   * Inserts the pairs whose channel and thing both exist and belong to the pair's owner;
   * returns those it inserted as `channel thing`. A pair already connected fails the
   * statement with a unique violation. Pairs go in key order (as in `connectAll`), so
   * two statements sharing pairs meet at the first shared one instead of deadlocking.
   * The channel and thing rows are locked as they are read (PostgreSQL): one deleted
   * meanwhile is then left out (its pair answers as missing) instead of failing the
   * foreign key check.
   *
   * `events` are the pairs' `connection.create` events (the channel the entity, the thing
   * the related one); each is written when its pair is inserted. On PostgreSQL they are
   * part of the statement (kept by the pairs it returns), on SQLite of its transaction.
   */
  private async insertOwnedPairs(pairs: Pair[], events: StoredEvent[]): Promise<Set<string>> {
    const named = (rows: PairRow[]) => new Set(rows.map((r) => `${r.channel_id} ${r.thing_id}`));
    // The pairs are the WITH query `p`.
    const insert = (lock: string) => sql`INSERT INTO connections (channel_id, thing_id, owner)
      SELECT c.id, t.id, c.owner FROM p
        JOIN channels c ON c.id = p.channel_id AND c.owner = p.owner
        JOIN things t ON t.id = p.thing_id AND t.owner = p.owner
      ORDER BY c.id, t.id ${sql.raw(lock)}
      RETURNING channel_id, thing_id`;
    if (this.db.dialect === 'sqlite') {
      const list = sql`VALUES ${sql.join(pairs.map((p) => sql`(${p.channelId}, ${p.thingId}, ${p.owner})`))}`;
      const statement = sql<PairRow>`WITH p (channel_id, thing_id, owner) AS (${list}) ${insert('')}`;
      const kept = (added: Set<string>) => events.filter((e) => added.has(`${e.entityId} ${e.relatedId}`));
      // The pairs and the events of those inserted, in one transaction at once.
      const done = inUnitOfWork()
        ? undefined
        : this.db.atOnce?.((run) => {
            const added = named(run<PairRow>(statement.compile(this.db.kysely)));
            const theirs = kept(added);
            if (theirs.length > 0) run(this.events.insertStatement(theirs).compile(this.db.kysely));
            return added;
          });
      if (done) return done.value;
      return inTransaction(this.db, async () => {
        const added = named((await statement.execute(executor(this.db))).rows);
        this.events.buffer(kept(added));
        return added;
      });
    }
    const list = sql`SELECT * FROM unnest(${pairs.map((p) => p.channelId)}::text[], ${pairs.map((p) => p.thingId)}::text[], ${pairs.map((p) => p.owner)}::text[])`;
    const audit =
      events.length > 0
        ? sql`, audit AS (${this.events.insertStatement(
            events,
            sql`EXISTS (SELECT 1 FROM inserted i WHERE i.channel_id = e.entity_id AND i.thing_id = e.related_id)`,
          )})`
        : sql``;
    const rows = await sql<{
      channel_id: string;
      thing_id: string;
    }>`WITH p (channel_id, thing_id, owner) AS (${list}),
      inserted AS (${insert('FOR KEY SHARE OF c, t')}) ${audit}
      SELECT channel_id, thing_id FROM inserted`.execute(executor(this.db));
    return named(rows.rows);
  }

  /**
   * Connects every channel with every thing in one statement, which inserts either all
   * pairs or, when any id is missing or not the owner's, none (returns false then).
   * A pair that already exists fails the statement: conflict. `events` (the pairs'
   * audit events) are written when the pairs are, and commit with them.
   */
  async connectAll(
    owner: string,
    channelIds: string[],
    thingIds: string[],
    events: StoredEvent[],
  ): Promise<boolean> {
    return onDuplicate(this.connectAllNow(owner, channelIds, thingIds, events), () => conflict());
  }

  private async connectAllNow(
    owner: string,
    channelIds: string[],
    thingIds: string[],
    events: StoredEvent[],
  ): Promise<boolean> {
    if (channelIds.length === 1 && thingIds.length === 1 && !inUnitOfWork()) {
      // One pair (PUT connect): the join alone says whether both exist and are owned.
      const pair = { channelId: channelIds[0]!, thingId: thingIds[0]!, owner };
      return (await this.pairs.submit([pair], events)).has(`${pair.channelId} ${pair.thingId}`);
    }
    return inTransaction(this.db, async () => {
      const added = await this.connectAllStatement(owner, channelIds, thingIds);
      if (added) this.events.buffer(events);
      return added;
    });
  }

  private async connectAllStatement(
    owner: string,
    channelIds: string[],
    thingIds: string[],
  ): Promise<boolean> {
    if (channelIds.length === 1 && thingIds.length === 1) {
      const pair = { channelId: channelIds[0]!, thingId: thingIds[0]!, owner };
      return (await this.insertOwnedPairs([pair], [])).has(`${pair.channelId} ${pair.thingId}`);
    }
    const ids = (list: string[]) => sql.join(list.map((id) => sql`${id}`));
    const result = await sql`INSERT INTO connections (channel_id, thing_id, owner)
      SELECT c.id, t.id, ${owner} FROM channels c CROSS JOIN things t
      WHERE c.id IN (${ids(channelIds)}) AND c.owner = ${owner} AND t.id IN (${ids(thingIds)}) AND t.owner = ${owner}
        AND (SELECT count(*) FROM channels WHERE id IN (${ids(channelIds)}) AND owner = ${owner}) = ${channelIds.length}
        AND (SELECT count(*) FROM things WHERE id IN (${ids(thingIds)}) AND owner = ${owner}) = ${thingIds.length}
      ORDER BY c.id, t.id`.execute(executor(this.db));
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /**
   * Connects the pairs that are not connected yet; returns the channels it added. A pair
   * connected meanwhile by another request is left as it is (ON CONFLICT DO NOTHING),
   * in channel order like the other inserts of pairs.
   */
  async connectMissing(owner: string, channelIds: string[], thingId: string): Promise<string[]> {
    if (channelIds.length === 0) return [];
    const rows = await executor(this.db)
      .insertInto('connections')
      .values(
        [...channelIds].sort().map((channelId) => ({ channel_id: channelId, thing_id: thingId, owner })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('channel_id')
      .execute();
    return rows.map((r) => r.channel_id);
  }

  async insertPairs(owner: string, channelIds: string[], thingId: string): Promise<void> {
    if (channelIds.length === 0) return;
    await executor(this.db)
      .insertInto('connections')
      .values(channelIds.map((channelId) => ({ channel_id: channelId, thing_id: thingId, owner })))
      .execute();
  }

  async disconnect(owner: string, channelId: string, thingId: string): Promise<boolean> {
    const result = await executor(this.db)
      .deleteFrom('connections')
      .where('channel_id', '=', channelId)
      .where('thing_id', '=', thingId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async isConnected(channelId: string, thingId: string): Promise<boolean> {
    const row = await executor(this.db)
      .selectFrom('connections')
      .select('thing_id')
      .where('channel_id', '=', channelId)
      .where('thing_id', '=', thingId)
      .executeTakeFirst();
    return Boolean(row);
  }
}

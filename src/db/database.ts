import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  type CompiledQuery,
  Kysely,
  type SqliteDatabase as KyselySqliteDatabase,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { Lru } from '../lru.js';
import {
  Availability,
  databaseBusy,
  databaseUnavailable,
  isPostgresUnavailable,
  isSqliteUnavailable,
} from './errors.js';
import { jsonContains } from './json-contains.js';
import { migrate } from './migrations.js';
import type { Admission, Database, Db } from './schema.js';

function parseJson(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return value === '' ? {} : JSON.parse(value);
  return value as Record<string, unknown>;
}

/** SQLite's storage errors (a full disk, a read-only folder) become 503s. */
function guard(availability: Availability) {
  return <T>(work: () => T): T => {
    let result: T;
    try {
      result = work();
    } catch (err) {
      throw isSqliteUnavailable(err) ? availability.lost(err) : err;
    }
    availability.answered();
    return result;
  };
}

const NO_ROWS = { changes: 0, lastInsertRowid: 0 };

/** Write statements atOnce keeps prepared (their texts vary with their number of rows). */
const WRITE_STATEMENTS = 64;

/**
 * better-sqlite3 as kysely's SQLite dialect sees it, with storage errors translated. On
 * SQLITE_FULL and some I/O errors SQLite rolls the transaction back itself; kysely's
 * ROLLBACK after the failed statement then finds no transaction, and would replace the
 * storage error (a 503) by "no transaction is active" (a 500). It is skipped then.
 */
function guardedSqlite(
  native: SqliteDatabase.Database,
  guarded: ReturnType<typeof guard>,
): KyselySqliteDatabase {
  return {
    close: () => native.close(),
    prepare(text: string): SqliteStatement {
      if (!native.inTransaction && /^rollback$/i.test(text)) {
        return { reader: false, all: () => [], run: () => NO_ROWS, iterate: () => [][Symbol.iterator]() };
      }
      const statement = guarded(() => native.prepare(text));
      return {
        reader: statement.reader,
        all: (parameters) => guarded(() => statement.all(parameters)),
        run: (parameters) => guarded(() => statement.run(parameters)),
        iterate: (parameters) => guarded(() => statement.iterate(parameters)),
      };
    },
  };
}

function openSqlite(dataDir: string, availability: Availability, admission: Admission): Db {
  const guarded = guard(availability);
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'tethys.db');
  const native = new SqliteDatabase(file);
  native.pragma('journal_mode = WAL');
  // WAL + NORMAL keeps every commit durable against a process crash; only an OS crash
  // can lose the last transactions. That is SQLite's recommended setting for WAL.
  native.pragma('synchronous = NORMAL');
  native.pragma('foreign_keys = ON');
  native.pragma('busy_timeout = 5000');
  // SQLite's own page cache (KiB; the OS caches the file as well): bounded, and part of
  // the server's RSS, which stays under 300 MB with 1M things and 10,000 MQTT sessions.
  native.pragma('cache_size = -32768');
  native.pragma('temp_store = MEMORY');
  native.function('tethys_json_contains', { deterministic: true }, (stored, filter) =>
    jsonContains(parseJson(stored), JSON.parse(String(filter))) ? 1 : 0,
  );
  const kysely = new Kysely<Database>({
    dialect: new SqliteDialect({ database: guardedSqlite(native, guarded) }),
  });
  // The hot-path statements are a handful of fixed texts: each prepared once.
  const prepared = new Map<string, SqliteDatabase.Statement>();
  // The texts of atOnce's writes vary with their number of rows: the recent ones kept.
  const writes = new Lru<string, SqliteDatabase.Statement>(WRITE_STATEMENTS);
  const run = <R>(query: CompiledQuery): R[] => {
    let statement = writes.get(query.sql);
    if (!statement) {
      statement = native.prepare(query.sql);
      writes.set(query.sql, statement);
    }
    const values = query.parameters as unknown[];
    if (statement.reader) return statement.all(...values) as R[];
    statement.run(...values);
    return [];
  };
  return {
    kysely,
    dialect: 'sqlite',
    admission,
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
    read: async <R>(text: string, values: unknown[]) =>
      guarded(() => {
        let statement = prepared.get(text);
        if (!statement) {
          statement = native.prepare(text);
          prepared.set(text, statement);
        }
        return statement.all(...values) as R[];
      }),
    atOnce: (work) => {
      if (native.inTransaction) return undefined;
      return guarded(() => ({ value: native.transaction(() => work(run))() }));
    },
    ping: async () => {
      guarded(() => native.prepare('SELECT 1').get());
    },
    close: async () => {
      await kysely.destroy();
    },
  };
}

/**
 * In a statement's text, marks it to be planned for its values at every execution: a
 * metadata containment or a name pattern, whose best plan depends on how many rows the
 * value matches. Prepared by name, PostgreSQL switches to a generic plan after five
 * executions when that plan's estimate looks cheaper; for `owner = $1 AND metadata @>
 * $2 ORDER BY name LIMIT 10` at a million rows it picked walking the owner's name index
 * (1.3 s) over the GIN lookup (1 ms).
 */
export const PLAN_EACH_TIME = '/* tethys:plan-each-time */';

/** Distinct statements a process prepares by name; later new texts run unnamed. */
const NAMED_STATEMENTS_MAX = 400;

/**
 * Gives each distinct parameterised SQL text a statement name, so every pooled
 * connection parses and plans it once and then only binds and executes (PostgreSQL's
 * plan cache; `plan_cache_mode` decides generic vs custom plans as usual). Without a
 * name, node-postgres sends an unnamed statement and the server parses and plans every
 * execution: for the short indexed statements on the hot paths that is most of the
 * server's CPU. The set is bounded: texts whose shape varies (a bulk insert of n rows)
 * stop getting names once NAMED_STATEMENTS_MAX texts have one.
 */
export class StatementNames {
  private names = new Map<string, string>();

  constructor(private max = NAMED_STATEMENTS_MAX) {}

  nameOf(text: string): string | undefined {
    const known = this.names.get(text);
    if (known !== undefined || this.names.size >= this.max) return known;
    const name = `tethys_${this.names.size}`;
    this.names.set(text, name);
    return name;
  }
}

export interface DatabaseLimits {
  poolSize: number;
  /** Milliseconds to open a connection, or to wait for a pooled one (then 503). */
  connectTimeoutMs: number;
  /** Milliseconds a statement may take before its connection is given up (then 503). */
  queryTimeoutMs: number;
  /** Requests that may wait for a pooled connection; more are answered 503 at once. */
  queueMax: number;
}

/**
 * The pool as kysely sees it, with everything a database outage does handled here:
 *
 * - node-postgres emits 'error' on a client whose server connection breaks, also while
 *   kysely holds it (in a transaction, between two statements); unhandled, that event
 *   ends the process. Each client handed out listens for it, and a client that erred,
 *   timed out or lost its connection is destroyed on release instead of pooled.
 * - Errors that mean the database and not the statement failed become a DomainError
 *   'unavailable' (503 with Retry-After): a refused or broken connection, a timeout, a
 *   server shutting down or starting, a standby after a failover.
 * - Requests wait for a connection at most `connectTimeoutMs` (pg-pool's connection
 *   timeout covers waiting and connecting), and no more than `queueMax` wait at all:
 *   under overload, the rest get a quick 503 instead of queueing into client timeouts.
 *
 * It also names statements (see StatementNames).
 */
function resilientPool(
  pool: pg.Pool,
  names: StatementNames,
  queueMax: number,
  availability: Availability,
): PostgresPool {
  const answered = <R>(result: R): R => {
    availability.answered();
    return result;
  };
  return {
    async connect() {
      if (pool.waitingCount >= queueMax) throw databaseBusy();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw translatePostgres(err, availability);
      }
      let broken: unknown = null;
      const onError = (err: unknown) => {
        broken = err;
      };
      client.on('error', onError);
      const fail = (err: unknown): never => {
        if (isPostgresUnavailable(err)) {
          broken = err;
          throw availability.lost(err);
        }
        throw err;
      };
      return {
        query(text: unknown, values?: readonly unknown[]) {
          if (broken) return Promise.reject(databaseUnavailable(broken));
          if (typeof text !== 'string') return client.query(text as never); // a cursor
          const name =
            values && values.length > 0 && !text.includes(PLAN_EACH_TIME) ? names.nameOf(text) : undefined;
          return client.query({ name, text, values: values ? [...values] : [] }).then(answered, fail);
        },
        release: (destroy?: boolean) => {
          client.off('error', onError);
          client.release(destroy || broken ? true : undefined);
        },
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

function translatePostgres(err: unknown, availability: Availability): unknown {
  return isPostgresUnavailable(err) ? availability.lost(err) : err;
}

function openPostgres(url: string, limits: DatabaseLimits, availability: Availability): Db {
  const raw = new pg.Pool({
    connectionString: url,
    max: limits.poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    query_timeout: limits.queryTimeoutMs,
    // A server that vanished without closing its connections (a host down, a network
    // partition) is noticed by TCP keep-alive, not only by the next statement's timeout.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle client losing its server connection: the pool drops it; nothing to do here.
  raw.on('error', () => {});
  const names = new StatementNames();
  const pool = resilientPool(raw, names, limits.queueMax, availability);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    admission: { maxWaiting: limits.queueMax, maxWaitMs: limits.connectTimeoutMs },
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
    read: async <R>(text: string, values: unknown[]) => {
      if (raw.waitingCount >= limits.queueMax) throw databaseBusy();
      try {
        // pg-pool's query listens for the client's errors and destroys a client that erred.
        const result = await raw.query({ name: names.nameOf(text), text, values });
        availability.answered();
        return result.rows as R[];
      } catch (err) {
        throw translatePostgres(err, availability);
      }
    },
    ping: async () => {
      await sql`SELECT 1`.execute(kysely);
    },
    close: async () => {
      await kysely.destroy();
    },
  };
}

/**
 * Migrations run on a connection of their own, without the statement timeout: building
 * an index over a million rows takes longer than any request may.
 */
async function migratePostgres(url: string, connectTimeoutMs: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: connectTimeoutMs });
  pool.on('error', () => {});
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(kysely, 'postgres');
  } finally {
    await kysely.destroy();
  }
}

export interface DbOptions {
  url: string;
  dataDir: string;
  limits: DatabaseLimits;
  /** Where an outage's start and end are told. */
  logger?: Logger;
}

export async function openDatabase(options: DbOptions): Promise<Db> {
  const availability = new Availability(options.logger);
  if (!options.url) {
    const db = openSqlite(options.dataDir, availability, {
      maxWaiting: options.limits.queueMax,
      maxWaitMs: options.limits.connectTimeoutMs,
    });
    await migrate(db.kysely, 'sqlite');
    return db;
  }
  await migratePostgres(options.url, options.limits.connectTimeoutMs);
  return openPostgres(options.url, options.limits, availability);
}

import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import { jsonContains } from './json-contains.js';
import { migrate } from './migrations.js';
import type { Database, Db } from './schema.js';

export interface DbOptions {
  url: string;
  dataDir: string;
  poolSize: number;
}

function parseJson(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return value === '' ? {} : JSON.parse(value);
  return value as Record<string, unknown>;
}

function openSqlite(dataDir: string): Db {
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
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) });
  // The hot-path statements are a handful of fixed texts: each prepared once.
  const prepared = new Map<string, SqliteDatabase.Statement>();
  return {
    kysely,
    dialect: 'sqlite',
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
    read: async <R>(text: string, values: unknown[]) => {
      let statement = prepared.get(text);
      if (!statement) {
        statement = native.prepare(text);
        prepared.set(text, statement);
      }
      return statement.all(...values) as R[];
    },
    ping: async () => {
      native.prepare('SELECT 1').get();
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

function namingPool(pool: pg.Pool, names: StatementNames): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      return {
        query(text: unknown, values?: readonly unknown[]) {
          if (typeof text !== 'string') return client.query(text as never); // a cursor
          const name =
            values && values.length > 0 && !text.includes(PLAN_EACH_TIME) ? names.nameOf(text) : undefined;
          return client.query({ name, text, values: values ? [...values] : [] });
        },
        release: (destroy?: boolean) => client.release(destroy),
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

function openPostgres(url: string, poolSize: number): Db {
  const raw = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle client losing its server connection must not take the process down.
  raw.on('error', () => {});
  const names = new StatementNames();
  const pool = namingPool(raw, names);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
    read: async <R>(text: string, values: unknown[]) => {
      const result = await raw.query({ name: names.nameOf(text), text, values });
      return result.rows as R[];
    },
    ping: async () => {
      await sql`SELECT 1`.execute(kysely);
    },
    close: async () => {
      await kysely.destroy();
    },
  };
}

export async function openDatabase(options: DbOptions): Promise<Db> {
  const db = options.url ? openPostgres(options.url, options.poolSize) : openSqlite(options.dataDir);
  await migrate(db);
  return db;
}

import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
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
  native.pragma('cache_size = -65536');
  native.pragma('temp_store = MEMORY');
  native.function('tethys_json_contains', { deterministic: true }, (stored, filter) =>
    jsonContains(parseJson(stored), JSON.parse(String(filter))) ? 1 : 0,
  );
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) });
  return {
    kysely,
    dialect: 'sqlite',
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
    ping: async () => {
      native.prepare('SELECT 1').get();
    },
    close: async () => {
      await kysely.destroy();
    },
  };
}

function openPostgres(url: string, poolSize: number): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle client losing its server connection must not take the process down.
  pool.on('error', () => {});
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    json: (v) => JSON.stringify(v ?? {}),
    parseJson,
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

import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { defaultPoolSize } from '../src/config.js';
import type { DatabaseKind } from './config.js';

/** The database a server runs on: its URL for TETHYS_DB_URL (empty: SQLite) and what it is. */
export interface BenchDatabase {
  kind: DatabaseKind;
  url: string;
  version: string;
  settings: string;
  /**
   * Waits until the database's own background maintenance has caught up with the
   * seeding (PostgreSQL: autovacuum has analyzed and vacuumed `things`), so the
   * scenarios measure the steady state, not the minute after a bulk import. Says what
   * it waited for (empty: nothing).
   */
  settle(insertedAtLeast: number): Promise<string>;
  stop(): void;
}

interface Cluster {
  url: string;
  stop(): void;
}

/** scripts/pg-cluster.mjs, loaded by URL so the type checker does not need its types. */
async function loadClusterScript(): Promise<{
  startCluster(options?: { settings?: string[] }): Promise<Cluster | null>;
}> {
  const href: string = new URL('../scripts/pg-cluster.mjs', import.meta.url).href;
  return import(href);
}

let running: Cluster | null = null;

/** Stops a throwaway cluster still running; synchronous, for exit paths. */
export function stopDatabasesNow(): void {
  const cluster = running;
  running = null;
  try {
    cluster?.stop();
  } catch {}
}

/** Longest wait for autovacuum after a seeding step. */
const SETTLE_MAX_MS = 180_000;

/**
 * Polls the statistics until autovacuum has nothing pending on `things` by its own
 * default thresholds (analyze: 50 + 10 % of the rows changed; vacuum after inserts:
 * 1000 + 20 %). Stale statistics make the planner misjudge the owner filter (it
 * expects ~100 rows per owner and scans them all for a metadata filter); an unvacuumed
 * table defeats index-only scans.
 */
async function settlePostgres(url: string, insertedAtLeast: number): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = Date.now();
  try {
    for (;;) {
      const { rows } = await client.query(
        `SELECT s.n_live_tup::bigint AS live, s.n_mod_since_analyze::bigint AS mods, s.n_ins_since_vacuum::bigint AS ins, s.n_tup_ins::bigint AS inserted,
                greatest(c.reltuples, 0)::bigint AS reltuples, s.autoanalyze_count::int AS analyzes, s.autovacuum_count::int AS vacuums
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'things'`,
      );
      const r = rows[0] as Record<string, string> | undefined;
      if (!r) return 'no statistics for things';
      const reltuples = Number(r.reltuples);
      const analyzePending = Number(r.mods) > 50 + 0.1 * reltuples;
      const vacuumPending = Number(r.ins) > 1000 + 0.2 * reltuples;
      const waited = Math.round((Date.now() - started) / 1000);
      const state = `${r.analyzes} autoanalyze and ${r.vacuums} autovacuum runs on things so far`;
      // Backends report their inserts with a delay; until they have, the counters lie.
      const reported = Number(r.inserted) >= insertedAtLeast;
      if (reported && !analyzePending && !vacuumPending)
        return `autovacuum caught up after ${waited} s (${state})`;
      if (Date.now() - started > SETTLE_MAX_MS) {
        const pending = [
          reported ? '' : 'insert statistics',
          analyzePending ? 'analyze' : '',
          vacuumPending ? 'vacuum' : '',
        ]
          .filter(Boolean)
          .join(', ');
        return `autovacuum had not caught up after ${waited} s (pending: ${pending}; ${state}): measured anyway`;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function startPostgres(): Promise<BenchDatabase> {
  const { startCluster } = await loadClusterScript();
  // Default settings (fsync on): what a fresh installation does.
  const cluster = await startCluster();
  if (!cluster)
    throw new Error(
      'PostgreSQL binaries (initdb, pg_ctl) not found: install postgresql, set TETHYS_PG_BIN, or run BENCH_DB=sqlite',
    );
  running = cluster;
  const client = new pg.Client({ connectionString: cluster.url });
  try {
    await client.connect();
    const show = async (name: string) => (await client.query(`SHOW ${name}`)).rows[0][name] as string;
    const version = await show('server_version');
    const names = ['fsync', 'synchronous_commit', 'shared_buffers', 'work_mem', 'max_wal_size'];
    const values: string[] = [];
    for (const n of names) values.push(`${n}=${await show(n)}`);
    const settings = values.join(', ');
    return {
      kind: 'postgres',
      url: cluster.url,
      version,
      settings: `throwaway cluster (scripts/pg-cluster.mjs), defaults: ${settings}; server pool TETHYS_DB_POOL_SIZE=${process.env.TETHYS_DB_POOL_SIZE || `${defaultPoolSize()} (the default)`}`,
      settle: (insertedAtLeast) => settlePostgres(cluster.url, insertedAtLeast),
      stop: () => {
        if (running === cluster) running = null;
        cluster.stop();
      },
    };
  } catch (err) {
    stopDatabasesNow();
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

function sqlite(): BenchDatabase {
  const probe = new SqliteDatabase(':memory:');
  const { v } = probe.prepare('SELECT sqlite_version() AS v').get() as { v: string };
  probe.close();
  return {
    kind: 'sqlite',
    url: '',
    version: v,
    settings: 'one file in the temporary data folder, as the server opens it (WAL, synchronous=NORMAL)',
    settle: async () => '',
    stop: () => {},
  };
}

export async function startDatabase(kind: DatabaseKind): Promise<BenchDatabase> {
  return kind === 'postgres' ? startPostgres() : sqlite();
}

import type { CompiledQuery, Kysely } from 'kysely';

/** One type for the whole database; repositories are typed against it. */
export interface UsersTable {
  id: string;
  email: string;
  password: string;
  /** JSON object: jsonb on PostgreSQL, text on SQLite (repositories convert). */
  metadata: unknown;
  created_at: string;
}

export interface KeysTable {
  id: string;
  type: number;
  issuer_id: string;
  subject: string;
  issued_at: string;
  expires_at: string | null;
}

export interface ThingsTable {
  id: string;
  owner: string;
  name: string;
  key: string;
  metadata: unknown;
}

export interface ChannelsTable {
  id: string;
  owner: string;
  name: string;
  metadata: unknown;
}

export interface ConnectionsTable {
  channel_id: string;
  thing_id: string;
  owner: string;
}

/** Exact per-owner totals, maintained by triggers, so a page never counts 1M rows. */
export interface EntityCountsTable {
  owner: string;
  kind: string;
  shard: number;
  n: number | string;
  /** Inserts, deletes and renames so far: a change tells cached page anchors are stale. */
  writes: number | string;
}

export interface Database {
  users: UsersTable;
  keys: KeysTable;
  things: ThingsTable;
  channels: ChannelsTable;
  connections: ConnectionsTable;
  entity_counts: EntityCountsTable;
}

export type Dialect = 'sqlite' | 'postgres';

export interface Admission {
  maxWaiting: number;
  maxWaitMs: number;
}

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** JSON value as a query parameter for a metadata column of this dialect. */
  json(value: unknown): unknown;
  /** A metadata column value read back from this dialect. */
  parseJson(value: unknown): Record<string, unknown>;
  /**
   * Rows of one read-only statement sent straight to the driver, prepared once (no
   * query builder): for the lookups on the hot paths. The text is the dialect's own
   * (`$1` on PostgreSQL, `?` on SQLite). It runs outside any transaction: repositories
   * use it only when no unit of work is open.
   */
  read<R>(text: string, values: unknown[]): Promise<R[]>;
  /**
   * SQLite only: runs `work` as one transaction at once. Its statements (compiled
   * queries; `run` answers a statement's rows) run synchronously, so no other request's
   * statement can come between them, and the transaction needs none of kysely's (a lock
   * on the connection, an await a statement). Undefined while a unit of work holds the
   * connection's transaction: the caller then writes in one (inTransaction). A failing
   * statement rolls it all back and throws.
   */
  atOnce?<T>(work: (run: <R>(query: CompiledQuery) => R[]) => T): { value: T } | undefined;
  /**
   * How many requests may wait for the database in this process's own queues (grouped
   * writes, batched lookups) and for how long, before they are answered 503 at once
   * instead of queueing into their clients' timeouts.
   */
  admission: Admission;
  ping(): Promise<void>;
  close(): Promise<void>;
}

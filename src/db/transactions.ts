import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Db } from './schema.js';

/**
 * One transaction per unit of work, carried by async context: repositories ask for the
 * current executor, so services compose (provisioning runs several services' writes in
 * one transaction) without passing a transaction object through every call.
 */
interface UnitOfWork {
  trx: Transaction<Database>;
  /** Runs once the transaction has committed; dropped when it rolls back. */
  afterCommit: (() => Promise<void>)[];
  /**
   * What services gathered during the work, written as the work's last statements,
   * inside the transaction (the audit trail's events: see `unitBuffer`).
   */
  buffers: Map<symbol, { items: unknown[]; write: (items: unknown[]) => Promise<void> }>;
}

const current = new AsyncLocalStorage<UnitOfWork>();

export type Executor = Kysely<Database> | Transaction<Database>;

export function executor(db: Db): Executor {
  return current.getStore()?.trx ?? db.kysely;
}

/** True inside inTransaction's work. */
export function inUnitOfWork(): boolean {
  return current.getStore() !== undefined;
}

export async function inTransaction<T>(db: Db, work: () => Promise<T>): Promise<T> {
  if (current.getStore()) return work();
  const afterCommit: (() => Promise<void>)[] = [];
  const buffers: UnitOfWork['buffers'] = new Map();
  const result = await db.kysely.transaction().execute((trx) =>
    current.run({ trx, afterCommit, buffers }, async () => {
      const value = await work();
      for (const buffer of buffers.values()) if (buffer.items.length > 0) await buffer.write(buffer.items);
      return value;
    }),
  );
  for (const fn of afterCommit) await fn();
  return result;
}

/**
 * Adds items to the current unit of work's buffer named `name`; once the work is done,
 * still inside its transaction, `write` gets all of them at once (one statement for a
 * request's events however many writes it made). Returns false when there is no unit
 * of work: the caller must not then pretend the items were written with a change.
 */
export function unitBuffer<T>(name: symbol, items: T[], write: (items: T[]) => Promise<void>): boolean {
  const unit = current.getStore();
  if (!unit) return false;
  const buffer = unit.buffers.get(name);
  if (buffer) for (const item of items) buffer.items.push(item);
  else unit.buffers.set(name, { items: [...items], write: write as (items: unknown[]) => Promise<void> });
  return true;
}

/** Runs `fn` when the current transaction commits, or now when there is none. */
export function afterCommit(fn: () => Promise<void>): Promise<void> {
  const unit = current.getStore();
  if (!unit) return fn();
  unit.afterCommit.push(fn);
  return Promise.resolve();
}

/**
 * The classes of PostgreSQL advisory locks (`pg_advisory_xact_lock(class, hashtext(…))`),
 * one per kind of value whose writers must go one at a time; kept here so no two share one.
 */
export const LockClass = {
  /** A thing key, new or old, while a key changes (ThingsRepository.updateKey). */
  thingKey: 0x7e70001,
  /** A group, while members are assigned to it (GroupsRepository.assign). */
  groupMembers: 0x7e70002,
} as const;

/**
 * A repository's write whose unique violation (a value another row has) becomes its
 * domain's error: services see `conflict(...)`, never a driver's error code.
 */
export async function onDuplicate<T>(write: Promise<T>, error: () => Error): Promise<T> {
  try {
    return await write;
  } catch (err) {
    throw isUniqueViolation(err) ? error() : err;
  }
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return (
    e?.code === '23505' ||
    e?.code === '23P01' || // an exclusion constraint: the hash-indexed unique columns (migration 0006)
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * A write that lost to a concurrent request on PostgreSQL: a deadlock (40P01) or a
 * serialization failure (40001) between requests, or a row referenced by this write
 * removed by another meanwhile (23503: an id checked a moment before, then deleted).
 * The error mapping answers it 409 (retrying sees the new state); everything that can
 * be ordered or locked so that it cannot happen is (see the repositories). Reading 23503
 * so holds while every write of a client-given reference checks it first (ownedIds and
 * the joins of connects do): the violation can then only come from a delete meanwhile.
 */
export function isConcurrentChange(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === '40P01' || code === '40001' || code === '23503';
}

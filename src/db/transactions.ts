import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Db } from './schema.js';

/**
 * One transaction per unit of work, carried by async context: repositories ask for the
 * current executor, so services compose (provisioning runs several services' writes in
 * one transaction) without passing a transaction object through every call.
 */
const current = new AsyncLocalStorage<Transaction<Database>>();

export type Executor = Kysely<Database> | Transaction<Database>;

export function executor(db: Db): Executor {
  return current.getStore() ?? db.kysely;
}

export async function inTransaction<T>(db: Db, work: () => Promise<T>): Promise<T> {
  if (current.getStore()) return work();
  return db.kysely.transaction().execute((trx) => current.run(trx, work));
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

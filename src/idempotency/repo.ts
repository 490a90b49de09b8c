import type { Kysely } from 'kysely';
import type { Db } from '../db/schema.js';
import { executor } from '../db/transactions.js';
import type { Answer, Claim, KeyRecord } from './types.js';

interface IdempotencyKeysTable {
  scope: string;
  key: string;
  fingerprint: string;
  claim: string;
  state: 'running' | 'done';
  status: number | null;
  /** JSON text: the answer's headers that a replay repeats. */
  headers: string | null;
  body: Buffer | Uint8Array | null;
  created_at: string;
  expires_at: string;
}

/** The table this repository owns. */
interface IdempotencySchema {
  idempotency_keys: IdempotencyKeysTable;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * SQL for idempotency keys. Every statement stands alone (no transaction): a key is
 * claimed before the request's own work begins and settled after it ended.
 */
export class IdempotencyRepository {
  constructor(private db: Db) {}

  private ex(): Kysely<IdempotencySchema> {
    return executor(this.db) as unknown as Kysely<IdempotencySchema>;
  }

  /**
   * Records a running execution for the key, unless a row holds the key and has not
   * expired: one statement, so of concurrent claims exactly one wins. True when this
   * claim won (a new row, or an expired one taken over).
   */
  async claim(claim: Claim, fingerprint: string, leaseEnds: number): Promise<boolean> {
    const row = {
      fingerprint,
      claim: claim.id,
      state: 'running' as const,
      status: null,
      headers: null,
      body: null,
      created_at: iso(claim.createdAt),
      expires_at: iso(leaseEnds),
    };
    const result = await this.ex()
      .insertInto('idempotency_keys')
      .values({ scope: claim.scope, key: claim.key, ...row })
      .onConflict((oc) =>
        oc
          .columns(['scope', 'key'])
          .doUpdateSet(row)
          .where('idempotency_keys.expires_at', '<=', iso(claim.createdAt)),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async find(scope: string, key: string): Promise<KeyRecord | null> {
    const row = await this.ex()
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'state', 'status', 'headers', 'body', 'expires_at'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return null;
    const expiresAt = Date.parse(row.expires_at);
    if (row.state !== 'done') return { fingerprint: row.fingerprint, expiresAt, answer: null };
    return {
      fingerprint: row.fingerprint,
      expiresAt,
      answer: {
        status: row.status ?? 0,
        headers: JSON.parse(row.headers ?? '{}'),
        body: row.body ? Buffer.from(row.body) : Buffer.alloc(0),
      },
    };
  }

  /** Keeps the answer of the claimed execution until `expiresAt`; false when the claim was lost. */
  async complete(claim: Claim, answer: Answer, expiresAt: number): Promise<boolean> {
    const result = await this.ex()
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        status: answer.status,
        headers: JSON.stringify(answer.headers),
        body: answer.body,
        expires_at: iso(expiresAt),
      })
      .where('scope', '=', claim.scope)
      .where('key', '=', claim.key)
      .where('claim', '=', claim.id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Forgets the claimed execution: the key is free again. */
  async release(claim: Claim): Promise<void> {
    await this.ex()
      .deleteFrom('idempotency_keys')
      .where('scope', '=', claim.scope)
      .where('key', '=', claim.key)
      .where('claim', '=', claim.id)
      .execute();
  }

  /** Deletes at most `limit` rows expired at `now`; returns how many. */
  async prune(now: number, limit: number): Promise<number> {
    const ex = this.ex();
    const result = await ex
      .deleteFrom('idempotency_keys')
      .where((eb) =>
        eb(
          eb.refTuple('scope', 'key'),
          'in',
          ex
            .selectFrom('idempotency_keys')
            .select(['scope', 'key'])
            .where('expires_at', '<=', iso(now))
            .limit(limit)
            .$asTuple('scope', 'key'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

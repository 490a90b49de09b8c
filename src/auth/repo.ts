import type { Db } from '../db/schema.js';
import { executor } from '../db/transactions.js';
import type { ApiKey } from './types.js';

const hasNul = (...values: string[]) => values.some((v) => v.includes('\u0000'));

export class KeysRepository {
  constructor(private db: Db) {}

  async save(key: ApiKey): Promise<void> {
    await executor(this.db)
      .insertInto('keys')
      .values({
        id: key.id,
        type: key.type,
        issuer_id: key.issuerId,
        subject: key.subject,
        issued_at: key.issuedAt.toISOString(),
        expires_at: key.expiresAt ? key.expiresAt.toISOString() : null,
      })
      .execute();
  }

  async retrieve(issuerId: string, id: string): Promise<ApiKey | null> {
    // PostgreSQL refuses a NUL in text; no stored key has one.
    if (hasNul(issuerId, id)) return null;
    const row = await executor(this.db)
      .selectFrom('keys')
      .selectAll()
      .where('id', '=', id)
      .where('issuer_id', '=', issuerId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      type: Number(row.type),
      issuerId: row.issuer_id,
      subject: row.subject,
      issuedAt: new Date(row.issued_at),
      expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    };
  }

  /** Whether there was one to remove. */
  async remove(issuerId: string, id: string): Promise<boolean> {
    if (hasNul(issuerId, id)) return false;
    const result = await executor(this.db)
      .deleteFrom('keys')
      .where('id', '=', id)
      .where('issuer_id', '=', issuerId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

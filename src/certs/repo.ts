import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { executor } from '../db/transactions.js';
import type { ThingsRepository } from '../things/repo.js';
import type { RevokedEntry } from './crl.js';
import type { CertRecord } from './types.js';

interface CertsTable {
  serial: string;
  thing_id: string;
  owner: string;
  key_type: string;
  expires_at: string;
  revoked_at: string | null;
  created_at: string;
}

/** The table this repository owns. */
interface CertsSchema {
  certs: CertsTable;
}

const iso = (d: Date) => d.toISOString();

function toRecord(row: CertsTable): CertRecord {
  return {
    thingId: row.thing_id,
    owner: row.owner,
    serial: row.serial,
    keyType: row.key_type,
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    createdAt: new Date(row.created_at),
  };
}

/** A page of the records `base` selects, soonest expiry first, and how many it selects. */
async function soonestFirst(
  base: SelectQueryBuilder<CertsSchema, 'certs', object>,
  offset: number,
  limit: number,
): Promise<{ total: number; items: CertRecord[] }> {
  const [count, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
    base
      .selectAll()
      .orderBy('expires_at', 'asc')
      .orderBy('serial', 'asc')
      .offset(offset)
      .limit(limit)
      .execute(),
  ]);
  return { total: Number(count?.n ?? 0), items: rows.map(toRecord) };
}

/**
 * SQL for certificate records. Every statement runs on the current transaction when
 * one is open (provisioning issues certificates inside its own). Things are read
 * through the things repository's row source (`orphans`).
 */
export class CertsRepository {
  constructor(
    private db: Db,
    private things: Pick<ThingsRepository, 'source'>,
  ) {}

  private ex(): Kysely<CertsSchema> {
    return executor(this.db) as unknown as Kysely<CertsSchema>;
  }

  async insert(record: CertRecord): Promise<void> {
    await this.ex()
      .insertInto('certs')
      .values({
        serial: record.serial,
        thing_id: record.thingId,
        owner: record.owner,
        key_type: record.keyType,
        expires_at: iso(record.expiresAt),
        revoked_at: record.revokedAt ? iso(record.revokedAt) : null,
        created_at: iso(record.createdAt),
      })
      .execute();
  }

  /** A thing's records, soonest expiry first. */
  async list(
    owner: string,
    thingId: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: CertRecord[] }> {
    const base = this.ex().selectFrom('certs').where('thing_id', '=', thingId).where('owner', '=', owner);
    return soonestFirst(base, offset, limit);
  }

  async bySerial(serial: string): Promise<CertRecord | null> {
    const row = await this.ex()
      .selectFrom('certs')
      .selectAll()
      .where('serial', '=', serial)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** Serials of a thing's certificates that are neither revoked nor expired. */
  async activeSerials(thingId: string, now: Date): Promise<string[]> {
    const rows = await this.ex()
      .selectFrom('certs')
      .select('serial')
      .where('thing_id', '=', thingId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', iso(now))
      .orderBy('expires_at', 'asc')
      .execute();
    return rows.map((r) => r.serial);
  }

  /** Marks a record revoked; false when there is none, or it already was. */
  async markRevoked(serial: string, at: Date): Promise<boolean> {
    const result = await this.ex()
      .updateTable('certs')
      .set({ revoked_at: iso(at) })
      .where('serial', '=', serial)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Valid certificates whose thing is gone (a revocation that failed, or a crash in between). */
  async orphans(now: Date): Promise<string[]> {
    const rows = await this.ex()
      .selectFrom('certs as c')
      .select('c.serial')
      .where('c.revoked_at', 'is', null)
      .where('c.expires_at', '>', iso(now))
      .where(sql<boolean>`NOT EXISTS (SELECT 1 FROM ${this.things.source()} t WHERE t.id = c.thing_id)`)
      .execute();
    return rows.map((r) => r.serial);
  }

  /**
   * Records neither revoked nor expired at `now` that expire by `until` (null: any time),
   * soonest first: the owner's, or everyone's (owner null). Index certs_expiry (0012).
   */
  async expiring(
    owner: string | null,
    now: Date,
    until: Date | null,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: CertRecord[] }> {
    let base = this.ex()
      .selectFrom('certs')
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', iso(now));
    if (until) base = base.where('expires_at', '<=', iso(until));
    if (owner !== null) base = base.where('owner', '=', owner);
    return soonestFirst(base, offset, limit);
  }

  /** How many records are neither revoked nor expired at `now` and expire by `until` (the metrics). */
  async countExpiring(now: Date, until: Date): Promise<number> {
    const row = await this.ex()
      .selectFrom('certs')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', iso(now))
      .where('expires_at', '<=', iso(until))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Changes with every recorded revocation: tells a cached CRL is stale. */
  async revocationStamp(): Promise<string> {
    const row = await this.ex()
      .selectFrom('certs')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.max('revoked_at').as('last')])
      .where('revoked_at', 'is not', null)
      .executeTakeFirst();
    return `${row?.n ?? 0}/${row?.last ?? ''}`;
  }

  async revokedEntries(now: Date): Promise<RevokedEntry[]> {
    const rows = await this.ex()
      .selectFrom('certs')
      .select(['serial', 'revoked_at'])
      .where('revoked_at', 'is not', null)
      .where('expires_at', '>', iso(now))
      .orderBy('revoked_at', 'asc')
      .execute();
    return rows.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revoked_at!) }));
  }
}

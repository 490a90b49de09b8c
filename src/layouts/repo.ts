import { sql } from 'kysely';
import type { Db } from '../db/schema.js';
import { executor, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import type { LayoutParameter } from '../provision/layout.js';
import type { StoredLayout } from './types.js';

type LayoutRow = {
  owner: string;
  name: string;
  toml: string;
  parameters: unknown;
  created_at: string;
  updated_at: string;
};

/** Users' named layouts; every statement is scoped to the owner. */
export class LayoutsRepository {
  constructor(private db: Db) {}

  private ex() {
    return executor(this.db);
  }

  private toLayout(r: LayoutRow): StoredLayout {
    return {
      owner: r.owner,
      name: r.name,
      toml: r.toml,
      // jsonb keeps an object's keys in its own order: the declaration's order again.
      parameters: (this.db.parseJson(r.parameters) as unknown as LayoutParameter[]).map((p) => ({
        name: p.name,
        type: p.type,
        required: p.required,
        default: p.default,
        pattern: p.pattern,
        device: p.device,
      })),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  /** A name the owner already uses fails: conflict. */
  async insert(l: StoredLayout): Promise<void> {
    await onDuplicate(
      sql`INSERT INTO layouts (owner, name, toml, parameters, created_at, updated_at)
        VALUES (${l.owner}, ${l.name}, ${l.toml}, ${this.db.json(l.parameters)}, ${l.createdAt}, ${l.updatedAt})`.execute(
        this.ex(),
      ),
      () => conflict(`layout ${l.name} already exists`),
    );
  }

  async byName(owner: string, name: string): Promise<StoredLayout | null> {
    const rows = await sql<LayoutRow>`SELECT owner, name, toml, parameters, created_at, updated_at
      FROM layouts WHERE owner = ${owner} AND name = ${name}`.execute(this.ex());
    return rows.rows[0] ? this.toLayout(rows.rows[0]) : null;
  }

  /** Whether there was one to change. */
  async update(
    l: Pick<StoredLayout, 'owner' | 'name' | 'toml' | 'parameters' | 'updatedAt'>,
  ): Promise<boolean> {
    const result = await sql`UPDATE layouts SET toml = ${l.toml}, parameters = ${this.db.json(l.parameters)},
      updated_at = ${l.updatedAt} WHERE owner = ${l.owner} AND name = ${l.name}`.execute(this.ex());
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** Whether there was one to remove. */
  async remove(owner: string, name: string): Promise<boolean> {
    const result = await sql`DELETE FROM layouts WHERE owner = ${owner} AND name = ${name}`.execute(
      this.ex(),
    );
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  /** A page of the owner's layouts by name, and how many there are. */
  async page(
    owner: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: StoredLayout[] }> {
    const count = await sql<{ n: number | string }>`SELECT count(*) AS n FROM layouts
      WHERE owner = ${owner}`.execute(this.ex());
    // Byte order on both databases (PostgreSQL's locale would skip `-` and `.`).
    const order = sql.raw(this.db.dialect === 'postgres' ? 'name COLLATE "C"' : 'name');
    const rows =
      limit === 0
        ? { rows: [] as LayoutRow[] }
        : await sql<LayoutRow>`SELECT owner, name, toml, parameters, created_at, updated_at FROM layouts
            WHERE owner = ${owner} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`.execute(this.ex());
    return { total: Number(count.rows[0]?.n ?? 0), items: rows.rows.map((r) => this.toLayout(r)) };
  }
}

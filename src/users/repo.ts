import { type RawBuilder, sql } from 'kysely';
import { PLAN_EACH_TIME } from '../db/database.js';
import type { Db } from '../db/schema.js';
import { executor, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import type { User, UserFilter, UserWithHash } from './types.js';

/**
 * PostgreSQL's `LIKE` pattern (`%`, `_` wildcards, `\` escaping the next character) as
 * an SQLite GLOB, which is case-sensitive like `LIKE` in PostgreSQL; GLOB's own
 * wildcards (`*`, `?`, `[`) are matched literally.
 */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      c = pattern[++i]!;
    } else if (c === '%') {
      out += '*';
      continue;
    } else if (c === '_') {
      out += '?';
      continue;
    }
    out += c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
  }
  return out;
}

/** PostgreSQL text cannot hold U+0000, so no stored user has it (and asking would fail). */
const hasNul = (s: string) => s.includes('\u0000');

export class UsersRepository {
  constructor(private db: Db) {}

  /**
   * The accounts (id, email, metadata as stored; never the password hash) as a row
   * source another domain's repository joins in a statement of its own (groups pages
   * its `users` members with it). A plain subquery, which PostgreSQL and SQLite fold
   * into the statement around it.
   */
  source(): RawBuilder<unknown> {
    return sql`(SELECT id, email, metadata FROM users)`;
  }

  private toUser(row: { id: string; email: string; metadata: unknown }): User {
    return { id: row.id, email: row.email, metadata: this.db.parseJson(row.metadata) };
  }

  /** An email already registered fails: conflict, "email already taken". */
  async save(user: UserWithHash): Promise<void> {
    await onDuplicate(
      executor(this.db)
        .insertInto('users')
        .values({
          id: user.id,
          email: user.email,
          password: user.password,
          metadata: this.db.json(user.metadata),
          created_at: new Date().toISOString(),
        })
        .execute(),
      () => conflict('email already taken'),
    );
  }

  async byEmail(email: string): Promise<UserWithHash | null> {
    if (hasNul(email)) return null;
    const row = await executor(this.db)
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email)
      .executeTakeFirst();
    return row ? { ...this.toUser(row), password: row.password } : null;
  }

  async byId(id: string): Promise<User | null> {
    if (hasNul(id)) return null;
    const row = await executor(this.db)
      .selectFrom('users')
      .select(['id', 'email', 'metadata'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? this.toUser(row) : null;
  }

  async updateMetadata(email: string, metadata: Record<string, unknown>): Promise<void> {
    await executor(this.db)
      .updateTable('users')
      .set({ metadata: this.db.json(metadata) })
      .where('email', '=', email)
      .execute();
  }

  async updatePassword(email: string, hash: string): Promise<void> {
    await executor(this.db).updateTable('users').set({ password: hash }).where('email', '=', email).execute();
  }

  async list(filter: UserFilter): Promise<{ total: number; users: User[] }> {
    let q = executor(this.db).selectFrom('users');
    if (filter.id) q = q.where('id', '=', filter.id);
    if (filter.email) {
      // Case-sensitive substring, `%` and `_` acting as wildcards, as in Mainflux.
      const pattern = `%${filter.email}%`;
      q =
        this.db.dialect === 'postgres'
          ? q.where(sql<boolean>`${sql.raw(PLAN_EACH_TIME)} email LIKE ${pattern}`)
          : q.where(sql<boolean>`email GLOB ${likeToGlob(pattern)}`);
    }
    if (filter.metadata) {
      const json = JSON.stringify(filter.metadata);
      q =
        this.db.dialect === 'postgres'
          ? q.where(sql<boolean>`${sql.raw(PLAN_EACH_TIME)} metadata @> ${json}::jsonb`)
          : q.where(sql<boolean>`tethys_json_contains(metadata, ${json}) = 1`);
    }
    const [rows, count] = await Promise.all([
      q
        .select(['id', 'email', 'metadata'])
        .orderBy('email', 'asc')
        .limit(filter.limit)
        .offset(filter.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst(),
    ]);
    return { total: Number(count?.n ?? 0), users: rows.map((r) => this.toUser(r)) };
  }
}

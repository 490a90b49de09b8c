import { type RawBuilder, sql } from 'kysely';
import { containsSql } from '../db/json-contains.js';
import type { Db } from '../db/schema.js';
import { executor, LockClass, onDuplicate } from '../db/transactions.js';
import { conflict } from '../errors.js';
import type { ThingsRepository } from '../things/repo.js';
import type { UsersRepository } from '../users/repo.js';
import { type Group, GroupMessages, type Member } from './types.js';

type GroupRow = {
  id: string;
  owner_id: string;
  parent_id: string | null;
  name: string;
  description: string;
  metadata: unknown;
  path: string;
  level: number | string;
  created_at: string;
  updated_at: string;
};

const GROUP_COLUMNS =
  'g.id, g.owner_id, g.parent_id, g.name, g.description, g.metadata, g.path, g.level, g.created_at, g.updated_at';

/**
 * Groups and their members; every read is scoped to the owner's groups. Members that
 * are things or accounts are read in the same statement as the page of members, joined
 * as their domain's row source (`ThingsRepository.source`, `UsersRepository.source`):
 * a group of any size pages in the database.
 */
export class GroupsRepository {
  constructor(
    private db: Db,
    private thingRows: Pick<ThingsRepository, 'source'>,
    private accountRows: Pick<UsersRepository, 'source'>,
  ) {}

  private ex() {
    return executor(this.db);
  }

  private toGroup(r: GroupRow): Group {
    return {
      id: r.id,
      ownerId: r.owner_id,
      parentId: r.parent_id,
      name: r.name,
      description: r.description,
      metadata: this.db.parseJson(r.metadata),
      path: r.path,
      level: Number(r.level),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  /** The group's metadata contains `metadata` (TRUE without a filter). */
  private contains(metadata: Record<string, unknown> | undefined): RawBuilder<unknown> {
    return containsSql(this.db.dialect, sql.raw('g.metadata'), metadata);
  }

  /** A member table's assignment order (see the migration). */
  private order(): RawBuilder<unknown> {
    return sql.raw(this.db.dialect === 'postgres' ? 'm.seq' : 'm.rowid');
  }

  /** A sibling of the same name fails: conflict, "group already exists". */
  async insert(g: Group): Promise<void> {
    await onDuplicate(
      sql`INSERT INTO user_groups (id, owner_id, parent_id, name, description, metadata, path, level, created_at, updated_at)
      VALUES (${g.id}, ${g.ownerId}, ${g.parentId}, ${g.name}, ${g.description}, ${this.db.json(g.metadata)},
        ${g.path}, ${g.level}, ${g.createdAt}, ${g.updatedAt})`.execute(this.ex()),
      () => conflict(GroupMessages.exists),
    );
  }

  async byId(ownerId: string, id: string): Promise<Group | null> {
    const rows = await sql<GroupRow>`SELECT ${sql.raw(GROUP_COLUMNS)} FROM user_groups g
      WHERE g.id = ${id} AND g.owner_id = ${ownerId}`.execute(this.ex());
    return rows.rows[0] ? this.toGroup(rows.rows[0]) : null;
  }

  /** Whether a sibling (same owner and parent) other than `exceptId` has this name. */
  async siblingNamed(
    ownerId: string,
    parentId: string | null,
    name: string,
    exceptId = '',
  ): Promise<boolean> {
    const parent = parentId === null ? sql`g.parent_id IS NULL` : sql`g.parent_id = ${parentId}`;
    const rows = await sql`SELECT 1 FROM user_groups g WHERE g.owner_id = ${ownerId} AND ${parent}
      AND g.name = ${name} AND g.id <> ${exceptId}`.execute(this.ex());
    return rows.rows.length > 0;
  }

  async update(
    g: Pick<Group, 'id' | 'ownerId' | 'name' | 'description' | 'metadata' | 'updatedAt'>,
  ): Promise<void> {
    await onDuplicate(
      sql`UPDATE user_groups SET name = ${g.name}, description = ${g.description},
      metadata = ${this.db.json(g.metadata)}, updated_at = ${g.updatedAt}
      WHERE id = ${g.id} AND owner_id = ${g.ownerId}`.execute(this.ex()),
      () => conflict(GroupMessages.exists),
    );
  }

  /** The owner's groups down to `maxLevel`, parents before children. */
  async list(ownerId: string, maxLevel: number, metadata?: Record<string, unknown>): Promise<Group[]> {
    const rows = await sql<GroupRow>`SELECT ${sql.raw(GROUP_COLUMNS)} FROM user_groups g
      WHERE g.owner_id = ${ownerId} AND g.level <= ${maxLevel} AND ${this.contains(metadata)}
      ORDER BY g.path`.execute(this.ex());
    return rows.rows.map((r) => this.toGroup(r));
  }

  /** The group and its descendants at most `depth` levels below it. */
  async subtree(group: Group, depth: number, metadata?: Record<string, unknown>): Promise<Group[]> {
    const rows = await sql<GroupRow>`SELECT ${sql.raw(GROUP_COLUMNS)} FROM user_groups g
      WHERE g.owner_id = ${group.ownerId} AND (g.id = ${group.id} OR g.path LIKE ${`${group.path}.%`})
        AND g.level <= ${group.level + depth} AND ${this.contains(metadata)}
      ORDER BY g.path`.execute(this.ex());
    return rows.rows.map((r) => this.toGroup(r));
  }

  /** The group and its ancestors at most `depth` levels above it. */
  async ancestors(group: Group, depth: number, metadata?: Record<string, unknown>): Promise<Group[]> {
    const ids = group.path.split('.');
    const rows = await sql<GroupRow>`SELECT ${sql.raw(GROUP_COLUMNS)} FROM user_groups g
      WHERE g.owner_id = ${group.ownerId} AND g.id IN (${sql.join(ids)})
        AND g.level >= ${group.level - depth} AND ${this.contains(metadata)}
      ORDER BY g.path`.execute(this.ex());
    return rows.rows.map((r) => this.toGroup(r));
  }

  /** Whether the group or a descendant has a member. */
  async subtreeHasMembers(group: Group): Promise<boolean> {
    const rows = await sql`SELECT 1 FROM group_members m JOIN user_groups g ON g.id = m.group_id
      WHERE g.owner_id = ${group.ownerId} AND (g.id = ${group.id} OR g.path LIKE ${`${group.path}.%`})
      LIMIT 1`.execute(this.ex());
    return rows.rows.length > 0;
  }

  /** Removes the group; its descendants go with it (the parent key cascades). */
  async remove(group: Group): Promise<void> {
    await sql`DELETE FROM user_groups WHERE id = ${group.id} AND owner_id = ${group.ownerId}`.execute(
      this.ex(),
    );
  }

  /**
   * Adds members in one statement, in the request's order: a member already in the
   * group fails it (conflict, "member is already assigned"). Run in a transaction: on PostgreSQL, assignments
   * to one group wait for each other (an advisory lock on the group, held to commit), so
   * two requests adding the same members in different orders do not each hold a row the
   * other waits for (a deadlock); the second sees the first's rows and fails.
   */
  async assign(groupId: string, type: string, memberIds: string[]): Promise<void> {
    if (this.db.dialect === 'postgres')
      await sql`SELECT pg_advisory_xact_lock(${LockClass.groupMembers}, hashtext(${groupId}))`.execute(
        this.ex(),
      );
    const rows = memberIds.map((id) => sql`(${groupId}, ${id}, ${type})`);
    for (let i = 0; i < rows.length; i += 1000) {
      await onDuplicate(
        sql`INSERT INTO group_members (group_id, member_id, type) VALUES ${sql.join(rows.slice(i, i + 1000))}`.execute(
          this.ex(),
        ),
        () => conflict(GroupMessages.assigned),
      );
    }
  }

  /** Removes those of the members that are in the group; returns them. */
  async unassign(groupId: string, memberIds: string[]): Promise<Member[]> {
    const removed: Member[] = [];
    for (let i = 0; i < memberIds.length; i += 1000) {
      const rows = await sql<{
        member_id: string;
        type: string;
      }>`DELETE FROM group_members WHERE group_id = ${groupId}
        AND member_id IN (${sql.join(memberIds.slice(i, i + 1000))}) RETURNING member_id, type`.execute(
        this.ex(),
      );
      for (const r of rows.rows) removed.push({ id: r.member_id, type: r.type });
    }
    return removed;
  }

  /**
   * Every group's membership of a member of this type (a deleted thing); returns the
   * groups it left, with their owners' emails.
   */
  async forget(memberId: string, type: string): Promise<{ groupId: string; owner: string | null }[]> {
    const left = await sql<{ group_id: string }>`DELETE FROM group_members
      WHERE member_id = ${memberId} AND type = ${type} RETURNING group_id`.execute(this.ex());
    const ids = left.rows.map((r) => r.group_id);
    const owners = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await sql<{ id: string; email: string }>`SELECT g.id, u.email
        FROM user_groups g JOIN ${this.accountRows.source()} u ON u.id = g.owner_id
        WHERE g.id IN (${sql.join(ids.slice(i, i + 1000))})`.execute(this.ex());
      for (const r of rows.rows) owners.set(r.id, r.email);
    }
    return ids.map((groupId) => ({ groupId, owner: owners.get(groupId) ?? null }));
  }

  async members(
    groupId: string,
    type: string | undefined,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: Member[] }> {
    const byType = type ? sql`AND m.type = ${type}` : sql``;
    const [rows, count] = await Promise.all([
      sql<{ member_id: string; type: string }>`SELECT m.member_id, m.type FROM group_members m
        WHERE m.group_id = ${groupId} ${byType} ORDER BY ${this.order()} LIMIT ${limit} OFFSET ${offset}`.execute(
        this.ex(),
      ),
      sql<{
        n: number | string;
      }>`SELECT count(*) AS n FROM group_members m WHERE m.group_id = ${groupId} ${byType}`.execute(
        this.ex(),
      ),
    ]);
    return {
      total: Number(count.rows[0]?.n ?? 0),
      items: rows.rows.map((r) => ({ id: r.member_id, type: r.type })),
    };
  }

  /** The owner's groups that have this member. */
  async groupsOf(
    ownerId: string,
    memberId: string,
    metadata: Record<string, unknown> | undefined,
    offset: number,
    limit: number,
  ): Promise<{ total: number; items: Group[] }> {
    const where = sql`m.member_id = ${memberId} AND g.owner_id = ${ownerId} AND ${this.contains(metadata)}`;
    const [rows, count] = await Promise.all([
      sql<GroupRow>`SELECT ${sql.raw(GROUP_COLUMNS)} FROM group_members m JOIN user_groups g ON g.id = m.group_id
        WHERE ${where} ORDER BY g.path LIMIT ${limit} OFFSET ${offset}`.execute(this.ex()),
      sql<{
        n: number | string;
      }>`SELECT count(*) AS n FROM group_members m JOIN user_groups g ON g.id = m.group_id
        WHERE ${where}`.execute(this.ex()),
    ]);
    return { total: Number(count.rows[0]?.n ?? 0), items: rows.rows.map((r) => this.toGroup(r)) };
  }

  /**
   * The owner's things among a group's `things` members (API.md §3.5), in assignment
   * order: a join with the owner's things (filtered by metadata), so a group of any size
   * pages in the database.
   */
  async things(
    groupId: string,
    owner: string,
    metadata: Record<string, unknown> | undefined,
    offset: number,
    limit: number,
  ): Promise<{
    total: number;
    rows: { id: string; name: string; key: string; metadata: Record<string, unknown> }[];
  }> {
    const from = sql`group_members m JOIN ${this.thingRows.source({ owner, metadata })} t ON t.id = m.member_id`;
    const where = sql`m.group_id = ${groupId} AND m.type = 'things'`;
    const [rows, count] = await Promise.all([
      sql<{ id: string; name: string; key: string; metadata: unknown }>`SELECT t.id, t.name, t.key, t.metadata
        FROM ${from} WHERE ${where} ORDER BY ${this.order()} LIMIT ${limit} OFFSET ${offset}`.execute(
        this.ex(),
      ),
      sql<{ n: number | string }>`SELECT count(*) AS n FROM ${from} WHERE ${where}`.execute(this.ex()),
    ]);
    return {
      total: Number(count.rows[0]?.n ?? 0),
      rows: rows.rows.map((r) => ({ ...r, metadata: this.db.parseJson(r.metadata) })),
    };
  }

  /** The accounts among a group's `users` members (all, or only `onlyId`), by email. */
  async users(
    groupId: string,
    onlyId: string | null,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: { id: string; email: string; metadata: Record<string, unknown> }[] }> {
    const only = onlyId === null ? sql`` : sql`AND u.id = ${onlyId}`;
    const from = sql`group_members m JOIN ${this.accountRows.source()} u ON u.id = m.member_id`;
    const where = sql`m.group_id = ${groupId} AND m.type = 'users' ${only}`;
    const [rows, count] = await Promise.all([
      sql<{ id: string; email: string; metadata: unknown }>`SELECT u.id, u.email, u.metadata
        FROM ${from} WHERE ${where} ORDER BY u.email LIMIT ${limit} OFFSET ${offset}`.execute(this.ex()),
      sql<{ n: number | string }>`SELECT count(*) AS n FROM ${from} WHERE ${where}`.execute(this.ex()),
    ]);
    return {
      total: Number(count.rows[0]?.n ?? 0),
      rows: rows.rows.map((r) => ({ ...r, metadata: this.db.parseJson(r.metadata) })),
    };
  }
}

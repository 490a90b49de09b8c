import type { AuditLog } from '../audit/service.js';
import { type NewEvent, SYSTEM } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import { type Identity, KeyType } from '../auth/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { conflict, malformed, notFound, unauthenticated } from '../errors.js';
import type { EventHub } from '../events.js';
import { newUlid, ULID } from '../ids.js';
import { byteLength } from '../things/types.js';
import type { GroupsRepository } from './repo.js';
import {
  type Group,
  GroupMessages,
  type GroupNode,
  MAX_DESCRIPTION,
  MAX_GROUP_NAME,
  MAX_LEVEL,
  MAX_MEMBER_ID,
  MAX_MEMBERS_A_REQUEST,
  MEMBER_TYPE_THINGS,
  type Member,
  type Paged,
} from './types.js';

export interface GroupInput {
  name: string;
  description?: string;
  metadata?: Record<string, unknown>;
}

/**
 * Groups (API.md §2.2): a tree of at most five levels per user, with members of any
 * type. Unlike 0.12.1, where any user could read and change any group, a group is its
 * creator's: another user's group answers as a missing one.
 */
export class GroupsService {
  constructor(
    private db: Db,
    private auth: AuthService,
    private groups: GroupsRepository,
    events: EventHub,
    private adminEmail: string,
    private audit: AuditLog,
  ) {
    // A deleted thing leaves every group it was in: one group.unassign a group, for the
    // group's owner, made by no one (the thing's removal, whose request id it carries).
    events.on('thing.removed', (e) =>
      inTransaction(this.db, async () => {
        const left = await this.groups.forget(e.id, MEMBER_TYPE_THINGS);
        this.audit.record(
          SYSTEM,
          left.map((m) => ({
            action: 'group.unassign',
            entityId: m.groupId,
            relatedId: e.id,
            owner: m.owner,
            details: { member_type: MEMBER_TYPE_THINGS, member_id: e.id, reason: 'thing.remove' },
          })),
        );
      }),
    );
  }

  /** A login token or an API key; anything else is `unauthorized access` (403 here). */
  async identify(header: string | undefined): Promise<Identity> {
    const identity = await this.auth.identify(header, GroupMessages.unauthorized);
    if (identity.type === KeyType.recovery || !identity.userId)
      throw unauthenticated(GroupMessages.unauthorized);
    return identity;
  }

  private check(input: GroupInput): Required<GroupInput> {
    const name = input.name ?? '';
    const description = input.description ?? '';
    if (name.length === 0 || byteLength(name) > MAX_GROUP_NAME) throw malformed();
    if (byteLength(description) > MAX_DESCRIPTION) throw malformed();
    return { name, description, metadata: input.metadata ?? {} };
  }

  /** The user's group, or null (also for a malformed id). */
  private find(userId: string, id: string): Promise<Group | null> {
    return userId && ULID.test(id) ? this.groups.byId(userId, id) : Promise.resolve(null);
  }

  /** The caller's group, or `entity not found`. */
  private async owned(identity: Identity, id: string): Promise<Group> {
    const group = await this.find(identity.userId, id);
    if (!group) throw notFound(GroupMessages.notFound);
    return group;
  }

  async create(header: string | undefined, input: GroupInput & { parentId?: string }): Promise<Group> {
    const identity = await this.identify(header);
    const { name, description, metadata } = this.check(input);
    return inTransaction(this.db, async () => {
      const parent = input.parentId ? await this.owned(identity, input.parentId) : null;
      if (parent && parent.level >= MAX_LEVEL) throw malformed(GroupMessages.maxLevel);
      // Top-level names may repeat, as in 0.12.1 (its unique key has a NULL parent).
      if (parent && (await this.groups.siblingNamed(identity.userId, parent.id, name))) {
        throw conflict(GroupMessages.exists);
      }
      const now = new Date().toISOString();
      const id = newUlid();
      const group: Group = {
        id,
        ownerId: identity.userId,
        parentId: parent?.id ?? null,
        name,
        description,
        metadata,
        path: parent ? `${parent.path}.${id}` : id,
        level: parent ? parent.level + 1 : 1,
        createdAt: now,
        updatedAt: now,
      };
      await this.groups.insert(group);
      this.audit.record(identity, {
        action: 'group.create',
        entityId: id,
        owner: identity.email,
        details: { ...described(group), parent_id: group.parentId, level: group.level },
      });
      return group;
    });
  }

  async view(header: string | undefined, id: string): Promise<Group> {
    return this.owned(await this.identify(header), id);
  }

  async update(header: string | undefined, id: string, input: GroupInput): Promise<void> {
    const identity = await this.identify(header);
    const { name, description, metadata } = this.check(input);
    await inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (group.parentId && (await this.groups.siblingNamed(identity.userId, group.parentId, name, id))) {
        throw conflict(GroupMessages.exists);
      }
      await this.groups.update({
        id,
        ownerId: identity.userId,
        name,
        description,
        metadata,
        updatedAt: new Date().toISOString(),
      });
      this.audit.record(identity, {
        action: 'group.update',
        entityId: id,
        owner: identity.email,
        details: described({ name, description, metadata }),
      });
    });
  }

  /** Removes the group and its subtree; refused while it or a descendant has members. */
  async remove(header: string | undefined, id: string): Promise<void> {
    const identity = await this.identify(header);
    await inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (await this.groups.subtreeHasMembers(group)) throw conflict(GroupMessages.notEmpty);
      // The subtree goes with it: one event a group removed, the descendants' naming the
      // group whose removal took them.
      const removed = await this.groups.subtree(group, MAX_LEVEL);
      await this.groups.remove(group);
      this.audit.record(
        identity,
        removed.map((g) => ({
          action: 'group.remove',
          entityId: g.id,
          owner: identity.email,
          details: g.id === group.id ? { name: g.name } : { name: g.name, with: group.id },
        })),
      );
    });
  }

  /** GET /groups: every group of the caller down to `level`, flat or as a tree. */
  async list(
    header: string | undefined,
    level: number,
    tree: boolean,
    metadata?: Record<string, unknown>,
  ): Promise<{ total: number; groups: GroupNode[] }> {
    const identity = await this.identify(header);
    const groups = await this.groups.list(identity.userId, level, metadata);
    return { total: groups.length, groups: tree ? nest(groups) : groups };
  }

  /** The group and its descendants (`children`) or ancestors (`parents`) within `level`. */
  async related(
    header: string | undefined,
    id: string,
    direction: 'children' | 'parents',
    level: number,
    tree: boolean,
    metadata?: Record<string, unknown>,
  ): Promise<{ total: number; groups: GroupNode[] }> {
    const group = await this.owned(await this.identify(header), id);
    const groups =
      direction === 'children'
        ? await this.groups.subtree(group, level, metadata)
        : await this.groups.ancestors(group, level, metadata);
    return { total: groups.length, groups: tree ? nest(groups) : groups };
  }

  /** Adds members, all or none: one already in the group refuses the request. */
  async assign(header: string | undefined, id: string, type: string, memberIds: string[]): Promise<void> {
    const identity = await this.identify(header);
    if (!type || memberIds.length === 0 || memberIds.length > MAX_MEMBERS_A_REQUEST) throw malformed();
    if (byteLength(type) > MAX_MEMBER_ID) throw malformed();
    for (const m of memberIds) if (!m || byteLength(m) > MAX_MEMBER_ID) throw malformed();
    await inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      await this.groups.assign(group.id, type, memberIds);
      this.audit.record(
        identity,
        memberIds.map((m) => memberEvent('group.assign', group.id, identity.email, type, m)),
      );
    });
  }

  async unassign(header: string | undefined, id: string, memberIds: string[]): Promise<void> {
    const identity = await this.identify(header);
    if (memberIds.length === 0 || memberIds.length > MAX_MEMBERS_A_REQUEST) throw malformed();
    const valid = memberIds.filter((m) => m && byteLength(m) <= MAX_MEMBER_ID);
    await inTransaction(this.db, async () => {
      const group = await this.owned(identity, id);
      if (valid.length === 0) return;
      // Events only for the members that were there (an id not in the group changes nothing).
      const left = await this.groups.unassign(group.id, valid);
      this.audit.record(
        identity,
        left.map((m) => memberEvent('group.unassign', group.id, identity.email, m.type, m.id)),
      );
    });
  }

  async members(
    header: string | undefined,
    id: string,
    type: string | undefined,
    offset: number,
    limit: number,
  ): Promise<Paged<Member>> {
    const group = await this.owned(await this.identify(header), id);
    const { total, items } = await this.groups.members(group.id, type, offset, limit);
    return { total, offset, limit, items };
  }

  async memberships(
    header: string | undefined,
    memberId: string,
    metadata: Record<string, unknown> | undefined,
    offset: number,
    limit: number,
  ): Promise<Paged<Group>> {
    const identity = await this.identify(header);
    // No stored member id has a NUL (JSON bodies refuse it) or is that long: nothing to find.
    if (memberId.includes('\u0000') || byteLength(memberId) > MAX_MEMBER_ID)
      return { total: 0, offset, limit, items: [] };
    const { total, items } = await this.groups.groupsOf(identity.userId, memberId, metadata, offset, limit);
    return { total, offset, limit, items };
  }

  /**
   * GET /groups/things/{id} (API.md §3.5): the caller's things in the caller's group;
   * a missing group is an empty page with limit 0, as in 0.12.1.
   */
  async things(
    identity: Identity,
    id: string,
    metadata: Record<string, unknown> | undefined,
    offset: number,
    limit: number,
  ) {
    const group = await this.find(identity.userId, id);
    if (!group) return { total: 0, offset: 0, limit: 0, rows: [] };
    const { total, rows } = await this.groups.things(group.id, identity.email, metadata, offset, limit);
    return { total, offset, limit, rows };
  }

  /**
   * GET /groups/users/{id} (API.md §1.10): the accounts in the caller's group. As with
   * GET /users, only the admin sees other accounts; everyone else sees at most themselves.
   */
  async users(header: string | undefined, id: string, offset: number, limit: number) {
    const identity = await this.auth.identify(header);
    const group = await this.find(identity.userId, id);
    if (!group) return { total: 0, offset, limit, rows: [] };
    const admin = this.adminEmail !== '' && identity.email === this.adminEmail;
    const { total, rows } = await this.groups.users(group.id, admin ? null : identity.userId, offset, limit);
    return { total, offset, limit, rows };
  }
}

/** What an event says of a group: its name and description, its metadata's field names. */
function described(g: Pick<Group, 'name' | 'description' | 'metadata'>): Record<string, unknown> {
  return { name: g.name, description: g.description, metadata_fields: Object.keys(g.metadata) };
}

/** A membership's event: about the group, and the member too (its related id). */
function memberEvent(
  action: 'group.assign' | 'group.unassign',
  groupId: string,
  owner: string,
  type: string,
  memberId: string,
): NewEvent {
  return {
    action,
    entityId: groupId,
    relatedId: memberId,
    owner,
    details: { member_type: type, member_id: memberId },
  };
}

/** Groups whose parent is among them go into its `children`; the others stay on top. */
function nest(groups: Group[]): GroupNode[] {
  const byId = new Map<string, GroupNode>(groups.map((g) => [g.id, { ...g }]));
  const top: GroupNode[] = [];
  for (const g of byId.values()) {
    const parent = g.parentId ? byId.get(g.parentId) : undefined;
    if (!parent) top.push(g);
    else if (parent.children) parent.children.push(g);
    else parent.children = [g];
  }
  return top;
}

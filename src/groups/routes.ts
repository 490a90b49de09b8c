import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { malformed } from '../errors.js';
import { count, flag, jsonObject, Param } from '../http/query.js';
import { Answer, Errors, Metadata, NoBody, Opt, omitEmpty } from '../http/schemas.js';
import { empty } from '../http/server.js';
import { MAX_LIMIT } from '../things/types.js';
import { UsersPage, userView } from '../users/routes.js';
import type { GroupsService } from './service.js';
import { type GroupNode, MAX_LEVEL } from './types.js';

/** The auth service's family: bad credentials are 403 (API.md §0.5, family B). */
const groups = { unauthenticated: 403 as const };
const decode = { ...groups, body: 'json' as const, malformedMessage: 'failed to decode request body' };
const tags = ['groups'];

const GroupBody = Type.Object({
  name: Opt(Type.String()),
  description: Opt(Type.String()),
  parent_id: Opt(Type.String()),
  metadata: Opt(Metadata),
});
const MembersBody = Type.Object({ type: Opt(Type.String()), members: Opt(Type.Array(Type.String())) });
// level's range and limit's are rules checked after reading (a wrong one is malformed).
const TreeQuery = Type.Object({
  level: Param.text('1..5, default 1'),
  tree: Param.bool('true: nest children'),
  metadata: Param.json('JSON object the group metadata must contain'),
});
const PageQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, 1..100'),
  type: Param.text('member type'),
  metadata: Param.json('JSON object to contain'),
});
type TreeQuery = Static<typeof TreeQuery>;
type PageQuery = Static<typeof PageQuery>;

export function groupView(g: GroupNode): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    owner_id: g.ownerId,
    ...omitEmpty({ parent_id: g.parentId, description: g.description, metadata: g.metadata }),
    level: g.level,
    path: g.path,
    ...(g.children ? { children: g.children.map(groupView) } : {}),
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  };
}

// ---- answers (groupView above makes the view) -------------------------------------
const groupFields = {
  id: Type.String({ description: 'ULID' }),
  name: Type.String(),
  owner_id: Type.String(),
  parent_id: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
  level: Type.Integer({ description: 'a root is level 1' }),
  path: Type.String({ description: 'ancestor ids and its own, joined by `.`' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};
const GroupView = Answer('A group (parent_id, description and metadata left out when empty)', groupFields);
/**
 * A group in a listing; with `tree=true`, each with its `children` (left out for a leaf).
 * Groups are at most MAX_LEVEL deep, so the nesting is spelled out, no `$ref`.
 */
function GroupTree(depth: number = MAX_LEVEL): ReturnType<typeof Answer> {
  const { created_at, updated_at, ...before } = groupFields;
  return Answer(depth === MAX_LEVEL ? 'A group, with its children when listed as a tree' : 'A child group', {
    ...before,
    ...(depth > 1 ? { children: Type.Optional(Type.Array(GroupTree(depth - 1))) } : {}),
    created_at,
    updated_at,
  });
}
/** A list of groups: all that match (no paging), the level asked for, `name` always ''. */
const GroupsPage = Answer('The groups', {
  total: Type.Integer(),
  level: Type.Integer(),
  name: Type.String({ description: "always ''" }),
  groups: Type.Array(GroupTree()),
});
/** The groups a member is in: a page echoing offset and limit; `level` 0 and `name` '' as 0.12.1 sends them. */
const MembershipsPage = Answer('The groups the member is in', {
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  level: Type.Integer({ description: 'always 0' }),
  name: Type.String({ description: "always ''" }),
  groups: Type.Array(GroupView),
});
const MembersPage = Answer("A group's members (keys capitalised, as 0.12.1 emits them)", {
  total: Type.Integer({ description: '0 unless `type` is given' }),
  offset: Type.Integer(),
  limit: Type.Integer(),
  level: Type.Integer({ description: 'always 0' }),
  name: Type.String({ description: "always ''" }),
  Members: Type.Array(Answer('A member', { ID: Type.String(), Type: Type.String() })),
});
const GroupThing = Answer('A thing (name and metadata left out when empty)', {
  id: Type.String(),
  name: Type.Optional(Type.String()),
  key: Type.String(),
  metadata: Type.Optional(Metadata),
});
const GroupThingsPage = Answer("A page of a group's things (order and direction always '')", {
  total: Type.Integer(),
  offset: Type.Integer({ description: '0 for an unknown group' }),
  limit: Type.Integer({ description: '0 for an unknown group' }),
  order: Type.String(),
  direction: Type.String(),
  things: Type.Array(GroupThing),
});

/** `level` 1..5 (default 1); anything else is malformed, as 0.12.1 refuses it. */
function level(raw: string | undefined): number {
  if (raw === undefined) return 1;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LEVEL) throw malformed();
  return Number(raw);
}

function paging(q: PageQuery, fallbackLimit = 10): { offset: number; limit: number } {
  const offset = count(q.offset, 0);
  const limit = count(q.limit, fallbackLimit);
  if (limit < 1 || limit > MAX_LIMIT) throw malformed();
  return { offset, limit };
}

function treeQuery(q: TreeQuery) {
  return { level: level(q.level), tree: flag(q.tree, false), metadata: jsonObject(q.metadata) };
}

/**
 * Groups (API.md §2.2) and the two member listings other services answered in 0.12.1:
 * things in a group (§3.5, at /groups/things/{id} as behind its gateway) and users in a
 * group (§1.10, /groups/users/{id}).
 */
export function groupsRoutes(app: FastifyInstance, service: GroupsService, auth: AuthService): void {
  groupRoutes(app, service);
  treeRoutes(app, service);
  memberRoutes(app, service);
  memberListRoutes(app, service, auth);
}

/** Create, list, view, update and remove groups. */
function groupRoutes(app: FastifyInstance, service: GroupsService): void {
  app.post<{
    Body: { name?: string; description?: string; parent_id?: string; metadata?: Record<string, unknown> };
  }>(
    '/groups',
    {
      config: decode,
      schema: {
        tags,
        summary: 'Create a group (under parent_id if given)',
        body: GroupBody,
        response: { 201: NoBody('Group created', { Location: 'the new group' }), ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const group = await service.create(request.headers.authorization, {
        name: b.name ?? '',
        description: b.description ?? '',
        metadata: b.metadata ?? {},
        parentId: b.parent_id ?? '',
      });
      reply.header('Location', `/groups/${group.id}`);
      empty(reply, 201);
    },
  );

  app.get<{ Querystring: TreeQuery }>(
    '/groups',
    {
      config: groups,
      schema: {
        tags,
        summary: "The caller's groups",
        querystring: TreeQuery,
        response: { 200: GroupsPage, ...Errors },
      },
    },
    async (request) => {
      const q = treeQuery(request.query);
      const page = await service.list(request.headers.authorization, q.level, q.tree, q.metadata);
      return { total: page.total, level: q.level, name: '', groups: page.groups.map(groupView) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/groups/:id',
    { config: groups, schema: { tags, summary: 'View a group', response: { 200: GroupView, ...Errors } } },
    async (request) => groupView(await service.view(request.headers.authorization, request.params.id)),
  );

  app.put<{
    Params: { id: string };
    Body: { name?: string; description?: string; metadata?: Record<string, unknown> };
  }>(
    '/groups/:id',
    {
      config: decode,
      schema: {
        tags,
        summary: 'Replace name, description and metadata',
        body: GroupBody,
        response: { 200: NoBody('Updated'), ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await service.update(request.headers.authorization, request.params.id, {
        name: b.name ?? '',
        description: b.description ?? '',
        metadata: b.metadata ?? {},
      });
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/groups/:id',
    {
      config: groups,
      schema: {
        tags,
        summary: 'Remove a group and its subtree (409 while it has members)',
        response: { 204: NoBody('Removed'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.remove(request.headers.authorization, request.params.id);
      empty(reply, 204);
    },
  );
}

/** A group's descendants and ancestors. */
function treeRoutes(app: FastifyInstance, service: GroupsService): void {
  for (const [path, summary] of [
    ['children', 'The group and its descendants down to `level`'],
    ['parents', 'The group and its ancestors up to `level`'],
  ] as const) {
    app.get<{ Params: { id: string }; Querystring: TreeQuery }>(
      `/groups/:id/${path}`,
      {
        config: groups,
        schema: { tags, summary, querystring: TreeQuery, response: { 200: GroupsPage, ...Errors } },
      },
      async (request) => {
        const q = treeQuery(request.query);
        const page = await service.related(
          request.headers.authorization,
          request.params.id,
          path,
          q.level,
          q.tree,
          q.metadata,
        );
        return { total: page.total, level: q.level, name: '', groups: page.groups.map(groupView) };
      },
    );
  }
}

/** Assigning, unassigning and listing members, and a member's groups. */
function memberRoutes(app: FastifyInstance, service: GroupsService): void {
  app.post<{ Params: { id: string }; Body: { type?: string; members?: string[] } }>(
    '/groups/:id/members',
    {
      config: { ...groups, body: 'json-any' },
      schema: {
        tags,
        summary: 'Assign members (all or none)',
        body: MembersBody,
        response: { 200: NoBody('Assigned'), ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await service.assign(request.headers.authorization, request.params.id, b.type ?? '', b.members ?? []);
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { id: string }; Body: { members?: string[] } }>(
    '/groups/:id/members',
    {
      config: { ...groups, body: 'json-any' },
      schema: {
        tags,
        summary: 'Unassign members',
        body: MembersBody,
        response: { 204: NoBody('Unassigned'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.unassign(request.headers.authorization, request.params.id, request.body.members ?? []);
      empty(reply, 204);
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/groups/:id/members',
    {
      config: groups,
      schema: {
        tags,
        summary: "A group's members",
        querystring: PageQuery,
        response: { 200: MembersPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const { offset, limit } = paging(q);
      const type = q.type || undefined;
      const page = await service.members(
        request.headers.authorization,
        request.params.id,
        type,
        offset,
        limit,
      );
      return {
        total: page.total,
        offset,
        limit,
        level: 0,
        name: '',
        // Capitalised, as 0.12.1 emits them.
        Members: page.items.map((m) => ({ ID: m.id, Type: m.type })),
      };
    },
  );

  app.get<{ Params: { memberId: string }; Querystring: PageQuery }>(
    '/members/:memberId/groups',
    {
      config: groups,
      schema: {
        tags,
        summary: "The caller's groups a member is in",
        querystring: PageQuery,
        response: { 200: MembershipsPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const { offset, limit } = paging(q);
      const page = await service.memberships(
        request.headers.authorization,
        request.params.memberId,
        jsonObject(q.metadata),
        offset,
        limit,
      );
      return { total: page.total, offset, limit, level: 0, name: '', groups: page.items.map(groupView) };
    },
  );
}

/** The things and the users in a group, as the things and users services answered them. */
function memberListRoutes(app: FastifyInstance, service: GroupsService, auth: AuthService): void {
  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/groups/things/:id',
    {
      config: { unauthenticated: 401 },
      schema: {
        tags: ['things'],
        summary: "The caller's things in a group",
        querystring: PageQuery,
        response: { 200: GroupThingsPage, ...Errors },
      },
    },
    async (request) => {
      const header = request.headers.authorization;
      if (!header) throw malformed();
      const identity = await auth.identify(header);
      const q = request.query;
      const { offset, limit } = paging(q);
      const page = await service.things(identity, request.params.id, jsonObject(q.metadata), offset, limit);
      return {
        total: page.total,
        offset: page.offset,
        limit: page.limit,
        order: '',
        direction: '',
        things: page.rows.map((t) => ({
          id: t.id,
          ...omitEmpty({ name: t.name }),
          key: t.key,
          ...omitEmpty({ metadata: t.metadata }),
        })),
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/groups/users/:id',
    {
      config: groups,
      schema: {
        tags: ['users'],
        summary: 'The accounts in a group (others only for the admin)',
        querystring: PageQuery,
        response: { 200: UsersPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const offset = count(q.offset, 0);
      const limit = count(q.limit, 10);
      if (limit > MAX_LIMIT) throw malformed();
      const page = await service.users(request.headers.authorization, request.params.id, offset, limit);
      return { total: page.total, offset, limit, users: page.rows.map(userView) };
    },
  );
}

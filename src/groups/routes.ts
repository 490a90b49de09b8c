import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { malformed } from '../errors.js';
import { flag, jsonObject, Param } from '../http/query.js';
import { Answer, Errors, Metadata, NoBody, Opt } from '../http/schemas.js';
import { empty } from '../http/server.js';
import { memberRoutes } from './member-routes.js';
import { GroupView, groupFields, groups, groupView, tags } from './schemas.js';
import type { GroupsService } from './service.js';
import { MAX_LEVEL } from './types.js';

const decode = { ...groups, body: 'json' as const, malformedMessage: 'failed to decode request body' };

const GroupBody = Type.Object({
  name: Opt(Type.String()),
  description: Opt(Type.String()),
  parent_id: Opt(Type.String()),
  metadata: Opt(Metadata),
});
// level's range is a rule checked after reading (a wrong one is malformed).
const TreeQuery = Type.Object({
  level: Param.text('1..5, default 1'),
  tree: Param.bool('true: nest children'),
  metadata: Param.json('JSON object the group metadata must contain'),
});
type TreeQuery = Static<typeof TreeQuery>;

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

/** `level` 1..5 (default 1); anything else is malformed, as 0.12.1 refuses it. */
function level(raw: string | undefined): number {
  if (raw === undefined) return 1;
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LEVEL) throw malformed();
  return Number(raw);
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
  createGroupRoute(app, service);
  listGroupsRoute(app, service);
  groupRoutes(app, service);
  treeRoutes(app, service);
  memberRoutes(app, service, auth);
}

/** A new group, under parent_id if given. */
function createGroupRoute(app: FastifyInstance, service: GroupsService): void {
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
}

/** The caller's groups, as a list or a tree. */
function listGroupsRoute(app: FastifyInstance, service: GroupsService): void {
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
}

/** View, update and remove a group. */
function groupRoutes(app: FastifyInstance, service: GroupsService): void {
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

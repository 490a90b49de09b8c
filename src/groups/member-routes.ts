import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { malformed } from '../errors.js';
import { count, jsonObject, Param } from '../http/query.js';
import { Answer, Errors, Metadata, NoBody, Opt, omitEmpty } from '../http/schemas.js';
import { empty } from '../http/server.js';
import { MAX_LIMIT } from '../things/types.js';
import { UsersPage, userView } from '../users/routes.js';
import { GroupView, groups, groupView, tags } from './schemas.js';
import type { GroupsService } from './service.js';

const MembersBody = Type.Object({ type: Opt(Type.String()), members: Opt(Type.Array(Type.String())) });
// limit's range is a rule checked after reading (a wrong one is malformed).
const PageQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, 1..100'),
  type: Param.text('member type'),
  metadata: Param.json('JSON object to contain'),
});
type PageQuery = Static<typeof PageQuery>;

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

function paging(q: PageQuery, fallbackLimit = 10): { offset: number; limit: number } {
  const offset = count(q.offset, 0);
  const limit = count(q.limit, fallbackLimit);
  if (limit < 1 || limit > MAX_LIMIT) throw malformed();
  return { offset, limit };
}

/**
 * Members: assigning and unassigning them, listing a group's and a member's groups, and
 * the two member listings other services answered in 0.12.1 (a group's things and users).
 */
export function memberRoutes(app: FastifyInstance, service: GroupsService, auth: AuthService): void {
  assignRoutes(app, service);
  membersRoute(app, service);
  membershipsRoute(app, service);
  groupThingsRoute(app, service, auth);
  groupUsersRoute(app, service);
}

/** Assign members to a group (all or none), or unassign them. */
function assignRoutes(app: FastifyInstance, service: GroupsService): void {
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
}

/** A group's members, a page at a time. */
function membersRoute(app: FastifyInstance, service: GroupsService): void {
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
}

/** The caller's groups a member is in. */
function membershipsRoute(app: FastifyInstance, service: GroupsService): void {
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

/** The caller's things in a group, as the things service answered them. */
function groupThingsRoute(app: FastifyInstance, service: GroupsService, auth: AuthService): void {
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
}

/** The accounts in a group, as the users service answered them. */
function groupUsersRoute(app: FastifyInstance, service: GroupsService): void {
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

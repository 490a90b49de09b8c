import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Answer, Errors, Metadata, Opt } from '../http/schemas.js';
import { empty } from '../http/server.js';
import { channelsRoutes } from './channel-routes.js';
import { connectionsRoutes } from './connection-routes.js';
import { identifyRoutes } from './identify-routes.js';
import {
  ChannelsPage,
  ConnectionQuery,
  Created,
  channelView,
  Done,
  fromQueryString,
  IdParam,
  type ListInput,
  ListQuery,
  pageQuery,
  Removed,
  ThingsPage,
  ThingView,
  things,
  thingView,
  wantsConnected,
} from './schemas.js';
import type { ThingsService } from './service.js';

const tags = ['things'];

const ThingBody = Type.Object(
  { name: Opt(Type.String()), key: Opt(Type.String()), metadata: Opt(Metadata) },
  { examples: [{ name: 'sensor-1', metadata: { site: 'north', serial: '123456' } }] },
);

type ThingInput = { name?: string | null; key?: string | null; metadata?: Record<string, unknown> | null };
const clean = (t: ThingInput) => ({
  name: t.name ?? undefined,
  key: t.key ?? undefined,
  metadata: t.metadata ?? undefined,
});

/** Things, channels, their connections, and the identify API (API.md §3). */
export function thingsRoutes(app: FastifyInstance, service: ThingsService): void {
  createThingRoutes(app, service);
  thingRoutes(app, service);
  thingKeyRoute(app, service);
  listThingsRoutes(app, service);
  thingChannelsRoute(app, service);
  channelsRoutes(app, service);
  connectionsRoutes(app, service);
  identifyRoutes(app, service);
}

/** Create one thing (the deprecated form) or many, all or nothing. */
function createThingRoutes(app: FastifyInstance, service: ThingsService): void {
  app.post<{ Body: ThingInput }>(
    '/things',
    {
      config: { ...things, body: 'json', idempotent: true },
      schema: {
        tags,
        summary: 'Create a thing',
        body: ThingBody,
        response: { 201: Created('Thing'), ...Errors },
      },
    },
    async (request, reply) => {
      const [thing] = await service.createThings(request.headers.authorization, [clean(request.body)]);
      reply.header('Location', `/things/${thing!.id}`);
      reply.header(
        'Warning-Deprecated',
        'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint currently found at /things/bulk.',
      );
      empty(reply, 201);
    },
  );

  app.post<{ Body: ThingInput[] }>(
    '/things/bulk',
    {
      config: { ...things, body: 'json', idempotent: true },
      schema: {
        tags,
        summary: 'Create many things, all or nothing',
        body: Type.Array(ThingBody),
        response: { 201: Answer('The things created', { things: Type.Array(ThingView) }), ...Errors },
      },
    },
    async (request, reply) => {
      const created = await service.createThings(request.headers.authorization, request.body.map(clean));
      reply.code(201).send({ things: created.map(thingView) });
    },
  );
}

/** View, update and remove a thing. */
function thingRoutes(app: FastifyInstance, service: ThingsService): void {
  app.get<{ Params: { id: string } }>(
    '/things/:id',
    {
      config: things,
      schema: { tags, summary: 'View a thing', params: IdParam, response: { 200: ThingView, ...Errors } },
    },
    async (request) => thingView(await service.viewThing(request.headers.authorization, request.params.id)),
  );

  app.put<{
    Params: { id: string };
    Body: { name?: string | null; metadata?: Record<string, unknown> | null };
  }>(
    '/things/:id',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Replace name and metadata',
        params: IdParam,
        body: ThingBody,
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.updateThing(
        request.headers.authorization,
        request.params.id,
        request.body.name ?? undefined,
        request.body.metadata ?? undefined,
      );
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/things/:id',
    {
      config: things,
      schema: {
        tags,
        summary: 'Remove a thing (204 also when missing)',
        params: IdParam,
        response: { 204: Removed, ...Errors },
      },
    },
    async (request, reply) => {
      await service.removeThing(request.headers.authorization, request.params.id);
      empty(reply, 204);
    },
  );
}

/** Change a thing's key. */
function thingKeyRoute(app: FastifyInstance, service: ThingsService): void {
  app.patch<{ Params: { id: string }; Body: { key?: string | null } }>(
    '/things/:id/key',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: "Change a thing's key",
        params: IdParam,
        body: Type.Object({ key: Opt(Type.String()) }),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.updateKey(request.headers.authorization, request.params.id, request.body.key ?? '');
      empty(reply, 200);
    },
  );
}

/** The caller's things: a page by query string, or a search by body. */
function listThingsRoutes(app: FastifyInstance, service: ThingsService): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/things',
    {
      config: things,
      schema: {
        tags,
        summary: 'List things',
        querystring: ListQuery,
        response: { 200: ThingsPage, ...Errors },
      },
    },
    async (request) => {
      const { query, echo } = fromQueryString(request.query, false);
      const page = await service.listThings(request.headers.authorization, query);
      return { total: page.total, ...echo, things: page.items.map(thingView) };
    },
  );

  app.post<{ Body: ListInput & { offset?: number; limit?: number } }>(
    '/things/search',
    {
      config: { ...things, body: 'json-any' },
      schema: {
        tags,
        summary: 'Search things by name and metadata',
        body: Type.Object({
          // Bounded so a huge offset is a 400, not a database overflow.
          offset: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
          limit: Opt(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
          name: Opt(Type.String()),
          order: Opt(Type.String()),
          dir: Opt(Type.String()),
          metadata: Opt(Metadata),
        }),
        response: { 200: ThingsPage, ...Errors },
      },
    },
    async (request) => {
      const b = request.body;
      const { query, echo } = pageQuery(
        {
          offset: b.offset ?? 0,
          limit: b.limit ?? 0,
          name: b.name ?? undefined,
          metadata: b.metadata ?? undefined,
          order: b.order ?? undefined,
          dir: b.dir ?? undefined,
        },
        false,
      );
      const page = await service.listThings(request.headers.authorization, query);
      return { total: page.total, ...echo, things: page.items.map(thingView) };
    },
  );
}

/** The channels a thing is connected to, or with disconnected=true, the others. */
function thingChannelsRoute(app: FastifyInstance, service: ThingsService): void {
  app.get<{ Params: { id: string }; Querystring: Static<typeof ConnectionQuery> }>(
    '/things/:id/channels',
    {
      config: things,
      schema: {
        tags,
        summary: "A thing's channels (or, with disconnected=true, the others)",
        params: IdParam,
        querystring: ConnectionQuery,
        response: { 200: ChannelsPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const { query, echo } = fromQueryString(q, true);
      const page = await service.channelsOfThing(
        request.headers.authorization,
        request.params.id,
        query,
        wantsConnected(q),
      );
      return { total: page.total, ...echo, channels: page.items.map(channelView) };
    },
  );
}

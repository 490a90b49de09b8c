import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { malformed, notFound, unauthenticated } from '../errors.js';
import { count, flag, jsonObject, Param, saysFalse } from '../http/query.js';
import {
  Answer,
  DEPRECATED_HEADER,
  Errors,
  Metadata,
  NoBody,
  Opt,
  omitEmpty,
  Public,
} from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { ThingsService } from './service.js';
import {
  byteLength,
  type Channel,
  type Direction,
  isUuid,
  MAX_LIMIT,
  MAX_NAME,
  type Order,
  type PageQuery,
  type Thing,
} from './types.js';

const things = { unauthenticated: 401 as const };

export const thingView = (t: Thing) => ({
  id: t.id,
  ...omitEmpty({ name: t.name }),
  key: t.key,
  ...omitEmpty({ metadata: t.metadata }),
});
export const channelView = (c: Channel) => ({
  id: c.id,
  ...omitEmpty({ name: c.name, metadata: c.metadata }),
});

function order(value: string | undefined): Order | '' {
  if (value === undefined || value === '') return '';
  if (value === 'name' || value === 'id') return value;
  throw malformed();
}

function direction(value: string | undefined): Direction | '' {
  if (value === undefined || value === '') return '';
  if (value === 'asc' || value === 'desc') return value;
  throw malformed();
}

interface ListInput {
  offset: number;
  limit: number;
  name?: string;
  metadata?: Record<string, unknown>;
  order?: string;
  dir?: string;
}

/** Listing rules of API.md §3.4; returns the query and what the page echoes. */
function pageQuery(input: ListInput, connectionList: boolean) {
  if (connectionList && input.limit === 0) throw malformed();
  const limit = input.limit === 0 ? 10 : input.limit;
  if (limit > MAX_LIMIT) throw malformed();
  if (byteLength(input.name ?? '') > MAX_NAME) throw malformed();
  const o = order(input.order);
  const d = direction(input.dir);
  const query: PageQuery = {
    offset: input.offset,
    limit,
    name: input.name || undefined,
    metadata: input.metadata,
    order: o === 'name' ? 'name' : 'id',
    // Mainflux sorts newest-looking first: the default direction is descending.
    dir: d === 'asc' ? 'asc' : 'desc',
  };
  return {
    query,
    echo: { offset: input.offset, limit, order: connectionList ? '' : o, direction: connectionList ? '' : d },
  };
}

function fromQueryString(
  q: Static<typeof ListQuery> & Static<typeof ConnectionQuery>,
  connectionList: boolean,
) {
  return pageQuery(
    {
      offset: count(q.offset, 0),
      limit: count(q.limit, 10),
      name: connectionList ? undefined : q.name,
      metadata: connectionList ? undefined : jsonObject(q.metadata),
      order: q.order,
      dir: q.dir,
    },
    connectionList,
  );
}

/**
 * `disconnected=true` (0.12.1) or `connected=false` (the seed document) list the
 * complement. 0.12.1 ignores `connected`, so any other value of it is ignored too.
 */
function wantsConnected(q: Static<typeof ConnectionQuery>): boolean {
  return !flag(q.disconnected, false) && !saysFalse(q.connected);
}

// order and dir are checked by the listing rules (pageQuery), after every parameter
// has been read, as 0.12.1 validates them: a wrong one is malformed, not an invalid query.
const ListQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, at most 100'),
  name: Param.text('case-insensitive substring of the name'),
  metadata: Param.json('JSON object the metadata must contain, e.g. {"serial":"123"}'),
  order: Param.text('name | id'),
  dir: Param.text('asc | desc (default desc)'),
});

const ConnectionQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, 1..100'),
  order: Param.text('name | id'),
  dir: Param.text('asc | desc'),
  disconnected: Param.bool('true: list the complement'),
  connected: Param.ignored('false: list the complement (seed document spelling)'),
});

const ThingBody = Type.Object(
  { name: Opt(Type.String()), key: Opt(Type.String()), metadata: Opt(Metadata) },
  { examples: [{ name: 'sensor-1', metadata: { site: 'north', serial: '123456' } }] },
);

// ---- answers (thingView and channelView above make them) --------------------------
export const ThingView = Answer('A thing (name and metadata left out when empty)', {
  id: Type.String(),
  name: Type.Optional(Type.String()),
  key: Type.String(),
  metadata: Type.Optional(Metadata),
});
export const ChannelView = Answer('A channel (name and metadata left out when empty)', {
  id: Type.String(),
  name: Type.Optional(Type.String()),
  metadata: Type.Optional(Metadata),
});
/** A page of a list: the total, the request's paging echoed ('' for an order or direction not given), the items. */
const PageOf = (items: 'things' | 'channels') =>
  Answer(`A page of ${items}`, {
    total: Type.Integer(),
    offset: Type.Integer(),
    limit: Type.Integer(),
    order: Type.String(),
    direction: Type.String(),
    [items]: Type.Array(items === 'things' ? ThingView : ChannelView),
  });
const ThingsPage = PageOf('things');
const ChannelsPage = PageOf('channels');
const Identified = Answer('The thing', { id: Type.String() });
const Done = NoBody('Done');
const Removed = NoBody('Removed (also when there was nothing to remove)');
const Created = (what: string) =>
  NoBody(`${what} created`, { Location: `the new ${what.toLowerCase()}`, ...DEPRECATED_HEADER });
const ChannelBody = Type.Object(
  { name: Opt(Type.String()), metadata: Opt(Metadata) },
  { examples: [{ name: 'telemetry', metadata: { type: 'data' } }] },
);
const IdParam = Type.Object({ id: Type.String() });

type ThingInput = { name?: string | null; key?: string | null; metadata?: Record<string, unknown> | null };
const clean = (t: ThingInput) => ({
  name: t.name ?? undefined,
  key: t.key ?? undefined,
  metadata: t.metadata ?? undefined,
});

export function thingsRoutes(app: FastifyInstance, service: ThingsService): void {
  const tags = ['things'];
  app.post<{ Body: ThingInput }>(
    '/things',
    {
      config: { ...things, body: 'json' },
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
      config: { ...things, body: 'json' },
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

  channelsRoutes(app, service);
  connectionsRoutes(app, service);
  identifyRoutes(app, service);
}

function channelsRoutes(app: FastifyInstance, service: ThingsService): void {
  const tags = ['channels'];
  type ChannelInput = { name?: string | null; metadata?: Record<string, unknown> | null };
  const clean = (c: ChannelInput) => ({ name: c.name ?? undefined, metadata: c.metadata ?? undefined });

  app.post<{ Body: ChannelInput }>(
    '/channels',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Create a channel',
        body: ChannelBody,
        response: { 201: Created('Channel'), ...Errors },
      },
    },
    async (request, reply) => {
      const [channel] = await service.createChannels(request.headers.authorization, [clean(request.body)]);
      reply.header('Location', `/channels/${channel!.id}`);
      reply.header(
        'Warning-Deprecated',
        'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint currently found at /channels/bulk.',
      );
      empty(reply, 201);
    },
  );

  app.post<{ Body: ChannelInput[] }>(
    '/channels/bulk',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Create many channels, all or nothing',
        body: Type.Array(ChannelBody),
        response: { 201: Answer('The channels created', { channels: Type.Array(ChannelView) }), ...Errors },
      },
    },
    async (request, reply) => {
      const created = await service.createChannels(request.headers.authorization, request.body.map(clean));
      reply.code(201).send({ channels: created.map(channelView) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/channels/:id',
    {
      config: things,
      schema: { tags, summary: 'View a channel', params: IdParam, response: { 200: ChannelView, ...Errors } },
    },
    async (request) =>
      channelView(await service.viewChannel(request.headers.authorization, request.params.id)),
  );

  app.put<{ Params: { id: string }; Body: ChannelInput }>(
    '/channels/:id',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Replace name and metadata',
        params: IdParam,
        body: ChannelBody,
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.updateChannel(
        request.headers.authorization,
        request.params.id,
        request.body.name ?? undefined,
        request.body.metadata ?? undefined,
      );
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/channels/:id',
    {
      config: things,
      schema: {
        tags,
        summary: 'Remove a channel (204 always)',
        params: IdParam,
        response: { 204: Removed, ...Errors },
      },
    },
    async (request, reply) => {
      await service.removeChannel(request.headers.authorization, request.params.id);
      empty(reply, 204);
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/channels',
    {
      config: things,
      schema: {
        tags,
        summary: 'List channels',
        querystring: ListQuery,
        response: { 200: ChannelsPage, ...Errors },
      },
    },
    async (request) => {
      const { query, echo } = fromQueryString(request.query, false);
      const page = await service.listChannels(request.headers.authorization, query);
      return { total: page.total, ...echo, channels: page.items.map(channelView) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: Static<typeof ConnectionQuery> }>(
    '/channels/:id/things',
    {
      config: things,
      schema: {
        tags,
        summary: "A channel's things (or, with disconnected=true, the others)",
        params: IdParam,
        querystring: ConnectionQuery,
        response: { 200: ThingsPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const { query, echo } = fromQueryString(q, true);
      const page = await service.thingsOfChannel(
        request.headers.authorization,
        request.params.id,
        query,
        wantsConnected(q),
      );
      return { total: page.total, ...echo, things: page.items.map(thingView) };
    },
  );
}

function connectionsRoutes(app: FastifyInstance, service: ThingsService): void {
  const tags = ['connections'];
  app.post<{ Body: { channel_ids?: string[] | null; thing_ids?: string[] | null } }>(
    '/connect',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Connect every listed channel with every listed thing, all or nothing',
        body: Type.Object(
          {
            channel_ids: Opt(Type.Array(Type.String())),
            thing_ids: Opt(Type.Array(Type.String())),
          },
          {
            examples: [
              {
                channel_ids: ['3a0b0e16-0b1a-4b5f-9a8e-1c5d2f0e7a44'],
                thing_ids: ['5b68df78-86f7-4c2b-8a5e-2e1bde5e4b6b'],
              },
            ],
          },
        ),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.connect(
        request.headers.authorization,
        request.body.channel_ids ?? [],
        request.body.thing_ids ?? [],
      );
      empty(reply, 200);
    },
  );

  const Pair = Type.Object({ chanId: Type.String(), thingId: Type.String() });
  app.put<{ Params: { chanId: string; thingId: string } }>(
    '/channels/:chanId/things/:thingId',
    {
      config: things,
      schema: {
        tags,
        summary: 'Connect one thing to one channel',
        params: Pair,
        response: { 200: NoBody('Connected', DEPRECATED_HEADER), ...Errors },
      },
    },
    async (request, reply) => {
      await service.connect(request.headers.authorization, [request.params.chanId], [request.params.thingId]);
      reply.header(
        'Warning-Deprecated',
        'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint found at /connect.',
      );
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { chanId: string; thingId: string } }>(
    '/channels/:chanId/things/:thingId',
    {
      config: things,
      schema: {
        tags,
        summary: 'Disconnect a thing from a channel',
        params: Pair,
        response: { 204: NoBody('Disconnected'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.disconnect(request.headers.authorization, request.params.chanId, request.params.thingId);
      empty(reply, 204);
    },
  );
}

/** The internal thing-auth API that message adapters use (API.md §3.7). */
function identifyRoutes(app: FastifyInstance, service: ThingsService): void {
  const tags = ['identify'];
  const access = service.access;
  const Token = Type.Object({ token: Opt(Type.String()) });

  app.post<{ Body: { token?: string | null } }>(
    '/identify',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'Thing key → thing id',
        body: Token,
        response: { 200: Identified, ...Errors },
        ...Public,
      },
    },
    async (request) => {
      const key = request.body.token ?? '';
      if (!key) throw unauthenticated();
      const id = await access.identify(key);
      if (!id) throw notFound();
      return { id };
    },
  );

  app.post<{ Params: { chanId: string }; Body: { token?: string | null } }>(
    '/identify/channels/:chanId/access-by-key',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'May the thing with this key use the channel?',
        body: Token,
        response: { 200: Identified, ...Errors },
        ...Public,
      },
    },
    async (request) => {
      const key = request.body.token ?? '';
      if (!key) throw unauthenticated();
      const id = isUuid(request.params.chanId)
        ? await access.canAccessByKey(request.params.chanId.toLowerCase(), key)
        : null;
      if (!id) throw notFound();
      return { id };
    },
  );

  app.post<{ Params: { chanId: string }; Body: { thing_id?: string | null } }>(
    '/identify/channels/:chanId/access-by-id',
    {
      config: { ...things, body: 'json' },
      schema: {
        tags,
        summary: 'May this thing use the channel?',
        body: Type.Object({ thing_id: Opt(Type.String()) }),
        response: { 200: NoBody('It may'), ...Errors },
        ...Public,
      },
    },
    async (request, reply) => {
      const thingId = request.body.thing_id ?? '';
      if (!thingId) throw unauthenticated();
      const { chanId } = request.params;
      const ok =
        isUuid(chanId) &&
        isUuid(thingId) &&
        (await access.isConnected(chanId.toLowerCase(), thingId.toLowerCase()));
      if (!ok) throw notFound();
      empty(reply, 200);
    },
  );
}

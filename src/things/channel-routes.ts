import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Answer, Errors, Metadata, Opt } from '../http/schemas.js';
import { empty } from '../http/server.js';
import {
  ChannelsPage,
  ChannelView,
  ConnectionQuery,
  Created,
  channelView,
  Done,
  fromQueryString,
  IdParam,
  ListQuery,
  Removed,
  ThingsPage,
  things,
  thingView,
  wantsConnected,
} from './schemas.js';
import type { ThingsService } from './service.js';

const tags = ['channels'];

const ChannelBody = Type.Object(
  { name: Opt(Type.String()), metadata: Opt(Metadata) },
  { examples: [{ name: 'telemetry', metadata: { type: 'data' } }] },
);
type ChannelInput = { name?: string | null; metadata?: Record<string, unknown> | null };
const clean = (c: ChannelInput) => ({ name: c.name ?? undefined, metadata: c.metadata ?? undefined });

/** Channels (API.md §3.2, listed by §3.4's rules); thingsRoutes registers them after the things. */
export function channelsRoutes(app: FastifyInstance, service: ThingsService): void {
  createChannelRoutes(app, service);
  channelRoutes(app, service);
  listChannelsRoute(app, service);
  channelThingsRoute(app, service);
}

/** Create one channel (the deprecated form) or many, all or nothing. */
function createChannelRoutes(app: FastifyInstance, service: ThingsService): void {
  app.post<{ Body: ChannelInput }>(
    '/channels',
    {
      config: { ...things, body: 'json', idempotent: true },
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
      config: { ...things, body: 'json', idempotent: true },
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
}

/** View, update and remove a channel. */
function channelRoutes(app: FastifyInstance, service: ThingsService): void {
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
}

/** The caller's channels, a page at a time. */
function listChannelsRoute(app: FastifyInstance, service: ThingsService): void {
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
}

/** The things connected to a channel, or with disconnected=true, the others. */
function channelThingsRoute(app: FastifyInstance, service: ThingsService): void {
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

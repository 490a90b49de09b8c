import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DEPRECATED_HEADER, Errors, NoBody, Opt } from '../http/schemas.js';
import { empty } from '../http/server.js';
import { Done, things } from './schemas.js';
import type { ThingsService } from './service.js';

const tags = ['connections'];

/** Connecting things and channels (API.md §3.3): many at once, or one pair. */
export function connectionsRoutes(app: FastifyInstance, service: ThingsService): void {
  connectRoute(app, service);
  pairRoutes(app, service);
}

/** Every listed channel with every listed thing, all or nothing. */
function connectRoute(app: FastifyInstance, service: ThingsService): void {
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
}

const Pair = Type.Object({ chanId: Type.String(), thingId: Type.String() });

/** Connect or disconnect one thing and one channel. */
function pairRoutes(app: FastifyInstance, service: ThingsService): void {
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

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { notFound, unauthenticated } from '../errors.js';
import { Answer, Errors, NoBody, Opt, Public } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { ThingAccess } from './access.js';
import { things } from './schemas.js';
import type { ThingsService } from './service.js';
import { isUuid } from './types.js';

const tags = ['identify'];
const Token = Type.Object({ token: Opt(Type.String()) });
const Identified = Answer('The thing', { id: Type.String() });

/** The internal thing-auth API that message adapters use (API.md §3.7). */
export function identifyRoutes(app: FastifyInstance, service: ThingsService): void {
  identifyRoute(app, service.access);
  accessRoutes(app, service.access);
}

/** A thing key's thing. */
function identifyRoute(app: FastifyInstance, access: ThingAccess): void {
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
}

/** May a thing, by its key or its id, use a channel? */
function accessRoutes(app: FastifyInstance, access: ThingAccess): void {
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

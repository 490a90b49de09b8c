import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Opt } from '../http/schemas.js';
import { channelView, thingView } from '../things/routes.js';
import type { MappingResult, ProvisionService } from './service.js';

const provision = { unauthenticated: 401 as const };
const tags = ['provision'];

/** The seed document's response shape (API.md §5); empty maps are left out. */
function resultView(r: MappingResult) {
  const nonEmpty = (m: Record<string, unknown>) => (Object.keys(m).length ? m : undefined);
  return {
    things: r.things.map(thingView),
    channels: r.channels.map(channelView),
    client_cert: nonEmpty(r.clientCert),
    client_key: nonEmpty(r.clientKey),
    ca_cert: r.caCert || undefined,
    whitelisted: nonEmpty(r.whitelisted),
  };
}

export function provisionRoutes(app: FastifyInstance, service: ProvisionService): void {
  app.post<{ Body: { external_id?: string | null; external_key?: string | null; name?: string | null } }>(
    '/mapping',
    {
      config: { ...provision, body: 'json-exact' },
      schema: {
        tags,
        summary:
          "Provision a gateway: the layout's things and channels, bootstrap configs, connections and certificates, all or nothing",
        body: Type.Object({
          external_id: Opt(Type.String()),
          external_key: Opt(Type.String()),
          name: Opt(Type.String()),
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await service.provision(request.headers.authorization, {
        externalId: b.external_id ?? '',
        externalKey: b.external_key ?? '',
        name: b.name ?? undefined,
      });
      reply.code(201).send(resultView(result));
    },
  );

  app.get(
    '/mapping',
    { config: provision, schema: { tags, summary: 'The bootstrap content provisioned configs get' } },
    async (request, reply) => {
      reply
        .type('application/json')
        .send(JSON.stringify(await service.content(request.headers.authorization)));
    },
  );
}

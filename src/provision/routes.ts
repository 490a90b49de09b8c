import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { userScope } from '../http/idempotency.js';
import { Answer, Errors, Metadata, Opt } from '../http/schemas.js';
import { ChannelView, channelView, ThingView, thingView } from '../things/schemas.js';
import type { MappingResult, ProvisionService } from './service.js';

const provision = { unauthenticated: 401 as const };
const tags = ['provision'];

const ByThing = (what: string, value: ReturnType<typeof Type.String> | ReturnType<typeof Type.Boolean>) =>
  Type.Optional(
    Type.Record(Type.String(), value, { description: `${what}, by thing id (left out when empty)` }),
  );
const Provisioned = Answer("What was provisioned (the seed document's shape)", {
  things: Type.Array(ThingView),
  channels: Type.Array(ChannelView),
  client_cert: ByThing('client certificates, PEM', Type.String()),
  client_key: ByThing('their private keys, PEM', Type.String()),
  ca_cert: Type.Optional(Type.String({ description: 'the issuing CA, PEM' })),
  whitelisted: ByThing('things whose config is active', Type.Boolean()),
});

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
  app.post<{
    Body: {
      external_id?: string | null;
      external_key?: string | null;
      name?: string | null;
      layout?: string | null;
      parameters?: Record<string, unknown> | null;
    };
  }>(
    '/mapping',
    {
      config: {
        ...provision,
        body: 'json-exact',
        // The caller may be the configured account (a request without Authorization).
        idempotent: {
          scope: async (request) => userScope(await service.credentials(request.headers.authorization)),
        },
      },
      schema: {
        tags,
        summary:
          "Provision a gateway: the layout's things and channels, bootstrap configs, connections and certificates, all or nothing",
        body: Type.Object(
          {
            external_id: Opt(Type.String()),
            external_key: Opt(Type.String()),
            name: Opt(Type.String()),
            layout: Opt(
              Type.String({
                description:
                  "a named layout of yours (POST /layouts), or default; absent: the server's layout",
              }),
            ),
            parameters: Opt(
              Type.Record(Type.String(), Type.Unknown(), {
                description:
                  "values of the layout's parameters: strings, integers or booleans, as each declares",
              }),
            ),
          },
          {
            examples: [
              { external_id: '02:42:ac:11:00:02', external_key: 'a-secret-of-the-gateway', name: 'edge-gw' },
              {
                external_id: '02:42:ac:11:00:03',
                external_key: 'another-secret',
                layout: 'sensor-v2',
                parameters: { site: 'plant-a' },
              },
            ],
          },
        ),
        response: { 201: Provisioned, ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const result = await service.provision(request.headers.authorization, {
        externalId: b.external_id ?? '',
        externalKey: b.external_key ?? '',
        name: b.name ?? undefined,
        layout: b.layout ?? undefined,
        parameters: b.parameters ?? undefined,
      });
      reply.code(201).send(resultView(result));
    },
  );

  app.get(
    '/mapping',
    {
      config: provision,
      schema: {
        tags,
        summary: 'The bootstrap content provisioned configs get',
        response: {
          200: Type.Union([Metadata, Type.Null()], {
            description: "The layout's [bootstrap.content], or null",
          }),
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      reply
        .type('application/json')
        .send(JSON.stringify(await service.content(request.headers.authorization)));
    },
  );
}

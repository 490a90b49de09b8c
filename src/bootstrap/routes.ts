import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { count, Param } from '../http/query.js';
import { Answer, Errors, ExternalKey, Metadata, NoBody, Opt } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { BootstrapService } from './service.js';
import type { BootstrapConfig } from './types.js';

const bootstrap = { unauthenticated: 403 as const };
const tags = ['bootstrap'];

/** Config view (API.md §4.2); the list leaves the channels out. */
function configView(c: BootstrapConfig, withChannels: boolean) {
  return {
    mainflux_id: c.thingId,
    mainflux_key: c.thingKey,
    ...(withChannels && c.channels.length
      ? {
          mainflux_channels: c.channels.map((ch) => ({
            id: ch.id,
            ...(ch.name ? { name: ch.name } : {}),
            metadata: Object.keys(ch.metadata).length ? ch.metadata : null,
          })),
        }
      : {}),
    external_id: c.externalId,
    ...(c.externalKey ? { external_key: c.externalKey } : {}),
    ...(c.content ? { content: c.content } : {}),
    ...(c.name ? { name: c.name } : {}),
    state: c.state,
  };
}

/** Bootstrap reads its own query leniently (API.md §4.6): no repetition check. */
/**
 * The listing's parameters. As Go's `Query().Get` reads them, a repeated one counts as
 * its first value (the route's `query: 'first'`), and a bad offset or limit is worded
 * after the parameter.
 */
const ConfigsQuery = Type.Object({
  offset: Param.uint('default 0', { error: 'invalid offset query param', empty: true }),
  limit: Param.uint('default 10, at most 100 (larger: 100)', {
    error: 'invalid limit query param',
    empty: true,
  }),
  state: Param.oneOf(['', '0', '1'], '0 inactive | 1 active'),
  external_id: Param.text('exact'),
  mainflux_id: Param.text('thing id, exact'),
  mainflux_key: Param.text('thing key, exact'),
  name: Param.text('case-insensitive substring'),
});

const NewConfigBody = Type.Object(
  {
    thing_id: Opt(Type.String()),
    external_id: Opt(Type.String()),
    external_key: Opt(Type.String()),
    channels: Opt(Type.Array(Type.String())),
    name: Opt(Type.String()),
    content: Opt(Type.String()),
    client_cert: Opt(Type.String()),
    client_key: Opt(Type.String()),
    ca_cert: Opt(Type.String()),
  },
  {
    examples: [
      {
        external_id: '02:42:ac:11:00:02',
        external_key: 'a-secret-of-the-gateway',
        name: 'edge-gw',
        channels: ['3a0b0e16-0b1a-4b5f-9a8e-1c5d2f0e7a44'],
        content: '{"agent":{"heartbeat":{"interval":"10s"}}}',
      },
    ],
  },
);
type NewConfigInput = { [K in keyof typeof NewConfigBody.static]?: string | string[] | null };

const IdParam = Type.Object({ id: Type.String() });

// ---- answers (configView and deviceConfig make them) ------------------------------
export const ConfigChannel = Type.Object(
  { id: Type.String(), name: Type.Optional(Type.String()), metadata: Type.Union([Metadata, Type.Null()]) },
  { additionalProperties: false },
);
/** Fields a config view leaves out when empty are optional; the list leaves the channels out. */
const configFields = {
  mainflux_id: Type.String(),
  mainflux_key: Type.String(),
  mainflux_channels: Type.Optional(Type.Array(ConfigChannel)),
  external_id: Type.String(),
  external_key: Type.Optional(Type.String()),
  content: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  state: Type.Integer({ description: '0 inactive, 1 active' }),
};
const ConfigView = Answer('A bootstrap config', configFields);
const ConfigsPage = Answer('A page of bootstrap configs (without their channels)', {
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  configs: Type.Array(Type.Object(configFields, { additionalProperties: false })),
});
export const DeviceConfig = Answer("What a gateway receives (the Mainflux Agent's format)", {
  mainflux_id: Type.String(),
  mainflux_key: Type.String(),
  mainflux_channels: Type.Union([Type.Array(ConfigChannel), Type.Null()]),
  content: Type.Optional(Type.String()),
  client_cert: Type.Optional(Type.String()),
  client_key: Type.Optional(Type.String()),
  ca_cert: Type.Optional(Type.String()),
});
const Done = NoBody('Done');

/** Bootstrap (API.md §4): the operator's configs and their parts, and a gateway's fetch. */
export function bootstrapRoutes(app: FastifyInstance, service: BootstrapService): void {
  createConfigRoute(app, service);
  listConfigsRoute(app, service);
  configRoutes(app, service);
  configPartRoutes(app, service);
  configStateRoute(app, service);
  deviceRoutes(app, service);
}

/** A new config, and its thing unless it names one. */
function createConfigRoute(app: FastifyInstance, service: BootstrapService): void {
  app.post<{ Body: NewConfigInput }>(
    '/things/configs',
    {
      config: { ...bootstrap, body: 'json' },
      schema: {
        tags,
        summary: 'Create a bootstrap config (and its thing unless thing_id is given)',
        body: NewConfigBody,
        response: { 201: NoBody('Created', { Location: 'the new config (by its thing id)' }), ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body as Record<string, any>;
      const id = await service.add(request.headers.authorization, {
        thingId: b.thing_id ?? undefined,
        externalId: b.external_id ?? '',
        externalKey: b.external_key ?? '',
        channels: b.channels ?? [],
        name: b.name ?? undefined,
        content: b.content ?? undefined,
        certs: { clientCert: b.client_cert ?? '', clientKey: b.client_key ?? '', caCert: b.ca_cert ?? '' },
      });
      reply.header('Location', `/things/configs/${id}`);
      empty(reply, 201);
    },
  );
}

/** The operator's configs, a page at a time, without their channels. */
function listConfigsRoute(app: FastifyInstance, service: BootstrapService): void {
  app.get<{ Querystring: Static<typeof ConfigsQuery> }>(
    '/things/configs',
    {
      config: { ...bootstrap, query: 'first' },
      schema: {
        tags,
        summary: 'List bootstrap configs',
        querystring: ConfigsQuery,
        response: { 200: ConfigsPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const offset = count(q.offset || undefined, 0);
      const limit = Math.min(count(q.limit || undefined, 10) || 10, 100);
      const page = await service.list(
        request.headers.authorization,
        {
          state: q.state ? Number(q.state) : undefined,
          externalId: q.external_id || undefined,
          thingId: q.mainflux_id || undefined,
          thingKey: q.mainflux_key || undefined,
          name: q.name || undefined,
        },
        offset,
        limit,
      );
      return { total: page.total, offset, limit, configs: page.configs.map((c) => configView(c, false)) };
    },
  );
}

/** View, replace and remove one config. */
function configRoutes(app: FastifyInstance, service: BootstrapService): void {
  app.get<{ Params: { id: string } }>(
    '/things/configs/:id',
    {
      config: bootstrap,
      schema: {
        tags,
        summary: 'View a bootstrap config',
        params: IdParam,
        response: { 200: ConfigView, ...Errors },
      },
    },
    async (request) => configView(await service.view(request.headers.authorization, request.params.id), true),
  );

  app.put<{ Params: { id: string }; Body: { name?: string | null; content?: string | null } }>(
    '/things/configs/:id',
    {
      config: { ...bootstrap, body: 'json' },
      schema: {
        tags,
        summary: 'Replace name and content',
        params: IdParam,
        body: Type.Object({ name: Opt(Type.String()), content: Opt(Type.String()) }),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.update(
        request.headers.authorization,
        request.params.id,
        request.body.name ?? '',
        request.body.content ?? '',
      );
      empty(reply, 200);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/things/configs/:id',
    {
      config: bootstrap,
      schema: {
        tags,
        summary: 'Remove a config (the thing and its connections stay)',
        params: IdParam,
        response: { 204: NoBody('Removed (also when there was none)'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.remove(request.headers.authorization, request.params.id);
      empty(reply, 204);
    },
  );
}

/** A config's parts: the certificates a gateway receives, and its channels. */
function configPartRoutes(app: FastifyInstance, service: BootstrapService): void {
  app.patch<{
    Params: { id: string };
    Body: { client_cert?: string | null; client_key?: string | null; ca_cert?: string | null };
  }>(
    '/things/configs/certs/:id',
    {
      config: { ...bootstrap, body: 'json' },
      schema: {
        tags,
        summary: 'Replace the certificates a gateway receives',
        params: IdParam,
        body: Type.Object({
          client_cert: Opt(Type.String()),
          client_key: Opt(Type.String()),
          ca_cert: Opt(Type.String()),
        }),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await service.updateCerts(request.headers.authorization, request.params.id, {
        clientCert: b.client_cert ?? '',
        clientKey: b.client_key ?? '',
        caCert: b.ca_cert ?? '',
      });
      empty(reply, 200);
    },
  );

  app.put<{ Params: { id: string }; Body: { channels?: string[] | null } }>(
    '/things/configs/connections/:id',
    {
      config: { ...bootstrap, body: 'json' },
      schema: {
        tags,
        summary: "Replace the config's channels (an active config's connections follow)",
        params: IdParam,
        body: Type.Object({ channels: Opt(Type.Array(Type.String())) }),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.updateConnections(
        request.headers.authorization,
        request.params.id,
        request.body.channels ?? [],
      );
      empty(reply, 200);
    },
  );
}

/** Whitelisting: activate a config (its thing is connected to its channels) or deactivate it. */
function configStateRoute(app: FastifyInstance, service: BootstrapService): void {
  app.put<{ Params: { id: string }; Body: { state?: number | null } }>(
    '/things/state/:id',
    {
      config: { ...bootstrap, body: 'json' },
      schema: {
        tags,
        summary: 'Whitelist (1: connect to the config channels) or deactivate (0)',
        params: IdParam,
        body: Type.Object({ state: Opt(Type.Integer()) }),
        response: { 200: Done, ...Errors },
      },
    },
    async (request, reply) => {
      await service.changeState(request.headers.authorization, request.params.id, request.body.state ?? 0);
      empty(reply, 200);
    },
  );
}

const device = {
  tags: ['bootstrap (gateway)'],
  params: Type.Object({ externalId: Type.String() }),
  ...ExternalKey,
};

/** A gateway fetches its config: in the clear, CFB-encrypted (the Agent's), or sealed. */
function deviceRoutes(app: FastifyInstance, service: BootstrapService): void {
  app.get<{ Params: { externalId: string } }>(
    '/things/bootstrap/:externalId',
    {
      config: bootstrap,
      schema: {
        ...device,
        summary: 'A gateway fetches its config; Authorization: <external key>',
        response: { 200: DeviceConfig, ...Errors },
      },
    },
    async (request) => service.fetch(request.params.externalId, request.headers.authorization, request.ip),
  );

  bytesFetchRoute(
    app,
    '/things/bootstrap/secure/:externalId',
    'The same, AES-CFB encrypted both ways (Authorization: hex(iv ‖ encrypted key))',
    {
      description:
        'The config as above, encrypted (AES-CFB with MF_BOOTSTRAP_ENCRYPT_KEY: IV, then ciphertext); labelled application/json as in Mainflux',
      type: 'string',
      format: 'binary',
    },
    'application/json',
    (externalId, header, source) => service.secureFetch(externalId, header, source),
  );

  bytesFetchRoute(
    app,
    '/things/bootstrap/sealed/:externalId',
    'The same, sealed for this gateway alone (AES-256-GCM); Authorization: <external key>',
    {
      description:
        'nonce (12 bytes) ‖ AES-256-GCM ciphertext of the config JSON exactly as the plain fetch answers it ‖ tag (16 bytes). ' +
        'Key: HKDF-SHA256 of the external key (UTF-8), salt the external id (UTF-8), info "tethys bootstrap v1", 32 bytes; ' +
        'additional authenticated data: the external id (UTF-8)',
      content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    },
    'application/octet-stream',
    (externalId, header, source) => service.sealedFetch(externalId, header, source),
  );
}

/** A gateway's fetch answered as bytes (encrypted), of a content type. */
function bytesFetchRoute(
  app: FastifyInstance,
  url: string,
  summary: string,
  answer: Record<string, unknown>,
  contentType: string,
  fetch: (externalId: string, header: string | undefined, source: string) => Promise<Buffer>,
): void {
  app.get<{ Params: { externalId: string } }>(
    url,
    { config: bootstrap, schema: { ...device, summary, response: { 200: answer, ...Errors } } },
    async (request, reply) => {
      const body = await fetch(request.params.externalId, request.headers.authorization, request.ip);
      reply.type(contentType).send(body);
    },
  );
}

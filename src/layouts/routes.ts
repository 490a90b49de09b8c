import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { count, Param } from '../http/query.js';
import { Answer, Errors, NoBody, PageAnswer } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { LayoutsService } from './service.js';
import { DEFAULT_LIMIT, MAX_LIMIT, type NamedLayout } from './types.js';

/** Like the other user-facing services (users, groups, bootstrap, certs): bad credentials are 403. */
const layouts = { unauthenticated: 403 as const };
const decode = { ...layouts, body: 'json' as const };
const tags = ['layouts'];

const EXAMPLE_TOML = `[parameters.site]
type = "string"
required = true
pattern = "^[a-z0-9-]{1,32}$"

[[things]]
name = "{{site}}-gateway"
[things.metadata]
external_id = "x"
site = "{{site}}"

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{site}}-data"
metadata = { type = "data" }
`;

// ---- answers ----------------------------------------------------------------------
const ParameterView = Type.Object(
  {
    name: Type.String(),
    type: Type.Union([Type.Literal('string'), Type.Literal('integer'), Type.Literal('boolean')]),
    required: Type.Boolean(),
    default: Type.Union([Type.String(), Type.Integer(), Type.Boolean(), Type.Null()], {
      description: "used when a request gives none; null: the type's zero value",
    }),
    pattern: Type.Union([Type.String(), Type.Null()], { description: 'strings only' }),
    device: Type.Boolean({ description: 'a self-enrolling device may set it' }),
  },
  { additionalProperties: false },
);
const layoutFields = {
  name: Type.String(),
  toml: Type.String({ description: "the layout's TOML (the server's without its [server] section)" }),
  parameters: Type.Array(ParameterView, { description: 'the parameters it declares, by name' }),
};
const LayoutView = Answer('A named layout', layoutFields);
const LayoutsPage = PageAnswer(
  'A page of layouts: `default` first, then yours by name',
  'layouts',
  Type.Object(layoutFields, { additionalProperties: false }),
);

const NameParam = Type.Object({ name: Type.String({ description: "the layout's name, or default" }) });
const ListQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint(`default ${DEFAULT_LIMIT}, 1..${MAX_LIMIT}`),
});
const CreateBody = Type.Object(
  {
    name: Type.String({ description: "1 to 64 of a-z, 0-9, '.', '_', '-'; not default" }),
    toml: Type.String({ description: 'the layout, as the server reads MF_PROVISION_CONFIG_FILE' }),
  },
  { examples: [{ name: 'sensor-v2', toml: EXAMPLE_TOML }] },
);
const UpdateBody = Type.Object({ toml: Type.String() }, { examples: [{ toml: EXAMPLE_TOML }] });

const layoutView = (l: NamedLayout) => ({ name: l.name, toml: l.toml, parameters: l.parameters });

/** Named provision layouts (issue 19): a user's own, and the server's read-only `default`. */
export function layoutsRoutes(app: FastifyInstance, service: LayoutsService): void {
  createRoute(app, service);
  listRoute(app, service);
  layoutRoutes(app, service);
}

function createRoute(app: FastifyInstance, service: LayoutsService): void {
  app.post<{ Body: Static<typeof CreateBody> }>(
    '/layouts',
    {
      config: decode,
      schema: {
        tags,
        summary:
          'Store a named layout (400 naming the line of a problem; 409 for a name you use, or default)',
        body: CreateBody,
        response: {
          201: { ...LayoutView, headers: { Location: { type: 'string', description: '/layouts/<name>' } } },
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      const layout = await service.create(
        request.headers.authorization,
        request.body.name,
        request.body.toml,
      );
      reply.code(201).header('Location', `/layouts/${layout.name}`).send(layoutView(layout));
    },
  );
}

function listRoute(app: FastifyInstance, service: LayoutsService): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/layouts',
    {
      config: layouts,
      schema: {
        tags,
        summary: 'The layouts you may use: the server’s (default) first, then yours by name',
        querystring: ListQuery,
        response: { 200: LayoutsPage, ...Errors },
      },
    },
    async (request) => {
      const page = await service.list(
        request.headers.authorization,
        count(request.query.offset, 0),
        count(request.query.limit, DEFAULT_LIMIT),
      );
      return { ...page, layouts: page.layouts.map(layoutView) };
    },
  );
}

/** View, replace and remove a layout. */
function layoutRoutes(app: FastifyInstance, service: LayoutsService): void {
  app.get<{ Params: Static<typeof NameParam> }>(
    '/layouts/:name',
    {
      config: layouts,
      schema: {
        tags,
        summary: 'A layout of yours, or the server’s (default)',
        params: NameParam,
        response: { 200: LayoutView, ...Errors },
      },
    },
    async (request) => layoutView(await service.view(request.headers.authorization, request.params.name)),
  );

  app.put<{ Params: Static<typeof NameParam>; Body: Static<typeof UpdateBody> }>(
    '/layouts/:name',
    {
      config: decode,
      schema: {
        tags,
        summary: "Replace a layout's TOML (default is read-only: 403)",
        params: NameParam,
        body: UpdateBody,
        response: { 200: LayoutView, ...Errors },
      },
    },
    async (request) =>
      layoutView(await service.update(request.headers.authorization, request.params.name, request.body.toml)),
  );

  app.delete<{ Params: Static<typeof NameParam> }>(
    '/layouts/:name',
    {
      config: layouts,
      schema: {
        tags,
        summary: 'Remove a layout (default is read-only: 403)',
        params: NameParam,
        response: { 204: NoBody('Removed'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.remove(request.headers.authorization, request.params.name);
      empty(reply, 204);
    },
  );
}

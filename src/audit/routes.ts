import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { invalidQuery } from '../errors.js';
import { count, Param } from '../http/query.js';
import { Answer, Errors } from '../http/schemas.js';
import type { ThingsService } from '../things/service.js';
import { COUNT_CAP } from './repo.js';
import type { AuditLog } from './service.js';
import type { EventQuery } from './types.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const config = { unauthenticated: 401 as const };
const tags = ['events'];

// ---- answers ----------------------------------------------------------------------
const Nullable = (description: string) => Type.Union([Type.String(), Type.Null()], { description });
const EventView = Type.Object(
  {
    id: Type.String({ description: 'time-ordered: later events have greater ids' }),
    time: Type.String({ description: 'when it was recorded (RFC 3339, UTC)' }),
    actor: Type.String({
      description:
        'who: a user (email), `key:<API key id>`, `thing:<id>`, `enrollment:<group id>` (a device enrolling itself) or `system`',
    }),
    actor_user: Nullable('the user the actor acts for (null for system)'),
    action: Type.String({
      description: '`<entity_type>.<verb>`: thing.create, connection.remove, cert.revoke…',
    }),
    entity_type: Type.String(),
    entity_id: Type.String(),
    related_id: Nullable(
      "the other entity it concerns: a connection's thing, a certificate's thing, a member",
    ),
    owner: Nullable('whose entity it is'),
    source: Nullable("the client's address"),
    request_id: Nullable('the X-Request-Id the client sent, or the one the server gave its request'),
    details: Type.Record(Type.String(), Type.Unknown(), {
      description: 'what changed (names, states, field names); never a key, password, token or private key',
    }),
  },
  { additionalProperties: false },
);
const EventsPage = Answer('A page of events, newest first unless dir=asc', {
  total: Type.Integer({
    description: `how many events match the filters, counted up to ${COUNT_CAP.toLocaleString('en')}`,
  }),
  total_capped: Type.Optional(
    Type.Literal(true, {
      description: `present when more than ${COUNT_CAP.toLocaleString('en')} events match: total is then that many, a lower bound (narrow the filters for an exact count)`,
    }),
  ),
  events: Type.Array(EventView),
});

const time = (description: string) =>
  Param.text(`${description}: RFC 3339 (2026-12-01T00:00:00Z) or milliseconds since 1970`);
const FilterQuery = {
  action: Param.text('an action (thing.create), or every action of a prefix ending in a dot (thing.)'),
  actor: Param.text('an actor, as events name it'),
  from: time('only events at or after this time'),
  to: time('only events before this time'),
  after: Type.Optional(
    Type.String({
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
      description: 'only events after this event id, oldest first (what a follower has not seen yet)',
    }),
  ),
  offset: Param.uint('default 0'),
  limit: Param.uint(`default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}`),
  dir: Param.oneOf(['asc', 'desc'] as const, 'desc (newest first, the default) or asc'),
};
const ListQuery = Type.Object({
  entity_id: Param.text('events about this entity (as the entity or the related one)'),
  entity_type: Param.text(
    'user, key, thing, channel, connection, group, bootstrap, cert, enrollment, registration, layout',
  ),
  ...FilterQuery,
});
const EntityQuery = Type.Object(FilterQuery);
const IdParam = Type.Object({ id: Type.String() });

type Query = Partial<Record<keyof Static<typeof ListQuery>, string>>;

function instant(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = /^[0-9]{1,15}$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalidQuery('from and to must be RFC 3339 times or milliseconds');
  return ms;
}

function eventQuery(q: Query, entityId?: string): EventQuery {
  const limit = count(q.limit, DEFAULT_LIMIT);
  if (limit > MAX_LIMIT) throw invalidQuery(`limit must be at most ${MAX_LIMIT}`);
  return {
    entityId: entityId ?? (q.entity_id || undefined),
    entityType: q.entity_type || undefined,
    action: q.action || undefined,
    actor: q.actor || undefined,
    from: instant(q.from),
    to: instant(q.to),
    after: q.after?.toLowerCase() || undefined,
    offset: count(q.offset, 0),
    limit,
    // A follower reads what came after its last event, oldest first.
    dir: q.after ? 'asc' : q.dir === 'asc' ? 'asc' : 'desc',
  };
}

/** The audit trail (issue 21): events you may read, filtered; an entity's history. */
export function eventsRoutes(app: FastifyInstance, audit: AuditLog, things: ThingsService): void {
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/events',
    {
      config,
      schema: {
        tags,
        summary:
          'Events: every change and who made it. A user reads those about their own entities, the admin all',
        querystring: ListQuery,
        response: { 200: EventsPage, ...Errors },
      },
    },
    async (request) =>
      audit.list(await things.identify(request.headers.authorization), eventQuery(request.query)),
  );
  for (const kind of ['things', 'channels'] as const) {
    app.get<{ Params: Static<typeof IdParam>; Querystring: Static<typeof EntityQuery> }>(
      `/${kind}/:id/events`,
      {
        config,
        schema: {
          tags,
          summary: `A ${kind === 'things' ? "thing's" : "channel's"} history: its events, its connections' and (things) its config's and certificates', also after it was removed`,
          params: IdParam,
          querystring: EntityQuery,
          response: { 200: EventsPage, ...Errors },
        },
      },
      async (request) =>
        audit.list(
          await things.identify(request.headers.authorization),
          eventQuery(request.query, request.params.id.toLowerCase()),
        ),
    );
  }
}

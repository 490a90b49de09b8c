import { type Static, Type } from '@sinclair/typebox';
import { malformed } from '../errors.js';
import { count, flag, jsonObject, Param, saysFalse } from '../http/query.js';
import { Answer, DEPRECATED_HEADER, Metadata, NoBody, omitEmpty } from '../http/schemas.js';
import {
  byteLength,
  type Channel,
  type Direction,
  MAX_LIMIT,
  MAX_NAME,
  type Order,
  type PageQuery,
  type Thing,
} from './types.js';

// What the things domain's route files share (routes.ts: things, channel-routes.ts:
// channels, connection-routes.ts: connections and the identify API): who may call,
// the listings' parameters and their rules, and the answers with the views making them.

export const things = { unauthenticated: 401 as const };

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

export interface ListInput {
  offset: number;
  limit: number;
  name?: string;
  metadata?: Record<string, unknown>;
  order?: string;
  dir?: string;
}

/** Listing rules of API.md §3.4; returns the query and what the page echoes. */
export function pageQuery(input: ListInput, connectionList: boolean) {
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

export function fromQueryString(
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
export function wantsConnected(q: Static<typeof ConnectionQuery>): boolean {
  return !flag(q.disconnected, false) && !saysFalse(q.connected);
}

// order and dir are checked by the listing rules (pageQuery), after every parameter
// has been read, as 0.12.1 validates them: a wrong one is malformed, not an invalid query.
export const ListQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, at most 100'),
  name: Param.text('case-insensitive substring of the name'),
  metadata: Param.json('JSON object the metadata must contain, e.g. {"serial":"123"}'),
  order: Param.text('name | id'),
  dir: Param.text('asc | desc (default desc)'),
});

export const ConnectionQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, 1..100'),
  order: Param.text('name | id'),
  dir: Param.text('asc | desc'),
  disconnected: Param.bool('true: list the complement'),
  connected: Param.ignored('false: list the complement (seed document spelling)'),
});

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
export const ThingsPage = PageOf('things');
export const ChannelsPage = PageOf('channels');
export const Done = NoBody('Done');
export const Removed = NoBody('Removed (also when there was nothing to remove)');
export const Created = (what: string) =>
  NoBody(`${what} created`, { Location: `the new ${what.toLowerCase()}`, ...DEPRECATED_HEADER });
export const IdParam = Type.Object({ id: Type.String() });

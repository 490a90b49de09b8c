/**
 * The TypeScript SDK of Tethys (and of any server speaking the Mainflux 0.12 HTTP API).
 * Its types come from the OpenAPI description (`openapi.ts`, generated from
 * docs/openapi.json by openapi-typescript; a test fails when it drifts), so every body
 * it sends and receives is the one the server documents, and the server's test suite
 * checks that it answers as documented.
 *
 *     const tethys = new Tethys({ url: 'http://localhost:9000' });
 *     await tethys.users.register('ops@example.com', 'a long password');
 *     const me = tethys.withToken(await tethys.users.login('ops@example.com', 'a long password'));
 *     const [sensor] = await me.things.createMany([{ name: 'sensor-1' }]);
 *     for await (const thing of me.things.all({ metadata: { site: 'north' } })) console.log(thing.id);
 */
import type { operations } from './openapi.js';

/** The JSON body an operation answers with a status. */
type Answer<O extends keyof operations, S extends number> =
  operations[O]['responses'] extends Record<S, { content: { 'application/json': infer B } }> ? B : never;
/** The JSON body an operation takes. */
type Body<O extends keyof operations> = operations[O] extends {
  requestBody: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Thing = Answer<'getThing', 200>;
export type Channel = Answer<'getChannel', 200>;
export type ThingsPage = Answer<'listThings', 200>;
export type ChannelsPage = Answer<'listChannels', 200>;
export type NewThing = Body<'createThing'>;
export type NewChannel = Body<'createChannel'>;
export type User = Answer<'getProfile', 200>;
export type IssuedKey = Answer<'issueKey', 201>;
export type Key = Answer<'getKey', 200>;
export type Config = Answer<'getConfig', 200>;
export type ConfigsPage = Answer<'listConfigs', 200>;
export type NewConfig = Body<'createConfig'>;
export type DeviceConfig = Answer<'fetchBootstrapConfig', 200>;
export type Provisioned = Answer<'provisionGateway', 201>;
export type IssuedCert = Answer<'issueCert', 201>;
export type CertsPage = Answer<'listCerts', 201>;
export type CertRequest = Body<'issueCert'>;
export type Group = Answer<'getGroup', 200>;
export type NewGroup = Body<'createGroup'>;

/** What the list operations of things and channels take. */
export interface ListQuery {
  offset?: number;
  limit?: number;
  name?: string;
  metadata?: Record<string, unknown>;
  order?: 'name' | 'id';
  dir?: 'asc' | 'desc';
}

/** A refusal from the server: its status, its `{"error"}` text, and how long to wait when it says. */
export class TethysError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Seconds, from Retry-After (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'TethysError';
  }
}

export interface TethysOptions {
  /** The server, e.g. http://localhost:9000 */
  url: string;
  /** A user's token (`users.login`) or API key, sent as Authorization. */
  token?: string;
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

interface Call {
  body?: unknown;
  /** Sent as is, with its content type (messages). */
  raw?: { data: string | Uint8Array; contentType: string };
  query?: Record<string, string | number | undefined>;
  /** Authorization other than the client's token (a thing key, an external key), or null for none. */
  auth?: string | null;
}

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

const PAGE = 100;

export class Tethys {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: TethysOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  /** The same server with another token (after a login, or for another user). */
  withToken(token: string): Tethys {
    return new Tethys({ ...this.options, token });
  }

  private async call<T>(method: string, path: string, call: Call = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    const auth = call.auth === undefined ? this.options.token : call.auth;
    if (auth) headers.authorization = auth;
    let body: string | Uint8Array | undefined;
    if (call.raw) {
      body = call.raw.data;
      headers['content-type'] = call.raw.contentType;
    } else if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] = 'application/json';
    }
    const query = Object.entries(call.query ?? {}).filter(([, v]) => v !== undefined && v !== '');
    const search = query.length
      ? `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)])).toString()}`
      : '';
    const res = await this.doFetch(`${this.base}${path}${search}`, {
      method,
      headers,
      body: body as BodyInit | undefined,
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const message =
        parsed && typeof parsed === 'object' && 'error' in parsed
          ? String((parsed as { error: unknown }).error)
          : `${res.status} ${res.statusText}`;
      const retry = Number(res.headers.get('retry-after'));
      throw new TethysError(res.status, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** The id at the end of a Location header (what creates answer). */
  private static created(reply: Reply<unknown>): string {
    const location = reply.headers.get('location') ?? '';
    return decodeURIComponent(location.slice(location.lastIndexOf('/') + 1));
  }

  /** Every item of a paged list, fetching pages of 100 as it goes. */
  private async *pages<T, P extends { total: number }>(
    fetchPage: (offset: number, limit: number) => Promise<P>,
    items: (page: P) => T[],
  ): AsyncGenerator<T> {
    for (let offset = 0; ; offset += PAGE) {
      const page = await fetchPage(offset, PAGE);
      const got = items(page);
      yield* got;
      if (got.length < PAGE || offset + PAGE >= page.total) return;
    }
  }

  private listQuery(q: ListQuery = {}): Record<string, string | number | undefined> {
    return {
      offset: q.offset,
      limit: q.limit,
      name: q.name,
      metadata: q.metadata ? JSON.stringify(q.metadata) : undefined,
      order: q.order,
      dir: q.dir,
    };
  }

  readonly users = {
    /** Registers an account; answers its id. */
    register: async (email: string, password: string, metadata?: Record<string, unknown>): Promise<string> =>
      Tethys.created(await this.call('POST', '/users', { body: { email, password, metadata }, auth: null })),
    /** Logs in; answers the token (use it with `withToken`). */
    login: async (email: string, password: string): Promise<string> =>
      (await this.call<Answer<'login', 201>>('POST', '/tokens', { body: { email, password }, auth: null }))
        .body.token,
    profile: async (): Promise<User> => (await this.call<User>('GET', '/users/profile')).body,
    changePassword: async (oldPassword: string, password: string): Promise<void> => {
      await this.call('PATCH', '/password', { body: { old_password: oldPassword, password } });
    },
  };

  readonly keys = {
    /** An API key (type 2) valid for `durationSeconds` (0 or none: no expiry). */
    issue: async (durationSeconds = 0): Promise<IssuedKey> =>
      (await this.call<IssuedKey>('POST', '/keys', { body: { type: 2, duration: durationSeconds } })).body,
    get: async (id: string): Promise<Key> => (await this.call<Key>('GET', `/keys/${enc(id)}`)).body,
    revoke: async (id: string): Promise<void> => {
      await this.call('DELETE', `/keys/${enc(id)}`);
    },
  };

  /** What things and channels share: create, read, change, remove, list, every page. */
  private entities<E, Page extends { total: number }, New>(kind: 'things' | 'channels') {
    const list = async (query?: ListQuery): Promise<Page> =>
      (await this.call<Page>('GET', `/${kind}`, { query: this.listQuery(query) })).body;
    return {
      /** Creates one; answers its id. */
      create: async (entity: New = {} as New): Promise<string> =>
        Tethys.created(await this.call('POST', `/${kind}`, { body: entity })),
      /** Creates them all or none; answers them with their ids (and things' keys). */
      createMany: async (entities: New[]): Promise<E[]> =>
        (await this.call<Record<typeof kind, E[]>>('POST', `/${kind}/bulk`, { body: entities })).body[kind],
      get: async (id: string): Promise<E> => (await this.call<E>('GET', `/${kind}/${enc(id)}`)).body,
      update: async (
        id: string,
        change: { name?: string; metadata?: Record<string, unknown> },
      ): Promise<void> => {
        await this.call('PUT', `/${kind}/${enc(id)}`, { body: change });
      },
      remove: async (id: string): Promise<void> => {
        await this.call('DELETE', `/${kind}/${enc(id)}`);
      },
      /** One page. */
      list,
      /** Every one that matches, page after page. */
      all: (query: Omit<ListQuery, 'offset' | 'limit'> = {}): AsyncGenerator<E> =>
        this.pages(
          (offset, limit) => list({ ...query, offset, limit }),
          (p) => (p as unknown as Record<typeof kind, E[]>)[kind],
        ),
    };
  }

  /** A thing's channels or a channel's things (with `connected: false`, the others). */
  private async connected<P>(path: string, query: { offset?: number; limit?: number; connected?: boolean }) {
    const { offset, limit, connected } = query;
    return (
      await this.call<P>('GET', path, {
        query: { offset, limit, connected: connected === false ? 'false' : undefined },
      })
    ).body;
  }

  readonly things = {
    ...this.entities<Thing, ThingsPage, NewThing>('things'),
    updateKey: async (id: string, key: string): Promise<void> => {
      await this.call('PATCH', `/things/${enc(id)}/key`, { body: { key } });
    },
    channels: (id: string, query: { offset?: number; limit?: number; connected?: boolean } = {}) =>
      this.connected<Answer<'listThingChannels', 200>>(`/things/${enc(id)}/channels`, query),
  };

  readonly channels = {
    ...this.entities<Channel, ChannelsPage, NewChannel>('channels'),
    things: (id: string, query: { offset?: number; limit?: number; connected?: boolean } = {}) =>
      this.connected<Answer<'listChannelThings', 200>>(`/channels/${enc(id)}/things`, query),
  };

  /** Connects every channel with every thing, all or nothing. */
  async connect(channelIds: string[], thingIds: string[]): Promise<void> {
    await this.call('POST', '/connect', { body: { channel_ids: channelIds, thing_ids: thingIds } });
  }

  async disconnect(channelId: string, thingId: string): Promise<void> {
    await this.call('DELETE', `/channels/${enc(channelId)}/things/${enc(thingId)}`);
  }

  readonly messages = {
    /**
     * Publishes as a thing (its key is the credential) on a channel it is connected to;
     * resolves once the server accepted it (202: the message bus has it).
     */
    publish: async (
      thingKey: string,
      channelId: string,
      payload: string | Uint8Array,
      options: { subtopic?: string; contentType?: string } = {},
    ): Promise<void> => {
      const path = `/http/channels/${enc(channelId)}/messages${options.subtopic ? `/${options.subtopic}` : ''}`;
      await this.call('POST', path, {
        raw: { data: payload, contentType: options.contentType ?? 'application/senml+json' },
        auth: `Thing ${thingKey}`,
      });
    },
  };

  readonly bootstrap = {
    /** Creates a gateway's config (and its thing unless `thing_id` is given); answers the thing id. */
    create: async (config: NewConfig): Promise<string> =>
      Tethys.created(await this.call('POST', '/things/configs', { body: config })),
    get: async (thingId: string): Promise<Config> =>
      (await this.call<Config>('GET', `/things/configs/${enc(thingId)}`)).body,
    list: async (
      query: { offset?: number; limit?: number; state?: 0 | 1; external_id?: string; name?: string } = {},
    ) => (await this.call<ConfigsPage>('GET', '/things/configs', { query })).body,
    /** Whitelists (1: connects the thing to the config's channels) or deactivates (0). */
    setState: async (thingId: string, state: 0 | 1): Promise<void> => {
      await this.call('PUT', `/things/state/${enc(thingId)}`, { body: { state } });
    },
    remove: async (thingId: string): Promise<void> => {
      await this.call('DELETE', `/things/configs/${enc(thingId)}`);
    },
    /** What the gateway itself fetches with its external key. */
    fetch: async (externalId: string, externalKey: string): Promise<DeviceConfig> =>
      (await this.call<DeviceConfig>('GET', `/things/bootstrap/${enc(externalId)}`, { auth: externalKey }))
        .body,
  };

  /** Provisions a gateway from the server's layout in one transaction (`/mapping`). */
  async provision(externalId: string, externalKey: string, name?: string): Promise<Provisioned> {
    return (
      await this.call<Provisioned>('POST', '/mapping', {
        body: { external_id: externalId, external_key: externalKey, ...(name ? { name } : {}) },
      })
    ).body;
  }

  readonly certs = {
    issue: async (request: CertRequest): Promise<IssuedCert> =>
      (await this.call<IssuedCert>('POST', '/certs', { body: request })).body,
    list: async (thingId: string, query: { offset?: number; limit?: number } = {}): Promise<CertsPage> =>
      (await this.call<CertsPage>('GET', `/certs/${enc(thingId)}`, { query })).body,
    /** Revokes every valid certificate of the thing; answers when. */
    revoke: async (thingId: string): Promise<string> =>
      (await this.call<Answer<'revokeCerts', 200>>('DELETE', `/certs/${enc(thingId)}`)).body.RevocationTime,
    /** The CRL, PEM. */
    crl: async (): Promise<string> => (await this.call<string>('GET', '/certs/crl')).body,
  };

  readonly groups = {
    create: async (group: NewGroup): Promise<string> =>
      Tethys.created(await this.call('POST', '/groups', { body: group })),
    get: async (id: string): Promise<Group> => (await this.call<Group>('GET', `/groups/${enc(id)}`)).body,
    remove: async (id: string): Promise<void> => {
      await this.call('DELETE', `/groups/${enc(id)}`);
    },
    /** Adds things (or users) to the group. */
    assign: async (id: string, type: 'things' | 'users', members: string[]): Promise<void> => {
      await this.call('POST', `/groups/${enc(id)}/members`, { body: { type, members } });
    },
  };
}

const enc = encodeURIComponent;

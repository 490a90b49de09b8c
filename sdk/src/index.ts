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
import { BootstrapCipher } from './cipher.js';
import type { operations } from './openapi.js';
import { openSealedText } from './sealed.js';

export { BootstrapCipher } from './cipher.js';
// The sealed bootstrap fetch (bootstrap.fetchSealed).
export { openSealed, openSealedText } from './sealed.js';

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
/** The free-form JSON object of a thing, a channel, a user. */
export type Metadata = NonNullable<Thing['metadata']>;
export type Channel = Answer<'getChannel', 200>;
export type ThingsPage = Answer<'listThings', 200>;
export type ChannelsPage = Answer<'listChannels', 200>;
export type NewThing = Body<'createThing'>;
export type NewChannel = Body<'createChannel'>;
export type ThingChange = Body<'updateThing'>;
export type ChannelChange = Body<'updateChannel'>;
export type ThingChannelsPage = Answer<'listThingChannels', 200>;
export type ChannelThingsPage = Answer<'listChannelThings', 200>;
export type User = Answer<'getProfile', 200>;
export type IssuedKey = Answer<'issueKey', 201>;
export type Key = Answer<'getKey', 200>;
export type Config = Answer<'getConfig', 200>;
export type ConfigsPage = Answer<'listConfigs', 200>;
export type NewConfig = Body<'createConfig'>;
export type ConfigChange = Body<'updateConfig'>;
export type ConfigCerts = Body<'updateConfigCerts'>;
export type DeviceConfig = Answer<'fetchBootstrapConfig', 200>;
export type Provisioned = Answer<'provisionGateway', 201>;
export type IssuedCert = Answer<'issueCert', 201>;
export type CertsPage = Answer<'listCerts', 201>;
export type CertRequest = Body<'issueCert'>;
/** A renewal: a CSR, or key parameters (default: the renewed certificate's type), a validity, `revoke_old`. */
export type RenewRequest = Body<'renewCert'>;
/** Valid certificates about to expire, soonest first. */
export type ExpiringPage = Answer<'listExpiringCerts', 200>;
export type Group = Answer<'getGroup', 200>;
export type NewGroup = Body<'createGroup'>;
export type GroupChange = Body<'updateGroup'>;
/** Groups down to a level (`groups.list`, `children`, `parents`), nested with `tree`. */
export type GroupsList = Answer<'listGroups', 200>;
export type GroupMembersPage = Answer<'listGroupMembers', 200>;
export type MembershipsPage = Answer<'listMemberships', 200>;
export type GroupThingsPage = Answer<'listGroupThings', 200>;

// ---- the audit trail (issue 21) -------------------------------------------------------
/** A page of events (`events.list`, `things.events`, `channels.events`), newest first unless `dir: 'asc'`. */
export type EventsPage = Answer<'listEvents', 200>;
/** One change and who made it: `thing.create`, `connection.remove`, `cert.revoke`… */
export type AuditEvent = EventsPage['events'][number];
/** A time as the events' filters take it: a Date, milliseconds since 1970, or RFC 3339 text. */
export type EventTime = Date | number | string;

/** What `events.list` filters on (all optional; the server's names). */
export interface EventQuery {
  /** Events about this entity, as the entity or as the related one (a connection's thing). */
  entity_id?: string;
  entity_type?: string;
  /** An action (`thing.create`), or every action of a prefix ending with a dot (`thing.`). */
  action?: string;
  /** `ops@example.com`, `key:<id>`, `thing:<id>`, `enrollment:<group>`, `system`. */
  actor?: string;
  /** At or after this time. */
  from?: EventTime;
  /** Before this time. */
  to?: EventTime;
  /** Only events after this event id, oldest first. */
  after?: string;
  offset?: number;
  /** 1..100 (server default 10). */
  limit?: number;
  dir?: 'asc' | 'desc';
}

/** An entity's history takes the same filters, the entity aside. */
export type EntityEventQuery = Omit<EventQuery, 'entity_id' | 'entity_type'>;

/** How `events.follow` runs. */
export interface FollowOptions {
  /** Ends the generator (quietly) when it aborts. */
  signal?: AbortSignal;
  /** Time between two polls when nothing new came (default 1000 ms). */
  intervalMs?: number;
  /** Also yield the events since this time; default: only those from now on. */
  since?: EventTime;
  /** How far back each poll looks before the newest event seen (default 5000 ms; see `followEvents`). */
  lookbackMs?: number;
}
// ---- end of the audit trail ---------------------------------------------------------

// ---- named layouts (issue 19) -------------------------------------------------------
/** A named provision layout: its TOML and the parameters it declares. */
export type Layout = Answer<'getLayout', 200>;
export type LayoutsPage = Answer<'listLayouts', 200>;
export type LayoutParameter = Layout['parameters'][number];
/** A value of a layout parameter, of the type the layout declares. */
export type ParameterValue = string | number | boolean;

/** What `provision` takes besides the gateway's external id and key. */
export interface ProvisionOptions {
  /** Replaces the name of every thing whose layout name holds no placeholder; `{{name}}` in layouts. */
  name?: string;
  /** A named layout of yours (`layouts.create`), or `default`; absent: the server's layout. */
  layout?: string;
  /** Values of the layout's parameters. */
  parameters?: Record<string, ParameterValue>;
}
// ---- end of named layouts ------------------------------------------------------------

// ---- enrollment groups (issue 19) ---------------------------------------------------
export type Enrollment = Answer<'getEnrollment', 200>;
export type EnrollmentsPage = Answer<'listEnrollments', 200>;
export type NewEnrollment = Body<'createEnrollment'>;
export type EnrollmentChange = Body<'updateEnrollment'>;
export type RegistrationsPage = Answer<'listRegistrations', 200>;
export type Registration = RegistrationsPage['registrations'][number];
export type DeviceRegistration = Body<'registerDevice'>;
export type Registered = Answer<'registerDevice', 201>;
export { deriveDeviceKey } from './enrollment.js';
// ---- end of enrollment groups ---------------------------------------------------------

/** What the list operations of things and channels take. */
export interface ListQuery {
  offset?: number;
  limit?: number;
  name?: string;
  metadata?: Record<string, unknown>;
  order?: 'name' | 'id';
  dir?: 'asc' | 'desc';
}

/** What a request was: its method, and its path with the query string. */
export interface Asked {
  method: string;
  path: string;
}

/**
 * A refusal from the server: its status, its `{"error"}` text (`message`), the request it
 * refused, and how long to wait when it says. Also an answer that cannot be used: a
 * Mainflux `/mapping` that answers 201 with `{"error"}`, a secure bootstrap answer that
 * does not decrypt (`status` is then the answer's).
 */
export class TethysError extends Error {
  /** Seconds, from Retry-After (429, 503). */
  readonly retryAfter?: number;
  readonly method: string;
  /** The path asked, with its query string. */
  readonly path: string;

  constructor(
    readonly status: number,
    message: string,
    asked: Asked & { retryAfter?: number },
  ) {
    super(message);
    this.name = 'TethysError';
    this.retryAfter = asked.retryAfter;
    this.method = asked.method;
    this.path = asked.path;
  }

  /** One line for logs and people: `404 non-existent entity (GET /things/…)`. */
  get summary(): string {
    return `${this.status} ${this.message} (${this.method} ${this.path})`;
  }
}

/**
 * No answer at all: connection refused, a name that does not resolve, a reset, TLS. The
 * message says where and why: `cannot reach http://…:9000: connect ECONNREFUSED … (GET /things)`.
 */
export class TethysNetworkError extends Error {
  readonly method: string;
  /** The path asked, with its query string. */
  readonly path: string;

  constructor(
    /** The server's base URL. */
    readonly url: string,
    asked: Asked,
    /** Why, from the innermost error that has a code (undici wraps it in `cause`). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${url}: ${reason} (${asked.method} ${asked.path})`, options);
    this.name = 'TethysNetworkError';
    this.method = asked.method;
    this.path = asked.path;
  }

  /** The same line as the message. */
  get summary(): string {
    return this.message;
  }
}

export interface TethysOptions {
  /** The server, e.g. http://localhost:9000 */
  url: string;
  /** A user's token (`users.login`) or API key, sent as Authorization. */
  token?: string;
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
  /**
   * Cancels the client's calls when it aborts (a page left, a stop button): a call in
   * flight or made afterwards rejects with the signal's reason (an `AbortError` unless
   * given another), not with a TethysNetworkError.
   */
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  body?: unknown;
  /** Sent as is, with its content type (messages). */
  raw?: { data: string | Uint8Array; contentType: string };
  query?: Query;
  /** Authorization other than the client's token (a thing key, an external key), or null for none. */
  auth?: string | null;
  /** Answer the body as bytes, not parsed (encrypted or DER answers); a refusal is still parsed. */
  binary?: boolean;
  /** Sent as the Referer (in a browser: as the request's referrer, same origin only). */
  referer?: string;
}

interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** How a paged list is asked for. */
export interface PageQuery {
  offset?: number;
  limit?: number;
}

/** A thing's channels or a channel's things; `connected: false` lists the others instead. */
export interface ConnectionQuery extends PageQuery {
  order?: 'name' | 'id';
  dir?: 'asc' | 'desc';
  connected?: boolean;
}

/** What the tree listings of groups take. */
export interface GroupsQuery {
  /** Levels to include, 1..5 (server default 1). */
  level?: number;
  /** Nest children inside their parents. */
  tree?: boolean;
  metadata?: Record<string, unknown>;
}

const PAGE = 100;

export class Tethys {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: TethysOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** The same server with another token (after a login, or for another user). */
  withToken(token: string): Tethys {
    return new Tethys({ ...this.options, token });
  }

  /** The same server and token, its calls cancelled when `signal` aborts (see `TethysOptions.signal`). */
  withSignal(signal: AbortSignal): Tethys {
    return new Tethys({ ...this.options, signal });
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
    const asked = { method, path: `${path}${search}` };
    const signal = this.options.signal;
    let res: Response;
    let bytes: Uint8Array;
    try {
      if (call.referer) headers.referer = call.referer;
      res = await this.doFetch(`${this.base}${asked.path}`, {
        method,
        headers,
        body: body as BodyInit | undefined,
        signal,
        // Browsers drop a Referer header set by hand; they send the referrer, whatever the page's policy.
        ...(call.referer ? { referrer: call.referer, referrerPolicy: 'unsafe-url' as const } : {}),
      });
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new TethysNetworkError(this.base, asked, networkReason(err), { cause: err });
    }
    if (res.ok && call.binary) return { status: res.status, headers: res.headers, body: bytes as T };
    const text = new TextDecoder().decode(bytes);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const retry = Number(res.headers.get('retry-after'));
      throw new TethysError(res.status, errorText(res, parsed), {
        ...asked,
        retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
      });
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** POSTs a create; answers the id at the end of the Location header. */
  private async create(path: string, body: unknown, auth?: string | null): Promise<string> {
    const reply = await this.call('POST', path, { body, auth });
    const location = reply.headers.get('location') ?? '';
    const id = location.slice(location.lastIndexOf('/') + 1);
    if (!id) {
      throw new TethysError(reply.status, 'the answer has no Location header', { method: 'POST', path });
    }
    return decodeURIComponent(id);
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

  private listQuery(q: ListQuery = {}): Query {
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
      this.create('/users', { email, password, metadata }, null),
    /** Logs in; answers the token (use it with `withToken`). */
    login: async (email: string, password: string): Promise<string> =>
      (await this.call<Answer<'login', 201>>('POST', '/tokens', { body: { email, password }, auth: null }))
        .body.token,
    profile: async (): Promise<User> => (await this.call<User>('GET', '/users/profile')).body,
    /** Another user's account, by id. */
    get: async (id: string): Promise<User> => (await this.call<User>('GET', `/users/${enc(id)}`)).body,
    changePassword: async (oldPassword: string, password: string): Promise<void> => {
      await this.call('PATCH', '/password', { body: { old_password: oldPassword, password } });
    },
    /**
     * Mails the account a password-reset link: `link` + the server's reset path
     * (MF_TOKEN_RESET_ENDPOINT) + `?token=…`. Needs SMTP on the server (503 without).
     */
    requestReset: async (email: string, link: string): Promise<void> => {
      await this.call('POST', '/password/reset-request', { body: { email }, auth: null, referer: link });
    },
    /** Sets a new password with the token of a reset mail. */
    resetPassword: async (token: string, password: string, confirm = password): Promise<void> => {
      await this.call('PUT', '/password/reset', {
        body: { token, password, confirm_password: confirm },
        auth: null,
      });
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
  private entities<E, Page extends { total: number }, New, Change>(kind: 'things' | 'channels') {
    const list = async (query?: ListQuery): Promise<Page> =>
      (await this.call<Page>('GET', `/${kind}`, { query: this.listQuery(query) })).body;
    return {
      /** Creates one; answers its id. */
      create: async (entity: New = {} as New): Promise<string> => this.create(`/${kind}`, entity),
      /** Creates them all or none; answers them with their ids (and things' keys). */
      createMany: async (entities: New[]): Promise<E[]> =>
        (await this.call<Record<typeof kind, E[]>>('POST', `/${kind}/bulk`, { body: entities })).body[kind],
      get: async (id: string): Promise<E> => (await this.call<E>('GET', `/${kind}/${enc(id)}`)).body,
      /** Replaces the name and metadata (a field left out is cleared). */
      update: async (id: string, change: Change): Promise<void> => {
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
  private async connected<P>(path: string, query: ConnectionQuery) {
    const { connected, ...rest } = query;
    // `disconnected=true` is 0.12.1's spelling (it ignores the seed document's `connected=false`).
    return (
      await this.call<P>('GET', path, { query: { ...rest, disconnected: connected === false || undefined } })
    ).body;
  }

  readonly things = {
    ...this.entities<Thing, ThingsPage, NewThing, ThingChange>('things'),
    updateKey: async (id: string, key: string): Promise<void> => {
      await this.call('PATCH', `/things/${enc(id)}/key`, { body: { key } });
    },
    channels: (id: string, query: ConnectionQuery = {}) =>
      this.connected<ThingChannelsPage>(`/things/${enc(id)}/channels`, query),
    /** The thing's history: its events, its connections', its config's and certificates' (also once removed). */
    events: this.history('things'),
  };

  readonly channels = {
    ...this.entities<Channel, ChannelsPage, NewChannel, ChannelChange>('channels'),
    things: (id: string, query: ConnectionQuery = {}) =>
      this.connected<ChannelThingsPage>(`/channels/${enc(id)}/things`, query),
    /** The channel's history: its events and its connections' (also once removed). */
    events: this.history('channels'),
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
    create: async (config: NewConfig): Promise<string> => this.create('/things/configs', config),
    get: async (thingId: string): Promise<Config> =>
      (await this.call<Config>('GET', `/things/configs/${enc(thingId)}`)).body,
    list: async (
      query: PageQuery & { state?: 0 | 1; external_id?: string; name?: string } = {},
    ): Promise<ConfigsPage> =>
      (await this.call<ConfigsPage>('GET', '/things/configs', { query: { ...query } })).body,
    /** Replaces the name and content (a field left out is cleared). */
    update: async (thingId: string, change: ConfigChange): Promise<void> => {
      await this.call('PUT', `/things/configs/${enc(thingId)}`, { body: change });
    },
    /** Replaces the config's channels; the thing of an active config is connected to them. */
    setChannels: async (thingId: string, channelIds: string[]): Promise<void> => {
      await this.call('PUT', `/things/configs/connections/${enc(thingId)}`, {
        body: { channels: channelIds },
      });
    },
    /** Replaces the three certificates the gateway receives (a field left out is cleared). */
    updateCerts: async (thingId: string, certs: ConfigCerts): Promise<void> => {
      await this.call('PATCH', `/things/configs/certs/${enc(thingId)}`, { body: certs });
    },
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
    /**
     * The same, encrypted both ways with the server's MF_BOOTSTRAP_ENCRYPT_KEY (hex, bytes
     * or a `BootstrapCipher`): the external key goes out encrypted, the answer comes back
     * encrypted and is decrypted here.
     */
    fetchSecure: async (
      externalId: string,
      externalKey: string,
      encryptionKey: string | Uint8Array | BootstrapCipher,
    ): Promise<DeviceConfig> => {
      const cipher =
        encryptionKey instanceof BootstrapCipher ? encryptionKey : new BootstrapCipher(encryptionKey);
      const path = `/things/bootstrap/secure/${enc(externalId)}`;
      const reply = await this.call<Uint8Array>('GET', path, {
        auth: await cipher.encryptExternalKey(externalKey),
        binary: true,
      });
      try {
        return JSON.parse(await cipher.decryptText(reply.body)) as DeviceConfig;
      } catch {
        throw new TethysError(
          reply.status,
          "the answer does not decrypt to a config: is the key the server's MF_BOOTSTRAP_ENCRYPT_KEY?",
          { method: 'GET', path },
        );
      }
    },
    /**
     * The same, sealed for this gateway alone (AES-256-GCM under a key derived from its
     * external key; no server key needed) and opened here: an answer altered on the way,
     * or sealed for another id or key, throws a TethysError.
     */
    fetchSealed: async (externalId: string, externalKey: string): Promise<DeviceConfig> => {
      const path = `/things/bootstrap/sealed/${enc(externalId)}`;
      const reply = await this.call<Uint8Array>('GET', path, { auth: externalKey, binary: true });
      try {
        return JSON.parse(await openSealedText(reply.body, externalId, externalKey)) as DeviceConfig;
      } catch {
        throw new TethysError(
          reply.status,
          'the sealed answer does not open: it was altered on the way, or sealed for another external id or key',
          { method: 'GET', path },
        );
      }
    },
  };

  /**
   * Provisions a gateway in one transaction (`/mapping`): from the server's layout, or from
   * a named one with its parameters (`{ layout, parameters }`; a name alone may be given as
   * a string, as before). Without a token the server uses its configured credentials.
   */
  async provision(
    externalId: string,
    externalKey: string,
    nameOrOptions?: string | ProvisionOptions,
  ): Promise<Provisioned> {
    const { name, layout, parameters } =
      typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
    const reply = await this.call<Provisioned & { error?: unknown }>('POST', '/mapping', {
      body: {
        external_id: externalId,
        external_key: externalKey,
        ...(name !== undefined ? { name } : {}),
        ...(layout !== undefined ? { layout } : {}),
        ...(parameters !== undefined ? { parameters } : {}),
      },
    });
    // Mainflux 0.12.1 answers 201 with {"error"} when the flow fails half-way.
    const failed = reply.body?.error;
    if (typeof failed === 'string' && failed) {
      throw new TethysError(reply.status, failed, { method: 'POST', path: '/mapping' });
    }
    return reply.body;
  }

  /** Certificates over their life (`certs.renew`, `certs.expiring`). */
  private readonly certsLife = {
    /** A new certificate for the thing of certificate `serial` (cert_serial); `revoke_old` revokes that one at once. */
    renew: async (serial: string, request: RenewRequest = {}): Promise<IssuedCert> =>
      (await this.call<IssuedCert>('POST', `/certs/${enc(serial)}/renew`, { body: request })).body,
    /** Valid certificates expiring within `window` (a Go duration such as 720h): yours, or everyone's for the admin. */
    expiring: async (window: string, query: PageQuery = {}): Promise<ExpiringPage> =>
      (await this.call<ExpiringPage>('GET', '/certs', { query: { expiring_within: window, ...query } })).body,
  };

  readonly certs = {
    ...this.certsLife,
    issue: async (request: CertRequest): Promise<IssuedCert> =>
      (await this.call<IssuedCert>('POST', '/certs', { body: request })).body,
    list: async (thingId: string, query: PageQuery = {}): Promise<CertsPage> =>
      (await this.call<CertsPage>('GET', `/certs/${enc(thingId)}`, { query: { ...query } })).body,
    /** Revokes every valid certificate of the thing; answers when. */
    revoke: async (thingId: string): Promise<string> =>
      (await this.call<Answer<'revokeCerts', 200>>('DELETE', `/certs/${enc(thingId)}`)).body.RevocationTime,
    /** The CRL, PEM. */
    crl: async (): Promise<string> => (await this.call<string>('GET', '/certs/crl')).body,
    /** The CRL, DER. */
    crlDer: async (): Promise<Uint8Array> =>
      (await this.call<Uint8Array>('GET', '/certs/crl', { query: { format: 'der' }, binary: true })).body,
  };

  // ---- the audit trail (issue 21) -----------------------------------------------------
  /** The audit trail: every change, who made it, when and from where. */
  readonly events = {
    /** One page of the events you may read (yours; the admin's: all), newest first unless `dir: 'asc'`. */
    list: async (query: EventQuery = {}): Promise<EventsPage> =>
      (await this.call<EventsPage>('GET', '/events', { query: eventQuery(query) })).body,
    /**
     * Every matching event, page after page (offset paging: an event committed meanwhile
     * can shift a page, so with `dir: 'desc'` an event may come twice; give `to` to fix the end).
     */
    all: (query: Omit<EventQuery, 'offset' | 'limit'> = {}): AsyncGenerator<AuditEvent> =>
      this.pages(
        (offset, limit) => this.events.list({ ...query, offset, limit }),
        (p) => p.events,
      ),
    /**
     * The new events as they are committed, oldest first, until `signal` aborts (or the
     * loop that reads it stops). Polls GET /events every `intervalMs`.
     */
    follow: (
      query: Omit<EventQuery, 'offset' | 'limit' | 'dir' | 'after' | 'from' | 'to'> = {},
      options: FollowOptions = {},
    ): AsyncGenerator<AuditEvent> => this.followEvents(query, options),
  };

  /** An entity's history (GET /things|channels/{id}/events): the same page as `events.list`. */
  private history(kind: 'things' | 'channels') {
    return async (id: string, query: EntityEventQuery = {}): Promise<EventsPage> =>
      (await this.call<EventsPage>('GET', `/${kind}/${enc(id)}/events`, { query: eventQuery(query) })).body;
  }

  /**
   * Following the trail by polling. An event's id (and its time) is given when the change
   * is made, not when its transaction commits: a transaction that commits late shows up
   * with an id SMALLER than ids already seen. Asking only for ids after the last one seen
   * (`after`) would miss it for good. So each poll asks again for everything from
   * `lookbackMs` before the newest event seen (`from`, oldest first), and skips what it
   * already yielded by id. The set of ids seen is bounded: an id older than the window's
   * start is never answered again, so it is forgotten. A transaction that stays open
   * longer than the lookback can still be missed; the server's transactions are short
   * (milliseconds), so 5 s leaves a wide margin.
   */
  private async *followEvents(
    query: Omit<EventQuery, 'offset' | 'limit' | 'dir' | 'after' | 'from' | 'to'>,
    { signal, intervalMs = 1000, since, lookbackMs = 5000 }: FollowOptions,
  ): AsyncGenerator<AuditEvent> {
    const own = this.options.signal;
    const stop = signal && own ? AbortSignal.any([signal, own]) : (signal ?? own);
    const client = stop ? this.withSignal(stop) : this;
    // Nothing older than the start is yielded (the client's clock when no `since` is given).
    const start = since === undefined ? Date.now() : timeMs(since);
    let newest = start;
    const seen = new Map<string, number>(); // id → its time (ms)
    try {
      while (!stop?.aborted) {
        const from = Math.max(start, newest - lookbackMs);
        // Every page of the window: an event committed meanwhile only pushes the ones after
        // it further, so offset paging may answer one twice (skipped) but never skips one.
        for (let offset = 0; ; offset += PAGE) {
          const page = await client.events.list({ ...query, from, dir: 'asc', offset, limit: PAGE });
          for (const event of page.events) {
            if (seen.has(event.id)) continue;
            const ms = Date.parse(event.time);
            seen.set(event.id, ms);
            if (ms > newest) newest = ms;
            yield event;
          }
          if (page.events.length < PAGE) break;
        }
        const windowStart = Math.max(start, newest - lookbackMs);
        for (const [id, ms] of seen) if (ms < windowStart) seen.delete(id);
        await pause(intervalMs, stop);
      }
    } catch (err) {
      if (stop?.aborted) return;
      throw err;
    }
  }
  // ---- end of the audit trail ---------------------------------------------------------

  readonly groups = {
    /** Creates a group (under `parent_id` when given); answers its id. */
    create: async (group: NewGroup): Promise<string> => this.create('/groups', group),
    get: async (id: string): Promise<Group> => (await this.call<Group>('GET', `/groups/${enc(id)}`)).body,
    /** Replaces the name, description and metadata (a field left out is cleared). */
    update: async (id: string, change: GroupChange): Promise<void> => {
      await this.call('PUT', `/groups/${enc(id)}`, { body: change });
    },
    /** Removes the group and its subtree; refused while it has members. */
    remove: async (id: string): Promise<void> => {
      await this.call('DELETE', `/groups/${enc(id)}`);
    },
    /** Your groups down to `level`. */
    list: async (query: GroupsQuery = {}): Promise<GroupsList> =>
      (await this.call<GroupsList>('GET', '/groups', { query: groupsQuery(query) })).body,
    /** The group and its descendants down to `level`. */
    children: async (id: string, query: GroupsQuery = {}): Promise<GroupsList> =>
      (await this.call<GroupsList>('GET', `/groups/${enc(id)}/children`, { query: groupsQuery(query) })).body,
    /** The group and its ancestors up to `level`. */
    parents: async (id: string, query: GroupsQuery = {}): Promise<GroupsList> =>
      (await this.call<GroupsList>('GET', `/groups/${enc(id)}/parents`, { query: groupsQuery(query) })).body,
    /** Adds members of one type (things, users, or a type of your own) to the group, all or nothing. */
    assign: async (
      id: string,
      type: 'things' | 'users' | (string & {}),
      members: string[],
    ): Promise<void> => {
      await this.call('POST', `/groups/${enc(id)}/members`, { body: { type, members } });
    },
    /** Removes members from the group. */
    unassign: async (id: string, members: string[]): Promise<void> => {
      await this.call('DELETE', `/groups/${enc(id)}/members`, { body: { members } });
    },
    /** One page of the group's members (of one type when `type` is given). */
    members: async (id: string, query: PageQuery & { type?: string } = {}): Promise<GroupMembersPage> =>
      (await this.call<GroupMembersPage>('GET', `/groups/${enc(id)}/members`, { query: { ...query } })).body,
    /** One page of your groups the member (a thing, a user) is in. */
    memberships: async (memberId: string, query: PageQuery = {}): Promise<MembershipsPage> =>
      (await this.call<MembershipsPage>('GET', `/members/${enc(memberId)}/groups`, { query: { ...query } }))
        .body,
    /** One page of your things in the group. */
    things: async (id: string, query: PageQuery = {}): Promise<GroupThingsPage> =>
      (await this.call<GroupThingsPage>('GET', `/groups/things/${enc(id)}`, { query: { ...query } })).body,
  };

  // ---- named layouts (issue 19) -----------------------------------------------------
  /** Named provision layouts: yours, and the server's read-only `default`. */
  readonly layouts = {
    /** Stores a layout (TOML); answers it with the parameters it declares. A bad one: 400 naming the line. */
    create: async (name: string, toml: string): Promise<Layout> =>
      (await this.call<Layout>('POST', '/layouts', { body: { name, toml } })).body,
    /** A layout of yours, or `default`. */
    get: async (name: string): Promise<Layout> =>
      (await this.call<Layout>('GET', `/layouts/${enc(name)}`)).body,
    /** One page: `default` first, then yours by name. */
    list: async (query: PageQuery = {}): Promise<LayoutsPage> =>
      (await this.call<LayoutsPage>('GET', '/layouts', { query: { ...query } })).body,
    /** Every layout you may use, page after page. */
    all: (): AsyncGenerator<Layout> =>
      this.pages(
        (offset, limit) => this.layouts.list({ offset, limit }),
        (p) => p.layouts,
      ),
    /** Replaces a layout's TOML; answers it as stored. */
    update: async (name: string, toml: string): Promise<Layout> =>
      (await this.call<Layout>('PUT', `/layouts/${enc(name)}`, { body: { toml } })).body,
    remove: async (name: string): Promise<void> => {
      await this.call('DELETE', `/layouts/${enc(name)}`);
    },
  };
  // ---- end of named layouts ---------------------------------------------------------

  // ---- enrollment groups (issue 19) ---------------------------------------------------
  /** Enrollment groups: a fleet sharing one credential registers itself (zero-touch). */
  readonly enrollments = {
    /** A new group; a symmetric_key group's answer carries its `group_key`. */
    create: async (group: NewEnrollment): Promise<Enrollment> =>
      (await this.call<Enrollment>('POST', '/enrollments', { body: group })).body,
    get: async (id: string): Promise<Enrollment> =>
      (await this.call<Enrollment>('GET', `/enrollments/${enc(id)}`)).body,
    list: async (query: PageQuery = {}): Promise<EnrollmentsPage> =>
      (await this.call<EnrollmentsPage>('GET', '/enrollments', { query: { ...query } })).body,
    all: (): AsyncGenerator<Enrollment> =>
      this.pages(
        (offset, limit) => this.enrollments.list({ offset, limit }),
        (p) => p.enrollments,
      ),
    /** Changes enabled, max_devices, parameters or registration_id_pattern. */
    update: async (id: string, change: EnrollmentChange): Promise<Enrollment> =>
      (await this.call<Enrollment>('PATCH', `/enrollments/${enc(id)}`, { body: change })).body,
    /** Removes the group; its devices stay as they are. */
    remove: async (id: string): Promise<void> => {
      await this.call('DELETE', `/enrollments/${enc(id)}`);
    },
    /** A new group key; the old one stops working at once. */
    rotateKey: async (id: string): Promise<string> =>
      (await this.call<{ group_key: string }>('POST', `/enrollments/${enc(id)}/rotate-key`)).body.group_key,
    registrations: async (id: string, query: PageQuery = {}): Promise<RegistrationsPage> =>
      (
        await this.call<RegistrationsPage>('GET', `/enrollments/${enc(id)}/registrations`, {
          query: { ...query },
        })
      ).body,
    /** Every device of a group, fetching pages of 100 as it goes. */
    allRegistrations: (id: string): AsyncGenerator<Registration> =>
      this.pages(
        (offset, limit) => this.enrollments.registrations(id, { offset, limit }),
        (p) => p.registrations,
      ),
    /**
     * A device registers itself. With `deviceKey` (`deriveDeviceKey(groupKey, id)`) for a
     * symmetric_key group; for an x509 group give none, and construct the client with a
     * `fetch` that presents the device's TLS client certificate. `created`: a new thing
     * (201), or the same as before (200).
     */
    register: async (
      id: string,
      registration: DeviceRegistration,
      deviceKey?: string,
    ): Promise<Registered & { created: boolean }> => {
      const reply = await this.call<Registered>('POST', `/enrollments/${enc(id)}/register`, {
        body: registration,
        auth: deviceKey ? `SharedKey ${deviceKey}` : null,
      });
      return { ...reply.body, created: reply.status === 201 };
    },
  };
  // ---- end of enrollment groups -------------------------------------------------------
}

const enc = encodeURIComponent;

/** Milliseconds since 1970 of a Date, a number (as is) or a text (RFC 3339). */
function timeMs(t: EventTime): number {
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(t)}`);
  return ms;
}

function eventQuery(q: EventQuery): Query {
  const time = (t?: EventTime) => (t instanceof Date ? t.toISOString() : t);
  return { ...q, from: time(q.from), to: time(q.to) };
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function groupsQuery(q: GroupsQuery): Query {
  return {
    level: q.level,
    tree: q.tree || undefined,
    metadata: q.metadata ? JSON.stringify(q.metadata) : undefined,
  };
}

/** The server's `{"error"}` text, else the first line of the body, else the status text. */
function errorText(res: Response, body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') {
    return (body as { error: string }).error;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().split('\n')[0]!.slice(0, 200);
  return res.statusText || 'error';
}

/** fetch throws a TypeError; undici puts the real reason (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function networkReason(err: unknown): string {
  let e: unknown = err;
  const seen = new Set<unknown>();
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') {
      return typeof message === 'string' && message && !message.includes(code)
        ? `${code} ${message}`
        : String(message || code);
    }
    const cause = (e as { cause?: unknown }).cause;
    if (!cause) return typeof message === 'string' && message ? message : String(e);
    e = cause;
  }
  return String(err);
}

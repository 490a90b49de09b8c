/**
 * The console's only way to the server: the public HTTP API of the origin it was loaded
 * from (Mainflux 0.12 paths). Every failure becomes an ApiError whose message says in
 * words what went wrong; a 401/403 on a call made with the session token ends the
 * session (the token expired or was revoked).
 */

export type Metadata = Record<string, unknown>;

export interface Thing {
  id: string;
  name?: string;
  key: string;
  metadata?: Metadata;
}

export interface Channel {
  id: string;
  name?: string;
  metadata?: Metadata;
}

export interface Page {
  total: number;
  offset: number;
  limit: number;
}

export interface ThingsPage extends Page {
  things: Thing[];
}

export interface ChannelsPage extends Page {
  channels: Channel[];
}

export interface BootstrapConfig {
  mainflux_id: string;
  mainflux_key?: string;
  mainflux_channels?: { id: string; name?: string; metadata: Metadata | null }[];
  external_id: string;
  external_key?: string;
  content?: string;
  name?: string;
  state: number;
}

export interface ConfigsPage extends Page {
  configs: BootstrapConfig[];
}

export interface CertRecord {
  thing_id: string;
  cert_serial: string;
  key_type?: string;
  expire?: string;
  revoked?: boolean;
  revocation_time?: string;
}

export interface CertsPage extends Page {
  certs: CertRecord[];
}

export interface IssuedCert {
  thing_id: string;
  cert: string;
  cert_key?: string;
  cert_serial: string;
  ca_cert: string;
  expire?: string;
}

export interface IssuedKey {
  id?: string;
  value?: string;
  issued_at: string;
  expires_at?: string;
}

export interface KeyView {
  id?: string;
  issuer_id?: string;
  subject?: string;
  type?: number;
  issued_at: string;
  expires_at?: string;
}

export interface MappingResult {
  things: Thing[] | null;
  channels: Channel[] | null;
  client_cert?: Record<string, string>;
  client_key?: Record<string, string>;
  ca_cert?: string;
  whitelisted?: Record<string, boolean>;
  error?: string;
}

const STATUS_WORDS: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported content type',
  429: 'Too many requests',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The server's own message ({"error": …}), when it sent one. */
    readonly detail: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(ApiError.describe(status, detail));
    this.name = 'ApiError';
  }

  static describe(status: number, detail: string): string {
    if (status === 0)
      return detail || 'The server could not be reached (network error). Check that it is running.';
    const words = STATUS_WORDS[status] ?? `HTTP ${status}`;
    return detail ? `${words} (${status}): ${detail}` : `${words} (${status})`;
  }
}

/** How a request authenticates: the session token, nothing, or a given raw value (external key). */
export type Auth = 'session' | 'none' | { raw: string };

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Exact Content-Type to send with a JSON body (provision and certs want exactly application/json). */
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  auth?: Auth;
  signal?: AbortSignal;
}

export interface Reply<T> {
  status: number;
  data: T;
  headers: Headers;
}

let sessionToken: () => string | null = () => null;
let onUnauthorized: (error: ApiError) => void = () => {};

/** Wired by the session module: where the token comes from, what a 401/403 does. */
export function configureApi(options: {
  token: () => string | null;
  unauthorized: (error: ApiError) => void;
}): void {
  sessionToken = options.token;
  onUnauthorized = options.unauthorized;
}

export function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export async function request<T = unknown>(path: string, options: RequestOptions = {}): Promise<Reply<T>> {
  const method = options.method ?? 'GET';
  const auth = options.auth ?? 'session';
  const headers: Record<string, string> = {};
  if (auth === 'session') {
    const token = sessionToken();
    if (token) headers.Authorization = token;
  } else if (auth !== 'none') {
    headers.Authorization = auth.raw;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = options.contentType ?? 'application/json';
  }
  const url = path + queryString(options.query);
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body, signal: options.signal, cache: 'no-store' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(
      0,
      `The server could not be reached (${(err as Error).message}). Check that it is running.`,
      method,
      path,
    );
  }
  const text = await res.text();
  let data: unknown;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const detail =
      data && typeof data === 'object' && typeof (data as { error?: unknown }).error === 'string'
        ? (data as { error: string }).error
        : typeof data === 'string'
          ? data.trim().slice(0, 300)
          : '';
    const error = new ApiError(res.status, detail, method, path);
    if (auth === 'session' && (res.status === 401 || res.status === 403)) onUnauthorized(error);
    throw error;
  }
  return { status: res.status, data: data as T, headers: res.headers };
}

/** The id at the end of a Location header (`/things/<id>`). */
export function idFromLocation(headers: Headers, prefix: string): string {
  const location = headers.get('Location') ?? '';
  return location.startsWith(prefix) ? location.slice(prefix.length) : (location.split('/').pop() ?? '');
}

export type EntityKind = 'things' | 'channels';

export interface ListParams {
  offset: number;
  limit: number;
  order?: '' | 'name' | 'id';
  dir?: '' | 'asc' | 'desc';
  name?: string;
  metadata?: Metadata | null;
}

export function listQuery(p: ListParams): RequestOptions['query'] {
  return {
    offset: p.offset,
    limit: p.limit,
    order: p.order || undefined,
    dir: p.dir || undefined,
    name: p.name || undefined,
    metadata: p.metadata && Object.keys(p.metadata).length ? JSON.stringify(p.metadata) : undefined,
  };
}

export const api = {
  register: (email: string, password: string) =>
    request('/users', { method: 'POST', body: { email, password }, auth: 'none' }),
  login: (email: string, password: string) =>
    request<{ token: string }>('/tokens', { method: 'POST', body: { email, password }, auth: 'none' }),
  profile: () => request<{ id: string; email: string }>('/users/profile'),

  list: (kind: EntityKind, p: ListParams) =>
    request<ThingsPage & ChannelsPage>(`/${kind}`, { query: listQuery(p) }),
  view: <T extends Thing | Channel>(kind: EntityKind, id: string) =>
    request<T>(`/${kind}/${encodeURIComponent(id)}`),
  create: async (kind: EntityKind, entity: { name?: string; key?: string; metadata?: Metadata }) => {
    const reply = await request(`/${kind}`, { method: 'POST', body: entity });
    return idFromLocation(reply.headers, `/${kind}/`);
  },
  bulk: (
    kind: EntityKind,
    entities: { name?: string; key?: string; metadata?: Metadata }[],
    signal?: AbortSignal,
  ) =>
    request<{ things?: Thing[]; channels?: Channel[] }>(`/${kind}/bulk`, {
      method: 'POST',
      body: entities,
      signal,
    }),
  update: (kind: EntityKind, id: string, entity: { name?: string; metadata?: Metadata }) =>
    request(`/${kind}/${encodeURIComponent(id)}`, { method: 'PUT', body: entity }),
  remove: (kind: EntityKind, id: string) =>
    request(`/${kind}/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  changeKey: (id: string, key: string) =>
    request(`/things/${encodeURIComponent(id)}/key`, { method: 'PATCH', body: { key } }),

  /** Things of a channel or channels of a thing; `disconnected` lists the others. */
  connections: (
    kind: EntityKind,
    id: string,
    p: { offset: number; limit: number; disconnected: boolean; order?: string; dir?: string },
  ) =>
    request<ThingsPage & ChannelsPage>(
      `/${kind}/${encodeURIComponent(id)}/${kind === 'things' ? 'channels' : 'things'}`,
      {
        query: {
          offset: p.offset,
          limit: p.limit,
          disconnected: p.disconnected ? 'true' : undefined,
          order: p.order,
          dir: p.dir,
        },
      },
    ),
  connect: (channelIds: string[], thingIds: string[]) =>
    request('/connect', { method: 'POST', body: { channel_ids: channelIds, thing_ids: thingIds } }),
  connectOne: (channelId: string, thingId: string) =>
    request(`/channels/${encodeURIComponent(channelId)}/things/${encodeURIComponent(thingId)}`, {
      method: 'PUT',
    }),
  disconnect: (channelId: string, thingId: string) =>
    request(`/channels/${encodeURIComponent(channelId)}/things/${encodeURIComponent(thingId)}`, {
      method: 'DELETE',
    }),

  configs: (q: {
    offset: number;
    limit: number;
    state?: string;
    name?: string;
    external_id?: string;
    mainflux_id?: string;
  }) => request<ConfigsPage>('/things/configs', { query: q }),
  config: (id: string) => request<BootstrapConfig>(`/things/configs/${encodeURIComponent(id)}`),
  updateConfig: (id: string, name: string, content: string) =>
    request(`/things/configs/${encodeURIComponent(id)}`, { method: 'PUT', body: { name, content } }),
  removeConfig: (id: string) => request(`/things/configs/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  changeState: (id: string, state: 0 | 1) =>
    request(`/things/state/${encodeURIComponent(id)}`, { method: 'PUT', body: { state } }),
  gatewayView: (externalId: string, externalKey: string) =>
    request<unknown>(`/things/bootstrap/${encodeURIComponent(externalId)}`, { auth: { raw: externalKey } }),

  provision: (externalId: string, externalKey: string, name: string) =>
    request<MappingResult>('/mapping', {
      method: 'POST',
      body: { external_id: externalId, external_key: externalKey, ...(name ? { name } : {}) },
      contentType: 'application/json',
    }),

  certs: (thingId: string, offset: number, limit: number) =>
    request<CertsPage>(`/certs/${encodeURIComponent(thingId)}`, { query: { offset, limit } }),
  issueCert: (thingId: string, keyType: string, keyBits: number, valid: string) =>
    request<IssuedCert>('/certs', {
      method: 'POST',
      body: { thing_id: thingId, key_type: keyType, key_bits: keyBits, valid },
      contentType: 'application/json',
    }),
  revokeCerts: (thingId: string) =>
    request<{ RevocationTime: string }>(`/certs/${encodeURIComponent(thingId)}`, { method: 'DELETE' }),

  createKey: (duration: number) =>
    request<IssuedKey>('/keys', { method: 'POST', body: { type: 2, duration } }),
  viewKey: (id: string) => request<KeyView>(`/keys/${encodeURIComponent(id)}`),
  revokeKey: (id: string) => request(`/keys/${encodeURIComponent(id)}`, { method: 'DELETE' }),
};

import { type ListQuery, Tethys, TethysError, type ThingsPage } from '../sdk/src/index.js';

/**
 * The API calls the harness makes outside the measured load (set-up and checks), through
 * the SDK. The load itself is autocannon's or raw sockets', on purpose.
 */
export interface Account {
  email: string;
  password: string;
  token: string;
}

export interface CreatedThing {
  id: string;
  key: string;
}

/** A set-up request may take long (1000 things a request), but never hangs the run. */
const SETUP_TIMEOUT_MS = 120_000;
const fetchWithTimeout: typeof fetch = (input, init) =>
  fetch(input, { ...init, signal: AbortSignal.timeout(SETUP_TIMEOUT_MS) });

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

export class Api {
  /** The SDK without a token (registration, login, publishing as a thing, a gateway's fetch). */
  readonly sdk: Tethys;

  constructor(readonly url: string) {
    this.sdk = new Tethys({ url, fetch: fetchWithTimeout });
  }

  /** The SDK as the holder of `token`. */
  as(token: string): Tethys {
    return this.sdk.withToken(token);
  }

  /** A raw request, for the calls the SDK does not make (the message adapters' access check). */
  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; expect?: number } = {},
  ): Promise<any> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = options.token;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetchWithTimeout(`${this.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    if (res.status !== (options.expect ?? 200)) throw new ApiError(res.status, text, `${method} ${path}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** Registers the account, unless `existing` and it exists (a shared PostgreSQL), then logs in. */
  async createAccount(email: string, password: string, existing = false): Promise<Account> {
    try {
      await this.sdk.users.register(email, password);
    } catch (err) {
      if (!(existing && err instanceof TethysError && err.status === 409)) throw err;
    }
    return { email, password, token: await this.sdk.users.login(email, password) };
  }

  async createChannels(token: string, names: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < names.length; i += 1000) {
      const channels = await this.as(token).channels.createMany(
        names.slice(i, i + 1000).map((name) => ({ name })),
      );
      out.push(...channels.map((c) => c.id));
    }
    return out;
  }

  async createThings(
    token: string,
    things: { name?: string; metadata?: Record<string, unknown> }[],
  ): Promise<CreatedThing[]> {
    return (await this.as(token).things.createMany(things)).map((t) => ({ id: t.id, key: t.key }));
  }

  async connect(token: string, channelIds: string[], thingIds: string[]): Promise<void> {
    await this.as(token).connect(channelIds, thingIds);
  }

  async listThings(token: string, query: ListQuery): Promise<ThingsPage> {
    return this.as(token).things.list(query);
  }
}

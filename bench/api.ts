/** The few API calls the harness makes outside the measured load (set-up and checks). */
export interface Account {
  email: string;
  password: string;
  token: string;
}

export interface CreatedThing {
  id: string;
  key: string;
}

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
  constructor(readonly url: string) {}

  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; expect?: number } = {},
  ): Promise<any> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = options.token;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    if (res.status !== (options.expect ?? 200)) throw new ApiError(res.status, text, `${method} ${path}`);
    return text ? JSON.parse(text) : undefined;
  }

  async createAccount(email: string, password: string): Promise<Account> {
    await this.call('POST', '/users', { body: { email, password }, expect: 201 });
    const { token } = await this.call('POST', '/tokens', { body: { email, password }, expect: 201 });
    return { email, password, token };
  }

  async createChannels(token: string, names: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < names.length; i += 1000) {
      const body = names.slice(i, i + 1000).map((name) => ({ name }));
      const { channels } = await this.call('POST', '/channels/bulk', { token, body, expect: 201 });
      out.push(...(channels as { id: string }[]).map((c) => c.id));
    }
    return out;
  }

  async createThings(
    token: string,
    things: { name?: string; metadata?: Record<string, unknown> }[],
  ): Promise<CreatedThing[]> {
    const { things: created } = await this.call('POST', '/things/bulk', { token, body: things, expect: 201 });
    return (created as CreatedThing[]).map((t) => ({ id: t.id, key: t.key }));
  }

  async connect(token: string, channelIds: string[], thingIds: string[]): Promise<void> {
    await this.call('POST', '/connect', { token, body: { channel_ids: channelIds, thing_ids: thingIds } });
  }

  async listThings(token: string, query: string): Promise<{ total: number; things: unknown[] }> {
    return this.call('GET', `/things?${query}`, { token });
  }
}

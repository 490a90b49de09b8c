import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { Tethys } from '../../sdk/src/index.js';
import { type App, buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

/**
 * Starts the real server on a random loopback port, on the database of this test pass:
 * SQLite in a fresh folder, or, when TETHYS_TEST_PG_URL names a PostgreSQL server, a
 * fresh database created on it (and dropped on close).
 */
export interface TestServer {
  url: string;
  app: App;
  dataDir: string;
  dbUrl: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

export const dialect = process.env.TETHYS_TEST_PG_URL ? 'postgres' : 'sqlite';

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.TETHYS_TEST_PG_URL;
  if (!admin) return { url: '', drop: async () => {} };
  const name = `tethys_t_${crypto.randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-test-'));
  const database =
    env.TETHYS_DB_URL === undefined
      ? await createTestDatabase()
      : { url: env.TETHYS_DB_URL, drop: async () => {} };
  const fullEnv: Record<string, string> = {
    TETHYS_DATA_DIR: dataDir,
    TETHYS_DB_URL: database.url,
    TETHYS_LOG_LEVEL: 'silent',
    // The MQTT listeners bind where HTTP does: loopback only.
    TETHYS_HTTP_HOST: '127.0.0.1',
    TETHYS_DB_POOL_SIZE: '4',
    TETHYS_MQTT_PORT: '0',
    TETHYS_MQTT_TLS_PORT: '0',
    // Weaker hashing keeps the suite fast; the algorithm and code path are the same.
    TETHYS_ARGON2_MEMORY_KIB: '4096',
    TETHYS_ARGON2_ITERATIONS: '1',
    ...env,
  };
  const app = await buildApp(loadConfig(fullEnv));
  watchSerialisation(app.http);
  const address = await app.http.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    app,
    dataDir,
    dbUrl: database.url,
    env: fullEnv,
    async close() {
      await app.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent verbatim instead of JSON.stringify(body). */
  raw?: string | Buffer;
  contentType?: string | null;
  headers?: Record<string, string>;
}

/**
 * With TETHYS_TEST_CONTRACT_DIR set (scripts/test.mjs sets it), every answer the test
 * clients receive is kept there, one JSON line each, for scripts/contract.ts to check
 * against the OpenAPI description: documented = actual, over the whole suite's traffic.
 */
const contractFile = process.env.TETHYS_TEST_CONTRACT_DIR
  ? path.join(process.env.TETHYS_TEST_CONTRACT_DIR, `answers-${process.pid}.jsonl`)
  : null;
const serialisedFile = process.env.TETHYS_TEST_CONTRACT_DIR
  ? path.join(process.env.TETHYS_TEST_CONTRACT_DIR, `serialised-${process.pid}.json-lines`)
  : null;

function record(method: string, url: string, res: Response, text: string): void {
  if (!contractFile) return;
  const line = {
    method,
    path: url.split('?')[0],
    status: res.status,
    contentType: res.headers.get('content-type'),
    body: text.length <= 1_000_000 ? text : null,
  };
  fs.appendFileSync(contractFile, `${JSON.stringify(line)}\n`);
}

/**
 * The server serialises its answers from the routes' answer schemas. That would drop
 * a field a schema lacks, coerce a mistyped value or reorder fields without a word, so
 * with the contract check on, every answer serialised that way is compared with what
 * JSON.stringify makes of the same value (the bytes the code means to send), and each
 * comparison is kept for scripts/contract.ts, which fails on any difference.
 */
function watchSerialisation(http: FastifyInstance): void {
  if (!serialisedFile) return;
  const file = serialisedFile;
  const meant = new WeakMap<object, string>();
  http.addHook('preSerialization', (request, _reply, payload, done) => {
    meant.set(request, JSON.stringify(payload));
    done(null, payload);
  });
  http.addHook('onSend', (request, reply, payload, done) => {
    const expected = meant.get(request);
    if (expected !== undefined && typeof payload === 'string') {
      const line = {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        same: payload === expected,
        ...(payload === expected ? {} : { expected: expected.slice(0, 400), actual: payload.slice(0, 400) }),
      };
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    }
    done(null, payload);
  });
}

/** A loopback port nobody listens on. */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** `doFetch`, with every answer kept for the contract check. */
function recording(doFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await doFetch(input, init);
    const url = new URL(input instanceof globalThis.Request ? input.url : String(input));
    record(init?.method ?? 'GET', url.pathname + url.search, res, await res.clone().text());
    return res;
  };
}

/** fetch, with every answer kept for the contract check (for clients such as the SDK). */
export const recordingFetch: typeof fetch = recording(fetch);

/** The raw HTTP client of the tests (what the wire is tested with), and the SDK for set-up. */
export interface Request {
  (method: string, url: string, options?: RequestOptions): Promise<Reply>;
  /**
   * The SDK on the same server, with `token`, its traffic recorded for the contract
   * check: for set-up (users, things, channels, connections). Tests of the wire itself
   * (statuses, headers, exact bodies) send raw requests.
   */
  sdk(token?: string): Tethys;
}

/**
 * A small HTTP client for tests: JSON in, status + headers + parsed body out. `doFetch`
 * replaces fetch (a server reached through fastify's inject).
 */
export function client(base: string, doFetch: typeof fetch = fetch): Request {
  const request = async (method: string, url: string, options: RequestOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers.authorization = options.token;
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && options.contentType !== null)
      headers['content-type'] = options.contentType ?? 'application/json';
    const res = await doFetch(base + url, { method, headers, body: body as BodyInit | undefined });
    const text = await res.text();
    record(method, url, res, text);
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  const sdkFetch = doFetch === fetch ? recordingFetch : recording(doFetch);
  return Object.assign(request, {
    sdk: (token?: string) => new Tethys({ url: base, token, fetch: sdkFetch }),
  });
}

/** Registers a user and logs in (through the SDK); returns the login token. */
export async function userToken(
  request: Request,
  email = `u${crypto.randomBytes(5).toString('hex')}@example.com`,
  password = 'secret-password',
): Promise<{ email: string; password: string; token: string }> {
  const tethys = request.sdk();
  await tethys.users.register(email, password);
  return { email, password, token: await tethys.users.login(email, password) };
}

/** The server of one describe block, started by its `before` hook and closed by its `after` hook. */
export interface ServerFixture {
  /** The started server; only inside tests and hooks (it does not exist while tests are collected). */
  readonly server: TestServer;
  /** The HTTP client of that server; may be taken out of the fixture early (it looks the server up per call). */
  readonly request: Request;
  /** Registers a fresh user and logs in (userToken). */
  user(): Promise<{ email: string; password: string; token: string }>;
}

export interface ServerFixtureOptions {
  /** Starts the server instead of startServer (a file's own wrapper). */
  start?: (env: Record<string, string>) => Promise<TestServer>;
  /** Runs in the `after` hook before the server closes (ending clients connected to it). */
  beforeClose?: () => unknown;
}

/**
 * Registers, on the enclosing describe, a `before` hook starting a server with `env` (a
 * function is called in the hook, for values made by earlier hooks) and an `after` hook
 * closing it. Hooks run in the order registered: call it before the describe's own hooks.
 */
export function withServer(
  env: Record<string, string> | (() => Record<string, string>) = {},
  options: ServerFixtureOptions = {},
): ServerFixture {
  let started: TestServer | undefined;
  let http: Request | undefined;
  before(async () => {
    started = await (options.start ?? startServer)(typeof env === 'function' ? env() : env);
    http = client(started.url);
  });
  after(async () => {
    try {
      await options.beforeClose?.();
    } finally {
      await started?.close();
    }
  });
  const notYet = () => new Error('withServer: the server is started by the before hook, not yet run');
  const live = () => {
    if (!http) throw notYet();
    return http;
  };
  const fixture: ServerFixture = {
    get server() {
      if (!started) throw notYet();
      return started;
    },
    request: Object.assign(
      (method: string, url: string, requestOptions?: RequestOptions) => live()(method, url, requestOptions),
      { sdk: (token?: string) => live().sdk(token) },
    ),
    user: () => userToken(fixture.request),
  };
  return fixture;
}

/** Two instances sharing one database (one data folder on SQLite) and one nats-server. */
export interface Pair {
  a: TestServer;
  b: TestServer;
  reqA: Request;
  reqB: Request;
  /** A user's token, created through A. */
  token: string;
  close(): Promise<void>;
}

export async function startPair(natsUrl: string, env: Record<string, string> = {}): Promise<Pair> {
  const database = await createTestDatabase();
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-pair-'));
  const fullEnv = {
    MF_NATS_URL: natsUrl,
    TETHYS_DB_URL: database.url,
    TETHYS_DATA_DIR: shared,
    MF_AUTH_SECRET: crypto.randomBytes(32).toString('base64url'),
    ...env,
  };
  const started: TestServer[] = [];
  const close = async () => {
    for (const server of started.reverse()) await server.close();
    await database.drop();
    fs.rmSync(shared, { recursive: true, force: true });
  };
  try {
    // One after the other: the second finds the migrations done.
    started.push(await startServer(fullEnv));
    started.push(await startServer(fullEnv));
    const [a, b] = started as [TestServer, TestServer];
    const reqA = client(a.url);
    return { a, b, reqA, reqB: client(b.url), token: (await userToken(reqA)).token, close };
  } catch (err) {
    await close();
    throw err;
  }
}

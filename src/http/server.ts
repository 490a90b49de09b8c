import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { withRequestContext } from '../audit/context.js';
import { isConcurrentChange } from '../db/transactions.js';
import {
  DomainError,
  invalidQuery,
  Messages,
  malformed,
  statusOf,
  type UnauthenticatedStatus,
  unsupportedContentType,
} from '../errors.js';
import type { Idempotent } from './idempotency.js';
import { acceptableJson } from './json.js';
import { RequestHistogram } from './metrics.js';
import { QUERY_ERROR, queryError } from './query.js';
import { answerSerialiser } from './serialise.js';

/**
 * How a route reads its body (API.md §0.3):
 * - `json`: Content-Type must contain application/json;
 * - `json-exact`: it must be exactly application/json (provision, certs);
 * - `json-any`: Content-Type is not checked, the body is JSON;
 * - `json-optional`: no body at all reads as `{}`; a body is read as `json`;
 * - `raw`: bytes as sent (message adapter).
 */
export type BodyMode = 'json' | 'json-exact' | 'json-any' | 'json-optional' | 'raw';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Status for bad credentials: 401 in things, 403 in users, auth and bootstrap. */
    unauthenticated?: UnauthenticatedStatus;
    body?: BodyMode;
    /** Message for a body that fails its schema (defaults to Mainflux's). */
    malformedMessage?: string;
    /**
     * `first`: a query parameter given more than once counts as its first value, as
     * Go's `Query().Get` reads it (bootstrap); by default a repetition is an error.
     */
    query?: 'first';
    /**
     * Takes an `Idempotency-Key` header (src/http/idempotency.ts): a retry gets the
     * first answer again. `true` keys by the caller's user; a route may name its caller.
     */
    idempotent?: Idempotent;
  }
}

/** A request id a client may choose (X-Request-Id). */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': '*',
  'access-control-allow-headers': '*',
  'access-control-expose-headers': 'Location',
};

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface HttpServerOptions {
  logger: Logger;
  bodyLimit: number;
  /** Where request.ip comes from (fastify's trustProxy). */
  trustProxy?: boolean | number | string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  https?: { cert: Buffer; key: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean };
}

/**
 * A lane answers requests before fastify routes them; it returns true when it took the
 * request. It must answer exactly as the fastify route for the same request would
 * (status, headers, body, metrics) and leave every request it is unsure of to fastify.
 */
export type Lane = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

interface ServerState {
  lanes: Lane[];
  /** fastify.close() has begun: fastify answers 503 itself (return503OnClosing). */
  closing: boolean;
  /** A graceful shutdown has begun: every answer ends its connection. */
  draining: boolean;
}

const lanesOf = new WeakMap<FastifyInstance, ServerState>();

/** Adds a lane in front of this server's routes (see Lane). */
export function addLane(app: FastifyInstance, lane: Lane): void {
  const state = lanesOf.get(app);
  if (!state) throw new Error('addLane: not a server from createHttpServer');
  state.lanes.push(lane);
}

/** How long a connection may stay quiet once a shutdown began before it is closed (see drain). */
const DRAIN_IDLE_GRACE_MS = 1000;

/**
 * The first half of a graceful shutdown: stops accepting connections, answers every
 * request that arrives on an open one (with `Connection: close`, so the client opens
 * its next connection elsewhere), and returns once every connection is gone or the
 * deadline (Date.now() value) has passed; what is still open then is cut.
 *
 * `http.Server.close()` would also drop every keep-alive connection that is between
 * two requests at once, and a request already on its way on one of them is lost
 * without an answer (the client sees the connection reset). So the listening socket is
 * closed as a plain net.Server; connections that say nothing for DRAIN_IDLE_GRACE_MS
 * after that are closed (a client writing continuously has sent its next request by
 * then, and gets it answered); the rest close after their answers.
 */
export async function drainHttp(app: FastifyInstance, deadline: number): Promise<void> {
  const state = lanesOf.get(app);
  if (!state) throw new Error('drainHttp: not a server from createHttpServer');
  state.draining = true;
  const server = app.server as http.Server;
  const open = () =>
    new Promise<number>((resolve) => server.getConnections((_err, count) => resolve(count ?? 0)));
  // Its callback waits for every connection to end: drained below.
  if (server.listening) net.Server.prototype.close.call(server);
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const graceEnds = Math.min(deadline, Date.now() + DRAIN_IDLE_GRACE_MS);
  while (Date.now() < graceEnds && (await open()) > 0) await wait(20);
  server.closeIdleConnections();
  while (Date.now() < deadline && (await open()) > 0) {
    await wait(20);
    server.closeIdleConnections();
  }
  server.closeAllConnections();
}

/** The headers every answer carries (set by the onRequest hook for fastify's answers). */
export const CORS_HEADER_LIST = Object.entries(CORS_HEADERS);

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const state: ServerState = { lanes: [], closing: false, draining: false };
  const app = Fastify({
    // Fastify's own server, with lanes in front (fastify sets these four on the server it makes).
    serverFactory: (handler, factoryOptions) => {
      const opts = factoryOptions as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
        maxRequestsPerSocket?: number;
      };
      const route = (req: http.IncomingMessage, res: http.ServerResponse) => {
        // Served, then closed: the client opens its next connection elsewhere.
        if (state.draining) res.setHeader('connection', 'close');
        if (!state.closing) for (const lane of state.lanes) if (lane(req, res)) return;
        handler(req, res);
      };
      const limits: http.ServerOptions = {
        // A request's headers, and the whole request, must arrive in time: a client that
        // opens connections and sends nothing (or a byte a minute) holds no socket for long.
        headersTimeout: options.headersTimeoutMs,
        requestTimeout: options.requestTimeoutMs,
        // How often those timeouts are checked (Node's default, 30 s, would let a silent
        // connection live up to 30 s past its timeout).
        connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
      };
      const server = options.https
        ? https.createServer({ ...options.https, ...limits }, route)
        : http.createServer(limits, route);
      server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
      server.setTimeout(opts.connectionTimeout ?? 0);
      if (opts.maxRequestsPerSocket) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      // Beyond this many open connections, new ones are closed as they come (Node drops them).
      server.maxConnections = options.maxConnections;
      return server;
    },
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    // A hop count is accepted by fastify (proxy-addr) though its types omit it.
    trustProxy: (options.trustProxy ?? false) as boolean | string,
    return503OnClosing: true,
    // A client's own X-Request-Id names its request in the logs and the audit trail
    // when it is a short printable token; otherwise the server names it.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
        keywords: [QUERY_ERROR],
      },
    },
    routerOptions: { maxParamLength: 5000 },
    // A path that is not valid percent-encoding gets the same JSON error body as any other 400.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
  }) as unknown as FastifyInstance;

  // Answers are serialised from the routes' answer schemas (fastify's compiled
  // serialiser). It would drop a field a schema missed, or coerce a mistyped value,
  // without a word, and Mainflux's bodies matter to the byte: the test suite compares
  // every answer it serialises with JSON.stringify of the same value (test/helpers/server.ts)
  // and checks it against the OpenAPI description (scripts/contract.ts).
  app.setSerializerCompiler(({ schema }) => answerSerialiser(schema));

  // Every body arrives as bytes; the route's mode decides how it is read (below), so
  // each family of endpoints gets Mainflux's Content-Type rule, not fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  lanesOf.set(app, state);
  // While closing, fastify answers 503 (return503OnClosing): lanes step aside.
  app.addHook('preClose', (done) => {
    state.closing = true;
    done();
  });

  // The rest of the request runs in its context: the events it causes record where it
  // came from and its id (audit trail).
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(CORS_HEADERS);
    withRequestContext({ source: request.ip ?? null, requestId: request.id }, done);
  });

  // Callback style: no promise a request for the routes that read no JSON.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.routeOptions.config.query === 'first') {
      const query = request.query as Record<string, unknown>;
      for (const [name, value] of Object.entries(query)) if (Array.isArray(value)) query[name] = value[0];
    }
    const mode = request.routeOptions.config.body;
    if (!mode || mode === 'raw') return done();
    const contentType = request.headers['content-type'] ?? '';
    if (mode === 'json-optional' && !(request.body as Buffer | undefined)?.length) {
      request.body = {};
      return done();
    }
    if ((mode === 'json' || mode === 'json-optional') && !contentType.includes('application/json'))
      return done(unsupportedContentType());
    if (mode === 'json-exact' && contentType !== 'application/json') return done(unsupportedContentType());
    const raw = request.body as Buffer | undefined;
    const bad = () => malformed(request.routeOptions.config.malformedMessage ?? Messages.malformed);
    if (!raw || raw.length === 0) return done(bad());
    try {
      request.body = acceptableJson(JSON.parse(raw.toString('utf8')));
    } catch {
      return done(bad());
    }
    done();
  });

  // One histogram per process, shared by every server built in it (tests build many).
  const duration = RequestHistogram.shared();
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      request.method,
      request.routeOptions.url ?? 'unknown',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).type('application/json').send({ error: '404 page not found' });
  });
  app.options('*', async (_request, reply) => {
    reply.code(200).send();
  });
  return app;
}

/** Routes that exist for another method answer 405, as Mainflux's router does. */
export function answerWrongMethods(
  app: FastifyInstance,
  routes: { method: string | string[]; url: string }[],
): void {
  const byUrl = new Map<string, Set<string>>();
  for (const r of routes) {
    const set = byUrl.get(r.url) ?? new Set<string>();
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) set.add(m.toUpperCase());
    byUrl.set(r.url, set);
  }
  for (const [url, methods] of byUrl) {
    if (url === '*' || url.startsWith('/docs')) continue;
    const missing = METHODS.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      schema: { hide: true },
      handler: async (_request, reply) => {
        reply.code(405).type('application/json').send({ error: 'method not allowed' });
      },
    });
  }
}

export interface ErrorAnswer {
  status: number;
  message: string;
  /** Seconds, for the Retry-After header (503 of a dependency, 429). */
  retryAfter?: number;
}

/**
 * The one error mapping: status and message of the JSON error body for anything a
 * request handler throws, or null for a fault of ours (answered 500, logged).
 */
export function errorAnswer(
  error: unknown,
  unauthenticated: UnauthenticatedStatus,
  malformedMessage: string = Messages.malformed,
  /** The route's querystring schema, whose parameters may word their own error. */
  querystring?: unknown,
): ErrorAnswer | null {
  let err = error;
  const fe = error as FastifyError & { validationContext?: string };
  if (fe?.validation) {
    err =
      fe.validationContext === 'querystring'
        ? queryError(querystring, fe.validation[0]?.instancePath)
        : fe.validationContext === 'params'
          ? invalidQuery()
          : malformed(
              `${malformedMessage}: ${fe.validationContext ?? 'body'}${fe.validation[0]?.instancePath ?? ''} ${fe.validation[0]?.message ?? ''}`.trim(),
            );
  }
  if (err instanceof DomainError) {
    const answer: ErrorAnswer = { status: statusOf(err, unauthenticated), message: err.message };
    if (err.retryAfterSeconds !== undefined) answer.retryAfter = err.retryAfterSeconds;
    return answer;
  }
  if (isConcurrentChange(err)) return { status: 409, message: Messages.concurrentChange };
  const status = fe?.statusCode;
  if (status && status >= 400 && status < 500) {
    const message =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'request body is too large'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? Messages.contentType
          : fe.message;
    return { status, message };
  }
  return null;
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const config = request.routeOptions?.config;
  const answer = errorAnswer(
    error,
    config?.unauthenticated ?? 403,
    config?.malformedMessage,
    request.routeOptions?.schema?.querystring,
  );
  if (answer) {
    if (answer.retryAfter !== undefined) reply.header('retry-after', String(answer.retryAfter));
    reply.code(answer.status).type('application/json').send({ error: answer.message });
    return;
  }
  request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
  reply.code(500).type('application/json').send({ error: 'internal server error' });
}

/** An empty success body still says it is JSON, as every Mainflux service does. */
export function empty(reply: FastifyReply, status: number): void {
  reply.code(status).type('application/json').send();
}

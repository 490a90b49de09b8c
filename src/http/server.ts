import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import {
  DomainError,
  invalidQuery,
  Messages,
  malformed,
  statusOf,
  type UnauthenticatedStatus,
  unsupportedContentType,
} from '../errors.js';
import { acceptableJson } from './json.js';
import { RequestHistogram } from './metrics.js';

/**
 * How a route reads its body (API.md §0.3):
 * - `json`: Content-Type must contain application/json;
 * - `json-exact`: it must be exactly application/json (provision, certs);
 * - `json-any`: Content-Type is not checked, the body is JSON;
 * - `raw`: bytes as sent (message adapter).
 */
export type BodyMode = 'json' | 'json-exact' | 'json-any' | 'raw';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Status for bad credentials: 401 in things, 403 in users, auth and bootstrap. */
    unauthenticated?: UnauthenticatedStatus;
    body?: BodyMode;
    /** Message for a body that fails its schema (defaults to Mainflux's). */
    malformedMessage?: string;
  }
}

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
  https?: { cert: Buffer; key: Buffer };
}

export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    ...(options.https ? { https: options.https } : {}),
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false },
    },
    routerOptions: { maxParamLength: 5000 },
    // A path that is not valid percent-encoding gets the same JSON error body as any other 400.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
  }) as unknown as FastifyInstance;

  // Every body arrives as bytes; the route's mode decides how it is read (below), so
  // each family of endpoints gets Mainflux's Content-Type rule, not fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(CORS_HEADERS);
    done();
  });

  // Callback style: no promise a request for the routes that read no JSON.
  app.addHook('preValidation', (request, _reply, done) => {
    const mode = request.routeOptions.config.body;
    if (!mode || mode === 'raw') return done();
    const contentType = request.headers['content-type'] ?? '';
    if (mode === 'json' && !contentType.includes('application/json')) return done(unsupportedContentType());
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

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const unauth = request.routeOptions?.config?.unauthenticated ?? 403;
  let err = error;
  const fe = error as FastifyError & { validationContext?: string };
  if (fe?.validation) {
    err =
      fe.validationContext === 'querystring' || fe.validationContext === 'params'
        ? invalidQuery()
        : malformed(
            `${request.routeOptions.config.malformedMessage ?? Messages.malformed}: ${fe.validationContext ?? 'body'}${fe.validation[0]?.instancePath ?? ''} ${fe.validation[0]?.message ?? ''}`.trim(),
          );
  }
  if (err instanceof DomainError) {
    reply.code(statusOf(err, unauth)).type('application/json').send({ error: err.message });
    return;
  }
  const status = fe?.statusCode;
  if (status && status >= 400 && status < 500) {
    const message =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'request body is too large'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? Messages.contentType
          : fe.message;
    reply.code(status).type('application/json').send({ error: message });
    return;
  }
  request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
  reply.code(500).type('application/json').send({ error: 'internal server error' });
}

/** An empty success body still says it is JSON, as every Mainflux service does. */
export function empty(reply: FastifyReply, status: number): void {
  reply.code(status).type('application/json').send();
}

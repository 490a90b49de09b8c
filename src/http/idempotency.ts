import crypto from 'node:crypto';
import { pipeline, type Readable, Transform } from 'node:stream';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import { DomainError, malformed } from '../errors.js';
import { IdempotencyMessages, type IdempotencyService, MAX_KEY_LENGTH } from '../idempotency/service.js';
import type { Answer, Claim } from '../idempotency/types.js';

/**
 * A route's `config.idempotent`: `true` keys requests by the caller's user (the default
 * scope given to idempotentRoutes); a route whose callers are of another kind, or are
 * found another way, says how to name the caller. `scope` throws `unauthenticated` for
 * a request without valid credentials: such a request is refused anyway, nothing is kept.
 */
export type Idempotent = true | { scope(request: FastifyRequest): Promise<string> };

/** The scope of a user's keys: their id (a login token and an API key of one user share it). */
export function userScope(identity: { userId: string; email: string }): string {
  return identity.userId ? `user:${identity.userId}` : `email:${identity.email}`;
}

/**
 * The key of an `Idempotency-Key` header: the draft's sf-string (`"…"`, with `\"` and
 * `\\` escapes), or, for practicality, the same characters bare (no space, quote or
 * backslash); 1 to MAX_KEY_LENGTH characters. null when it is neither.
 */
export function parseIdempotencyKey(value: string): string | null {
  const text = value.trim();
  let key: string;
  if (text.startsWith('"')) {
    const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(text);
    if (!quoted) return null;
    key = quoted[1]!.replace(/\\(["\\])/g, '$1');
  } else {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(text)) return null;
    key = text;
  }
  return key.length > 0 && key.length <= MAX_KEY_LENGTH ? key : null;
}

/** Headers a replay does not repeat: the connection's, the body's length, and those every answer gets. */
const NOT_REPLAYED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date']);

function replayedHeaders(headers: Record<string, unknown>): Answer['headers'] {
  const kept: Answer['headers'] = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_REPLAYED.has(name) || name.startsWith('access-control-')) continue;
    kept[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return kept;
}

/** A request with a key: the fingerprint being taken, then the claim once it holds the key. */
interface Keyed {
  key: string;
  hash: crypto.Hash;
  claim?: Claim;
  /** The answer reached onSend: it is being kept, then sent. */
  answered?: boolean;
}

type Hook = RouteOptions[keyof Pick<RouteOptions, 'preParsing' | 'preHandler' | 'onSend' | 'onResponse'>];
const listOf = (hooks: Hook) => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/**
 * Idempotent writes: a route whose config says `idempotent` takes an `Idempotency-Key`
 * header. Call before the routes are added. A request without the header passes each
 * hook at the cost of a map lookup (no query). With it:
 *
 * - preParsing: the key is read (a bad one: 400), and the body is hashed as it streams
 *   in, after the method and the path: the request's fingerprint;
 * - preHandler (the body has passed its schema): the caller is named, and the key is
 *   claimed (IdempotencyService.begin): the request runs, or the first answer is sent
 *   again, or 409 (still running) or 422 (another request);
 * - onSend: the answer is kept before it goes out (a retry that follows it finds it),
 *   or the key let go when it is not to be kept (5xx and the like);
 * - onResponse: a claim no answer settled (the request ended without one) is let go.
 *
 * Keeping the answer makes onSend asynchronous. A handler that calls `reply.send()` and
 * resolves with nothing would then be taken by fastify to have answered nothing, and
 * answered again, empty; so a keyed request's handler is wrapped to resolve with the
 * reply once its answer is on its way (fastify's own convention, `return reply`). That
 * holds while the server's own onSend hooks, which run before this one, are synchronous.
 */
export function idempotentRoutes(
  app: FastifyInstance,
  options: { service: IdempotencyService; scope: (request: FastifyRequest) => Promise<string> },
): void {
  const { service } = options;
  const keyed = new WeakMap<FastifyRequest, Keyed>();

  function fingerprint(
    request: FastifyRequest,
    _reply: FastifyReply,
    payload: Readable,
    done: (err: Error | null, payload?: Readable) => void,
  ): void {
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      done(null, payload);
      return;
    }
    const key = typeof header === 'string' ? parseIdempotencyKey(header) : null;
    if (key === null) {
      done(malformed(IdempotencyMessages.malformed));
      return;
    }
    const hash = crypto.createHash('sha256').update(`${request.method} ${request.url}\n`);
    keyed.set(request, { key, hash });
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        hash.update(chunk);
        next(null, chunk);
      },
    });
    // An error of the request (a client gone mid-body) reaches the body's reader.
    pipeline(payload, hashing, () => {});
    done(null, hashing);
  }

  // Callback style: a request without a key passes without a promise.
  function claim(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const entry = keyed.get(request);
    if (!entry) {
      done();
      return;
    }
    // Replayed: answered here, and the handler does not run (done is not called).
    begin(request, reply, entry).then((replayed) => replayed || done(), done);
  }

  /** Claims the key, or sends the first answer again (true). */
  async function begin(request: FastifyRequest, reply: FastifyReply, entry: Keyed): Promise<boolean> {
    const route = request.routeOptions.config.idempotent;
    let scope: string;
    try {
      scope = await (typeof route === 'object' ? route.scope : options.scope)(request);
    } catch (err) {
      if (!(err instanceof DomainError && err.kind === 'unauthenticated')) throw err;
      // Refused by the handler: nothing to keep.
      keyed.delete(request);
      return false;
    }
    const outcome = await service.begin(scope, entry.key, entry.hash.digest('hex'));
    if ('claim' in outcome) {
      entry.claim = outcome.claim;
      return false;
    }
    keyed.delete(request);
    const { status, headers, body } = outcome.replay;
    reply
      .code(status)
      .headers(headers)
      .send(body.length > 0 ? body : undefined);
    return true;
  }

  function keep(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (err: Error | null, payload?: unknown) => void,
  ): void {
    const entry = keyed.get(request);
    if (!entry?.claim) {
      done(null, payload);
      return;
    }
    entry.answered = true;
    keyed.delete(request);
    const body =
      payload === undefined || payload === null
        ? Buffer.alloc(0)
        : typeof payload === 'string'
          ? Buffer.from(payload)
          : Buffer.isBuffer(payload)
            ? payload
            : null; // a stream: not kept
    const answer = body && { status: reply.statusCode, headers: replayedHeaders(reply.getHeaders()), body };
    service.settle(entry.claim, answer).then(() => done(null, payload));
  }

  function letGo(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const entry = keyed.get(request);
    if (entry?.claim) {
      keyed.delete(request);
      void service.settle(entry.claim, null);
    }
    done();
  }

  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request, reply) {
      const entry = keyed.get(request);
      const result = handler.call(this, request, reply);
      if (!entry?.claim || !(result instanceof Promise)) return result;
      return result.then((value) => (value === undefined && entry.answered ? reply : value));
    };
    route.preParsing = [...listOf(route.preParsing), fingerprint] as RouteOptions['preParsing'];
    route.preHandler = [...listOf(route.preHandler), claim] as RouteOptions['preHandler'];
    route.onSend = [...listOf(route.onSend), keep] as RouteOptions['onSend'];
    route.onResponse = [...listOf(route.onResponse), letGo] as RouteOptions['onResponse'];
  });
}

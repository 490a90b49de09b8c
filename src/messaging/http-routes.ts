import type http from 'node:http';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { malformed } from '../errors.js';
import { RequestHistogram } from '../http/metrics.js';
import { Errors, NoBody, ThingKey } from '../http/schemas.js';
import { addLane, CORS_HEADER_LIST, errorAnswer, type Lane } from '../http/server.js';
import type { MessagingService } from './service.js';
import { CHANNEL_ID, normalizeSubtopic } from './topics.js';

const UNAUTHENTICATED = 403 as const;
const adapter = { unauthenticated: UNAUTHENTICATED, body: 'raw' as const };

/** The thing key: the raw header, or `Thing <key>` as later Mainflux clients send it. */
function thingKey(header: string | undefined): string {
  if (!header) return '';
  const m = /^thing\s+(.+)$/i.exec(header.trim());
  return (m ? m[1]! : header).trim();
}

/** One message from the HTTP adapter; throws the DomainError the answer is made of. */
async function publish(
  service: MessagingService,
  chanId: string,
  wildcard: string | undefined,
  authorization: string | undefined,
  payload: Buffer,
): Promise<void> {
  if (!CHANNEL_ID.test(chanId)) throw malformed('invalid channel id');
  const subtopic = normalizeSubtopic(wildcard ?? '');
  if (subtopic === null) throw malformed('invalid subtopic');
  await service.publishWithKey(thingKey(authorization), chanId, subtopic, payload, 'http');
}

/**
 * HTTP message adapter (API.md §7), at /http/channels/… as behind Mainflux's gateway and
 * at /channels/…. One implementation answers every publish (`respond`). A lane in front
 * of fastify takes the common request (a POST with a Content-Length within the limit and
 * nothing to decode in its path) without fastify's per-request machinery (routing,
 * hooks, reply objects, a child logger), which was over half the cost of a publish.
 * The fastify routes declare the operations (the OpenAPI entries, 405 for other
 * methods) and bring the rare requests to the same `respond` once fastify has read the
 * body (chunked or oversize bodies, percent-encoded paths, `Expect`).
 */
export function messagingRoutes(
  app: FastifyInstance,
  service: MessagingService,
  maxPayload: number,
  logger: Logger,
): void {
  const respond = responder(service, logger);
  const handler = (
    request: FastifyRequest<{ Params: { chanId: string; '*'?: string } }>,
    reply: FastifyReply,
  ) => {
    const payload = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    reply.hijack();
    respond(reply.raw, request.params.chanId, request.params['*'], request.headers.authorization, payload);
  };
  const schema = (subtopic: boolean) => ({
    tags: ['messages'],
    summary: subtopic
      ? 'Publish a message on a subtopic of a channel (Authorization: the thing key); any payload'
      : 'Publish a message on a channel (Authorization: the thing key); any payload',
    params: Type.Object({
      chanId: Type.String(),
      ...(subtopic ? { '*': Type.String({ description: 'the subtopic: words separated by /' }) } : {}),
    }),
    response: { 202: NoBody('Accepted: the message bus has it'), ...Errors },
    ...ThingKey,
  });
  for (const prefix of ['/http', '']) {
    app.post(
      `${prefix}/channels/:chanId/messages`,
      { config: adapter, bodyLimit: maxPayload, schema: schema(false) },
      handler,
    );
    app.post(
      `${prefix}/channels/:chanId/messages/*`,
      { config: adapter, bodyLimit: maxPayload, schema: schema(true) },
      handler,
    );
  }
  addLane(app, messageLane(respond, maxPayload));
}

type Respond = (
  res: http.ServerResponse,
  chanId: string,
  wildcard: string | undefined,
  authorization: string | undefined,
  payload: Buffer,
) => void;

/** The one publish of the HTTP adapter: 202 once the bus has the message, else the mapped error. */
function responder(service: MessagingService, logger: Logger): Respond {
  return (res, chanId, wildcard, authorization, payload) => {
    publish(service, chanId, wildcard, authorization, payload).then(
      () => answer(res, 202, null),
      (err: unknown) => {
        const a = errorAnswer(err, UNAUTHENTICATED);
        if (!a) logger.error({ err, chanId, method: 'POST' }, 'request failed');
        answer(res, a?.status ?? 500, a?.message ?? 'internal server error', a?.retryAfter);
      },
    );
  };
}

/** A message path with nothing to decode: `%` anywhere goes to the router, which decodes. */
const MESSAGE_PATH = /^\/(http\/)?channels\/([^/?#%]+)\/messages(?:\/([^?#%]*))?(?:\?[^#]*)?$/;

/**
 * The common request to the adapter, taken before fastify: it reads the body itself,
 * answers with `respond`, and records the request-duration metric under the labels
 * fastify's routes would.
 */
function messageLane(respond: Respond, maxPayload: number): Lane {
  const duration = RequestHistogram.shared();
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = MESSAGE_PATH.exec(req.url ?? '');
    if (!m) return false;
    const h = req.headers;
    const length = Number(h['content-length']);
    if (!(length <= maxPayload) || h['transfer-encoding'] !== undefined || h.expect !== undefined)
      return false;
    const started = performance.now();
    const route = `${m[1] ? '/http' : ''}/channels/:chanId/messages${m[3] !== undefined ? '/*' : ''}`;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      const payload = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      respond(res, m[2]!, m[3], h.authorization, payload);
    });
    res.once('finish', () => {
      duration.observe('POST', route, res.statusCode, (performance.now() - started) / 1000);
    });
    return true;
  };
}

/** CORS headers, then an empty body or `{"error": …}` as JSON (as every other route answers). */
function answer(res: http.ServerResponse, status: number, error: string | null, retryAfter?: number): void {
  for (const [name, value] of CORS_HEADER_LIST) res.setHeader(name, value);
  if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
  if (error === null) {
    res.setHeader('content-length', '0');
    res.writeHead(status).end();
    return;
  }
  const body = JSON.stringify({ error });
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', String(Buffer.byteLength(body)));
  res.writeHead(status).end(body);
}

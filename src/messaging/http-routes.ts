import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { malformed } from '../errors.js';
import type { MessagingService } from './service.js';
import { CHANNEL_ID, normalizeSubtopic } from './topics.js';

const adapter = { unauthenticated: 403 as const, body: 'raw' as const };

/** The thing key: the raw header, or `Thing <key>` as later Mainflux clients send it. */
function thingKey(header: string | undefined): string {
  if (!header) return '';
  const m = /^thing\s+(.+)$/i.exec(header.trim());
  return (m ? m[1]! : header).trim();
}

/** HTTP message adapter (API.md §7), at /http/channels/… as behind Mainflux's gateway and at /channels/…. */
export function messagingRoutes(app: FastifyInstance, service: MessagingService, maxPayload: number): void {
  const handler = async (
    request: FastifyRequest<{ Params: { chanId: string; '*'?: string } }>,
    reply: any,
  ) => {
    const { chanId } = request.params;
    if (!CHANNEL_ID.test(chanId)) throw malformed('invalid channel id');
    const subtopic = normalizeSubtopic(request.params['*'] ?? '');
    if (subtopic === null) throw malformed('invalid subtopic');
    const body = request.body;
    const payload = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    await service.publishWithKey(thingKey(request.headers.authorization), chanId, subtopic, payload, 'http');
    reply.code(202).send();
  };
  const schema = {
    tags: ['messages'],
    summary: 'Publish a message on a channel (Authorization: the thing key); any payload',
    params: Type.Object({ chanId: Type.String(), '*': Type.Optional(Type.String()) }),
  };
  for (const prefix of ['/http', '']) {
    app.post(
      `${prefix}/channels/:chanId/messages`,
      { config: adapter, bodyLimit: maxPayload, schema },
      handler,
    );
    app.post(
      `${prefix}/channels/:chanId/messages/*`,
      { config: adapter, bodyLimit: maxPayload, schema },
      handler,
    );
  }
}

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Opt, omitEmpty } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { AuthService } from './service.js';

const keys = { unauthenticated: 403 as const };
const tags = ['keys'];

export function authRoutes(app: FastifyInstance, service: AuthService): void {
  app.post<{ Body: { type?: number | null; duration?: number | null } }>(
    '/keys',
    {
      config: { ...keys, body: 'json' },
      schema: {
        tags,
        summary:
          'Issue a key: type 2 = API key (needs a login token), duration in seconds (0 = never expires)',
        body: Type.Object({ type: Opt(Type.Integer()), duration: Opt(Type.Integer()) }),
      },
    },
    async (request, reply) => {
      const issued = await service.issueKey(
        request.headers.authorization,
        request.body.type ?? 0,
        request.body.duration ?? 0,
      );
      reply.code(201).send(
        omitEmpty({
          id: issued.id,
          value: issued.value,
          issued_at: issued.issuedAt.toISOString(),
          expires_at: issued.expiresAt?.toISOString(),
        }),
      );
    },
  );

  app.get<{ Params: { keyId: string } }>(
    '/keys/:keyId',
    { config: keys, schema: { tags, summary: 'View an API key you issued' } },
    async (request) => {
      const key = await service.retrieveKey(request.headers.authorization, request.params.keyId);
      return omitEmpty({
        id: key.id,
        issuer_id: key.issuerId,
        subject: key.subject,
        type: key.type,
        issued_at: key.issuedAt.toISOString(),
        expires_at: key.expiresAt?.toISOString(),
      });
    },
  );

  app.delete<{ Params: { keyId: string } }>(
    '/keys/:keyId',
    { config: keys, schema: { tags, summary: 'Revoke an API key (204 even when it does not exist)' } },
    async (request, reply) => {
      await service.revokeKey(request.headers.authorization, request.params.keyId);
      empty(reply, 204);
    },
  );
}

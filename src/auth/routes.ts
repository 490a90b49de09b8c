import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Answer, Errors, NoBody, Opt, omitEmpty } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { AuthService } from './service.js';

const keys = { unauthenticated: 403 as const };
const tags = ['keys'];

// ---- answers (times are RFC 3339, as toISOString writes them) ---------------------
const Time = (description: string) => Type.String({ format: 'date-time', description });
const IssuedKey = Answer(
  'The issued key: `value` is the token to use as Authorization; a login key (type 0) has no `id`, a key that never expires no `expires_at`',
  {
    id: Type.Optional(Type.String()),
    value: Type.String(),
    issued_at: Time('when it was issued'),
    expires_at: Type.Optional(Time('when it expires')),
  },
);
const KeyView = Answer('An API key (without its value; `expires_at` left out when it never expires)', {
  id: Type.String(),
  issuer_id: Type.String(),
  subject: Type.String({ description: "the issuer's email" }),
  type: Type.Integer({ description: '2: API key' }),
  issued_at: Time('when it was issued'),
  expires_at: Type.Optional(Time('when it expires')),
});

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
        response: { 201: IssuedKey, ...Errors },
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
    {
      config: keys,
      schema: { tags, summary: 'View an API key you issued', response: { 200: KeyView, ...Errors } },
    },
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
    {
      config: keys,
      schema: {
        tags,
        summary: 'Revoke an API key (204 even when it does not exist)',
        response: { 204: NoBody('Revoked (also when there was nothing to revoke)'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.revokeKey(request.headers.authorization, request.params.keyId);
      empty(reply, 204);
    },
  );
}

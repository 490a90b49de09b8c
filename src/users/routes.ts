import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { count, jsonObject, Param } from '../http/query.js';
import { Answer, Errors, Metadata, NoBody, Opt, omitEmpty, Public } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { UsersService } from './service.js';
import type { User } from './types.js';

const users = { unauthenticated: 403 as const };
const tags = ['users'];

export function userView(u: User) {
  return omitEmpty({ id: u.id, email: u.email, metadata: u.metadata });
}

// ---- answers (userView above makes the view) --------------------------------------
export const UserView = Answer('A user (metadata left out when empty; never the password)', {
  id: Type.String(),
  email: Type.String(),
  metadata: Type.Optional(Metadata),
});
/** A page of users: the total, the request's offset and limit echoed, the users (`[]` when none). */
export const UsersPage = Answer('A page of users', {
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  users: Type.Array(UserView),
});
/** `{}`: what 0.12.1 answers for a changed or reset password. */
const UsersQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10'),
  email: Param.text('substring'),
  metadata: Param.json('JSON object to contain'),
});

const EmptyObject = (description: string) => Answer(description, {});

export function usersRoutes(app: FastifyInstance, service: UsersService): void {
  accountRoutes(app, service);
  userRoutes(app, service);
  passwordRoutes(app, service);
}

/** Registering and logging in: no token needed. */
function accountRoutes(app: FastifyInstance, service: UsersService): void {
  app.post<{ Body: { email: string; password: string; metadata?: Record<string, unknown> | null } }>(
    '/users',
    {
      config: { ...users, body: 'json' },
      schema: {
        tags,
        summary: 'Register a user',
        body: Type.Object(
          { email: Type.String(), password: Type.String(), metadata: Opt(Metadata) },
          { examples: [{ email: 'ops@example.com', password: 'a long password' }] },
        ),
        response: { 201: NoBody('User registered', { Location: 'the new user' }), ...Errors },
        ...Public,
      },
    },
    async (request, reply) => {
      const { email, password, metadata } = request.body;
      const id = await service.register({ email, password, metadata: metadata ?? undefined });
      reply.header('Location', `/users/${id}`);
      empty(reply, 201);
    },
  );

  app.post<{ Body: { email: string; password: string } }>(
    '/tokens',
    {
      config: { ...users, body: 'json' },
      schema: {
        tags,
        summary: 'Log in: issue a login token (valid 10 h)',
        body: Type.Object(
          { email: Type.String(), password: Type.String() },
          { examples: [{ email: 'ops@example.com', password: 'a long password' }] },
        ),
        response: {
          201: Answer('The login token (use it as Authorization)', { token: Type.String() }),
          ...Errors,
        },
        ...Public,
      },
    },
    async (request, reply) => {
      const token = await service.login(request.body.email, request.body.password, request.ip);
      reply.code(201).send({ token });
    },
  );
}

/** Profiles, views, the list of users and the caller's metadata. */
function userRoutes(app: FastifyInstance, service: UsersService): void {
  app.get(
    '/users/profile',
    {
      config: users,
      schema: { tags, summary: "The caller's profile", response: { 200: UserView, ...Errors } },
    },
    async (request) => userView(await service.profile(request.headers.authorization)),
  );

  app.get<{ Params: { userId: string } }>(
    '/users/:userId',
    { config: users, schema: { tags, summary: 'View a user', response: { 200: UserView, ...Errors } } },
    async (request) => userView(await service.view(request.headers.authorization, request.params.userId)),
  );

  app.get<{ Querystring: Static<typeof UsersQuery> }>(
    '/users',
    {
      config: users,
      schema: {
        tags,
        summary: 'List users (the admin sees all; everyone else only themselves)',
        querystring: UsersQuery,
        response: { 200: UsersPage, ...Errors },
      },
    },
    async (request) => {
      const q = request.query;
      const filter = {
        offset: count(q.offset, 0),
        limit: count(q.limit, 10),
        email: q.email,
        metadata: jsonObject(q.metadata),
      };
      const page = await service.list(request.headers.authorization, filter);
      return { ...page, users: page.users.map(userView) };
    },
  );

  app.put<{ Body: { metadata?: Record<string, unknown> | null } }>(
    '/users',
    {
      config: { ...users, body: 'json-any' },
      schema: {
        tags,
        summary: "Replace the caller's metadata",
        body: Type.Object({ metadata: Opt(Metadata) }),
        response: { 200: NoBody('Updated'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.update(request.headers.authorization, request.body.metadata ?? undefined);
      empty(reply, 200);
    },
  );
}

/** Changing and resetting the password. */
function passwordRoutes(app: FastifyInstance, service: UsersService): void {
  app.patch<{ Body: { old_password?: string | null; password?: string | null } }>(
    '/password',
    {
      config: { ...users, body: 'json' },
      schema: {
        tags,
        summary: 'Change the password',
        body: Type.Object({ old_password: Opt(Type.String()), password: Opt(Type.String()) }),
        response: { 201: EmptyObject('Changed: `{}`'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.changePassword(
        request.headers.authorization,
        request.body.old_password ?? '',
        request.body.password ?? '',
      );
      reply.code(201).send({});
    },
  );

  app.post<{ Body: { email?: string | null } }>(
    '/password/reset-request',
    {
      config: { ...users, body: 'json' },
      schema: {
        tags,
        summary: 'Mail a password-reset link (needs SMTP and a Referer header)',
        body: Type.Object({ email: Opt(Type.String()) }),
        response: {
          201: Answer('The mail is sent', { msg: Type.Literal('Email with reset link is sent') }),
          ...Errors,
        },
        ...Public,
      },
    },
    async (request, reply) => {
      await service.requestReset(request.body.email ?? '', request.headers.referer ?? '');
      reply.code(201).send({ msg: 'Email with reset link is sent' });
    },
  );

  app.put<{ Body: { token?: string | null; password?: string | null; confirm_password?: string | null } }>(
    '/password/reset',
    {
      config: { ...users, body: 'json' },
      schema: {
        tags,
        summary: 'Set a new password with the token from the reset mail',
        body: Type.Object({
          token: Opt(Type.String()),
          password: Opt(Type.String()),
          confirm_password: Opt(Type.String()),
        }),
        response: { 201: EmptyObject('Password set: `{}`'), ...Errors },
        ...Public,
      },
    },
    async (request, reply) => {
      const b = request.body;
      await service.resetPassword(b.token ?? '', b.password ?? '', b.confirm_password ?? '');
      reply.code(201).send({});
    },
  );
}

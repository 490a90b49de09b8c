import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import client from 'prom-client';
import type { Db } from '../db/schema.js';
import { Answer, Errors, Public } from '../http/schemas.js';

export const MAINFLUX_VERSION = '0.12.1';

/** What /health reports of the message bus: in-process, or the NATS connection's state. */
export type BusState = () => string;

/** A text answer. */
const Text = (description: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' } } },
});

const Health = (description: string) =>
  Answer(description, {
    status: Type.Union([Type.Literal('pass'), Type.Literal('fail')]),
    version: Type.String(),
    database: Type.String({ description: 'sqlite or postgres' }),
    bus: Type.String({ description: 'in-process, connected or disconnected' }),
    error: Type.Optional(Type.String({ description: 'what fails' })),
  });

const tags = ['operations'];

/** What operators and Mainflux's tools ask of a running instance: version, health, metrics. */
export function opsRoutes(app: FastifyInstance, db: Db, bus: BusState, tethysVersion: string): void {
  versionRoute(app, tethysVersion);
  healthRoute(app, db, bus, tethysVersion);
  metricsRoutes(app);
}

/** The Mainflux API version spoken, and ours in a header. */
function versionRoute(app: FastifyInstance, tethysVersion: string): void {
  // The body Mainflux's SDK reads (`.version`); no trailing newline, sniffed as text.
  app.get(
    '/version',
    {
      schema: {
        tags,
        summary: 'Service name and the Mainflux API version spoken',
        response: {
          200: Text(
            '{"service":"things","version":"0.12.1"} as text, as Mainflux serves it (X-Tethys-Version: ours)',
          ),
          ...Errors,
        },
        ...Public,
      },
    },
    async (_request, reply) => {
      reply.type('text/plain; charset=utf-8').header('X-Tethys-Version', tethysVersion);
      return JSON.stringify({ service: 'things', version: MAINFLUX_VERSION });
    },
  );
}

/** Whether the database and the message bus answer. */
function healthRoute(app: FastifyInstance, db: Db, bus: BusState, tethysVersion: string): void {
  app.get(
    '/health',
    {
      schema: {
        tags,
        summary:
          'Healthy (200) when the database answers and the message bus, if any, is connected; else 503',
        response: {
          200: Health('Healthy'),
          503: Health('Unhealthy (with Retry-After)'),
          ...Errors,
        },
        ...Public,
      },
    },
    async (_request, reply) => {
      const messageBus = bus();
      const body: Record<string, string> = {
        status: 'pass',
        version: tethysVersion,
        database: db.dialect,
        bus: messageBus,
      };
      try {
        await db.ping();
      } catch (err) {
        body.status = 'fail';
        body.error = (err as Error).message;
      }
      if (messageBus === 'disconnected') {
        body.status = 'fail';
        body.error = body.error ? `${body.error}; message bus unavailable` : 'message bus unavailable';
      }
      if (body.status === 'fail') reply.code(503).header('retry-after', '1');
      return body;
    },
  );
}

/** Prometheus metrics, on every method as Mainflux answers them. */
function metricsRoutes(app: FastifyInstance): void {
  const metrics = async (_request: unknown, reply: FastifyReply) => {
    reply.type(client.register.contentType);
    return client.register.metrics();
  };
  app.get(
    '/metrics',
    {
      schema: {
        tags,
        summary: 'Prometheus metrics',
        response: { 200: Text('Prometheus text format'), ...Errors },
        ...Public,
      },
    },
    metrics,
  );
  // Mainflux's metrics handler answers every method; described once, as GET.
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/metrics',
    schema: { hide: true },
    handler: metrics,
  });
}

import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { Db } from '../db/schema.js';

export const MAINFLUX_VERSION = '0.12.1';

/** What /health reports of the message bus: in-process, or the NATS connection's state. */
export type BusState = () => string;

export function opsRoutes(app: FastifyInstance, db: Db, bus: BusState, tethysVersion: string): void {
  const tags = ['operations'];
  // The body Mainflux's SDK reads (`.version`); no trailing newline, sniffed as text.
  app.get(
    '/version',
    { schema: { tags, summary: 'Service name and the Mainflux API version spoken' } },
    async (_request, reply) => {
      reply.type('text/plain; charset=utf-8').header('X-Tethys-Version', tethysVersion);
      return JSON.stringify({ service: 'things', version: MAINFLUX_VERSION });
    },
  );

  app.get(
    '/health',
    {
      schema: {
        tags,
        summary:
          'Healthy (200) when the database answers and the message bus, if any, is connected; else 503',
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

  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/metrics',
    schema: { tags, summary: 'Prometheus metrics' },
    handler: async (_request, reply) => {
      reply.type(client.register.contentType);
      return client.register.metrics();
    },
  });
}

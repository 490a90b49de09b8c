import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { Db } from '../db/schema.js';

export const MAINFLUX_VERSION = '0.12.1';

export function opsRoutes(app: FastifyInstance, db: Db, tethysVersion: string): void {
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
    { schema: { tags, summary: 'Healthy when the database answers' } },
    async (_request, reply) => {
      try {
        await db.ping();
        return { status: 'pass', version: tethysVersion, database: db.dialect };
      } catch (err) {
        reply.code(503);
        return {
          status: 'fail',
          version: tethysVersion,
          database: db.dialect,
          error: (err as Error).message,
        };
      }
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

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web console: the static files `vite build` writes to dist/console, served at `/`.
 * The console is a client of the public API like any other, so all this does is hand
 * out files. Hashed assets are cached for a year; index.html is revalidated every time
 * so a new build is picked up at the next page load.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

// The console talks to this origin only (API and MQTT over WebSocket at /mqtt).
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';

interface StaticFile {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

/** dist/console from the compiled server (dist/src/console) or from the source (src/console). */
export function consoleDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Compiled: <root>/dist/src/console; from source (tsx): <root>/src/console.
  const compiled = path.basename(path.resolve(here, '../..')) === 'dist';
  const dir = compiled ? path.resolve(here, '../../console') : path.resolve(here, '../../dist/console');
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : null;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

function load(dir: string, rel: string): StaticFile {
  const body = fs.readFileSync(path.join(dir, rel));
  const type = TYPES[path.extname(rel).toLowerCase()] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
  return {
    body,
    gzip: compressible ? zlib.gzipSync(body, { level: 9 }) : undefined,
    type,
    etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    // Vite puts content-hashed files under assets/; anything else may change between builds.
    cacheControl: rel.startsWith('assets/') ? IMMUTABLE : 'no-cache',
  };
}

function send(file: StaticFile, request: FastifyRequest, reply: FastifyReply): void {
  reply
    .headers(SECURITY_HEADERS)
    .header('cache-control', file.cacheControl)
    .header('etag', file.etag)
    .header('vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === file.etag) {
    reply.code(304).send();
    return;
  }
  reply.type(file.type);
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (file.gzip && /\bgzip\b/.test(accepts)) {
    reply.header('content-encoding', 'gzip').send(file.gzip);
    return;
  }
  reply.send(file.body);
}

/**
 * The link of a password-reset mail (the Referer of the request, which the console sends
 * as its own address, + MF_TOKEN_RESET_ENDPOINT + `?token=…`) lands here and is sent on
 * to the console's page that sets the new password. The Location is relative, so the
 * console keeps working behind a reverse proxy under a path prefix.
 */
function resetLinkRoute(app: FastifyInstance, endpoint: string): void {
  if (!/^\/[\w.~-]+(\/[\w.~-]+)*$/.test(endpoint) || app.hasRoute({ method: 'GET', url: endpoint })) return;
  const up = '../'.repeat(endpoint.split('/').length - 2) || './';
  app.get<{ Querystring: { token?: string } }>(
    endpoint,
    { schema: { hide: true } },
    async (request, reply) => {
      const token = typeof request.query.token === 'string' ? request.query.token : '';
      const target = token ? `#/reset-password?token=${encodeURIComponent(token)}` : '#/forgot-password';
      reply.headers(SECURITY_HEADERS).header('cache-control', 'no-store').redirect(`${up}${target}`, 302);
    },
  );
}

export function consoleRoutes(
  app: FastifyInstance,
  dir: string | null = consoleDir(),
  resetEndpoint = '',
): void {
  const schema = { hide: true };
  if (!dir) {
    app.get('/', { schema }, async (_request, reply) => {
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          'The Tethys web console is not built. Run `npm run build` (it writes dist/console), then restart the server.\nThe API is served as usual; its description is at /docs.\n',
        );
    });
    return;
  }
  const files = new Map(listFiles(dir).map((rel) => [rel, load(dir, rel)]));
  const index = files.get('index.html')!;
  app.get('/', { schema }, async (request, reply) => send(index, request, reply));
  for (const [rel, file] of files) {
    // One route a file: the router answers everything else (404, 405) as for the API.
    app.get(`/${rel}`, { schema }, async (request, reply) => send(file, request, reply));
  }
  if (resetEndpoint) resetLinkRoute(app, resetEndpoint);
}

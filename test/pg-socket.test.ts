import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  client,
  createTestDatabase,
  dialect,
  type Request,
  startServer,
  type TestServer,
  userToken,
} from './helpers/server.js';

/**
 * PostgreSQL on the same machine through its Unix socket (README: running on
 * PostgreSQL): `TETHYS_DB_URL=postgres://user@localhost/db?host=/socket/folder`.
 */
describe(`PostgreSQL through its Unix socket (${dialect})`, { skip: dialect !== 'postgres' }, () => {
  let server: TestServer;
  let request: Request;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let socketUrl = '';

  before(async () => {
    database = await createTestDatabase();
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    const dirs = (await c.query('SHOW unix_socket_directories')).rows[0].unix_socket_directories as string;
    const port = (await c.query('SHOW port')).rows[0].port as string;
    await c.end();
    const dir = dirs.split(',')[0]!.trim();
    if (!dir.startsWith('/')) return;
    const tcp = new URL(database.url);
    socketUrl = `postgres://${tcp.username}${tcp.password ? `:${tcp.password}` : ''}@localhost${tcp.pathname}?host=${encodeURIComponent(dir)}&port=${port}`;
    server = await startServer({ TETHYS_DB_URL: socketUrl });
    request = client(server.url);
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  it('serves the API with its database connections on the socket', async (t) => {
    if (!socketUrl) return t.skip('this PostgreSQL has no Unix socket directory');
    const { token } = await userToken(request);
    const created = await request('POST', '/things', { token, body: { name: 'over-the-socket' } });
    assert.equal(created.status, 201);
    const id = (created.headers.get('location') ?? '').split('/').pop();
    assert.equal((await request('GET', `/things/${id}`, { token })).json.name, 'over-the-socket');

    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      const stored = await c.query('SELECT name FROM things WHERE id = $1', [id]);
      assert.deepEqual(stored.rows, [{ name: 'over-the-socket' }]);
      // The server's sessions on this database, seen from a TCP session: a Unix-socket
      // client has no address (and port -1).
      const sessions = await c.query(
        `SELECT client_addr, client_port FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      assert.ok(sessions.rows.length > 0, 'the server holds connections to its database');
      for (const s of sessions.rows) assert.deepEqual(s, { client_addr: null, client_port: -1 });
    } finally {
      await c.end();
    }
  });
});

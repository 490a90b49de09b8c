import assert from 'node:assert/strict';
import net from 'node:net';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { connackCode, mqttUrl } from './helpers/mqtt.js';
import { dialect, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * Overload and slow clients (issue 16): headers that never finish, more connections
 * than allowed, more requests waiting for the database than allowed. Each is refused
 * quickly and clearly instead of holding the server's resources.
 */

/** Opens a connection and writes `text`; records what came back and when it closed. */
async function rawConnection(port: number, text: string) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { closed: false, received: '' };
  socket.on('data', (d) => {
    state.received += d.toString();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    state.closed = true;
  });
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  if (!state.closed) socket.write(text);
  return { socket, state };
}

describe(`slow clients and overload (${dialect})`, () => {
  const fixture = withServer({
    TETHYS_HTTP_HEADERS_TIMEOUT: '1s',
    TETHYS_HTTP_MAX_CONNECTIONS: '300',
    TETHYS_MQTT_MAX_CONNECTIONS: '3',
  });
  const { request } = fixture;
  let port: number;

  before(async () => {
    port = Number(new URL(fixture.server.url).port);
  });

  it('headers that never finish: 408 and closed once the headers timeout passes', async () => {
    const started = Date.now();
    const half = await Promise.all(
      Array.from({ length: 200 }, () => rawConnection(port, 'GET /version HTTP/1.1\r\nHost: x\r\n')),
    );
    await eventually('every half-open request closed', () => half.every((h) => h.state.closed), {
      timeoutMs: 5000,
    });
    const took = Date.now() - started;
    assert.ok(took >= 900, `closed after ${took} ms, before the timeout`);
    assert.ok(half.every((h) => h.state.received.startsWith('HTTP/1.1 408')));
    // The server is unharmed.
    assert.equal((await request('GET', '/version')).status, 200);
  });

  it('connections beyond the cap are closed as they come; freed places are taken again', async () => {
    const held = await Promise.all(Array.from({ length: 300 }, () => rawConnection(port, '')));
    await eventually('the cap reached', () => held.every((h) => !h.state.closed));
    const extra = await rawConnection(port, 'GET /version HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually('the extra connection closed', () => extra.state.closed, { timeoutMs: 2000 });
    assert.equal(extra.state.received, '', 'no answer on a connection over the cap');
    for (const h of held) h.socket.destroy();
    await eventually('a place again', async () => {
      const c = await rawConnection(port, 'GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await eventually('an answer or a close', () => c.state.closed);
      return c.state.received.startsWith('HTTP/1.1 200');
    });
  });

  it('MQTT connections beyond the cap are closed as they come', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 3 }, () => rawConnection(fixture.server.app.mqtt.ports.mqtt!, '')),
    );
    const code = await connackCode(mqttUrl(fixture.server.app), { username: 'x', password: 'y' });
    assert.equal(code, 'closed');
    for (const s of sockets) s.socket.destroy();
    await eventually('a place again', async () => {
      const again = await connackCode(mqttUrl(fixture.server.app), { username: 'x', password: 'y' });
      return again === 4;
    });
  });
});

describe(`requests waiting for the database (${dialect})`, {
  skip: dialect !== 'postgres' && 'PostgreSQL pass only',
}, () => {
  const fixture = withServer({ TETHYS_DB_POOL_SIZE: '2', TETHYS_DB_QUEUE_MAX: '2' });
  const { request } = fixture;
  let token: string;

  before(async () => {
    ({ token } = await userToken(request));
  });

  it('beyond the queue: 503 with Retry-After at once; the rest wait at most the connect timeout', async () => {
    // Another client holds the things table: creates wait on its lock, holding their connection.
    const holder = new pg.Client({ connectionString: fixture.server.dbUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE things IN ACCESS EXCLUSIVE MODE');
    try {
      const started = Date.now();
      const replies = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const r = await request('POST', '/things', { token, body: { name: 'q' } });
          return {
            status: r.status,
            ms: Date.now() - started,
            retryAfter: r.headers.get('retry-after'),
            body: r.json,
          };
        }),
      );
      // Creates share a write group, which sends one statement at a time: the first holds
      // a connection, two may wait behind it (the queue); the other five are refused at once.
      const atOnce = replies.filter((r) => r.ms < 1000);
      assert.equal(atOnce.length, 5, JSON.stringify(replies));
      for (const r of atOnce) {
        assert.equal(r.status, 503);
        assert.equal(r.body.error, 'database busy; try again');
        assert.equal(r.retryAfter, '1');
      }
      for (const r of replies.filter((x) => !atOnce.includes(x))) {
        // The lock is still held: the statement times out (4 s), and the requests waiting
        // behind it have waited longer than the connect timeout (2 s) by then.
        assert.equal(r.status, 503, JSON.stringify(r));
        assert.ok(r.ms < 5000, `answered after ${r.ms} ms`);
        assert.ok(Number(r.retryAfter) > 0);
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const after = await request('POST', '/things', { token, body: { name: 'free' } });
    assert.equal(after.status, 201);
  });
});

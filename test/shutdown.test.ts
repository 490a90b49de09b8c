import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createThing } from './helpers/entities.js';
import { startServerProcess } from './helpers/process.js';
import { client, createTestDatabase, dialect, userToken } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * SIGTERM under load (issue 16): a rolling restart must cut off no request. Eight
 * keep-alive clients create things without pause; the server is signalled; each
 * request either gets its answer or finds the server gone before it was sent (a
 * refused connection), never a reset after it was sent. Then the server starts again
 * on the same data and every acknowledged thing is there.
 */

interface Outcome {
  status?: number;
  error?: string;
  id?: string;
}

/** One POST /things on this agent's one connection. */
function createOn(agent: http.Agent, base: URL, token: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ name: 'shutdown' });
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path: '/things',
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode, id: res.headers.location?.split('/').pop() ?? undefined }),
        );
        res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      },
    );
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

describe(`graceful shutdown (${dialect})`, { timeout: 120_000 }, () => {
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-shutdown-'));
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM with 8 keep-alive clients writing: 0 requests cut off, 0 acknowledged writes lost', async () => {
    const env = { TETHYS_DATA_DIR: dataDir, TETHYS_DB_URL: database.url };
    const server = await startServerProcess(env);
    const base = new URL(server.url);
    const request = client(server.url);
    const { token } = await userToken(request);
    const device = await createThing(request, token, { name: 'mqtt' });
    const session = mqtt.connect(`mqtt://127.0.0.1:${server.mqttPort}`, {
      username: device.id,
      password: device.key,
      reconnectPeriod: 0,
    });
    session.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));

    const outcomes: Outcome[] = [];
    let signalled = 0;
    const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const writers = agents.map(async (agent) => {
      for (;;) {
        const outcome = await createOn(agent, base, token);
        outcomes.push(outcome);
        // The server is gone: a refused connection means this request was never sent.
        if (outcome.error === 'ECONNREFUSED') return;
        if (outcome.error) return;
      }
    });
    await eventually('writes under way', () => outcomes.filter((o) => o.status === 201).length >= 200);
    signalled = Date.now();
    server.kill('SIGTERM');
    const exit = await server.exited;
    await Promise.all(writers);
    for (const a of agents) a.destroy();
    session.end(true);

    assert.equal(exit.code, 0, `exit code ${exit.code} (${exit.signal})`);
    const shutdownMs = exit.at - signalled;
    assert.ok(shutdownMs < 10_000, `shutdown took ${shutdownMs} ms`);
    await sessionClosed;
    const cutOff = outcomes.filter((o) => o.error && o.error !== 'ECONNREFUSED');
    assert.deepEqual(cutOff, [], `${cutOff.length} requests cut off`);
    const others = outcomes.filter((o) => o.status !== undefined && o.status !== 201);
    assert.deepEqual(others, [], 'every answered request succeeded');
    assert.ok(server.logs.some((l) => l.msg === 'stopped'));

    const again = await startServerProcess(env);
    try {
      const request2 = client(again.url);
      const acknowledged = outcomes.filter((o) => o.status === 201).map((o) => o.id!);
      const listed = await request2('GET', `/things?limit=1`, { token });
      assert.equal(listed.status, 200);
      // The mqtt thing too.
      assert.equal(listed.json.total, acknowledged.length + 1, 'every acknowledged thing, and no other');
      for (const id of acknowledged.slice(-20)) {
        assert.equal((await request2('GET', `/things/${id}`, { token })).status, 200);
      }
    } finally {
      again.kill('SIGTERM');
      await again.exited;
    }
  });

  it('a request that never ends is cut at the timeout; a second SIGTERM stops at once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-shutdown-'));
    const env = { TETHYS_DATA_DIR: dir, TETHYS_DB_URL: database.url, TETHYS_SHUTDOWN_TIMEOUT: '3s' };
    try {
      // A body that never arrives keeps its request in flight.
      const stall = async (port: number) => {
        const socket = net.connect(port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.write(
          'POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
        );
        socket.on('error', () => {});
        return socket;
      };
      const first = await startServerProcess(env);
      const held = await stall(Number(new URL(first.url).port));
      const signalled = Date.now();
      first.kill('SIGTERM');
      const exit = await first.exited;
      const took = exit.at - signalled;
      assert.equal(exit.code, 0);
      assert.ok(took >= 2000 && took < 4500, `stopped after ${took} ms with a 3 s timeout`);
      held.destroy();

      const second = await startServerProcess(env);
      const held2 = await stall(Number(new URL(second.url).port));
      second.kill('SIGTERM');
      await eventually('the shutdown under way', () => second.logs.some((l) => /shutting down/.test(l.msg)));
      const again = Date.now();
      second.kill('SIGTERM');
      const exit2 = await second.exited;
      assert.ok(exit2.at - again < 1000, `a second SIGTERM took ${exit2.at - again} ms`);
      assert.equal(exit2.code, 1);
      held2.destroy();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

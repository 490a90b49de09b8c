import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../src/audit/types.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { createChannel, createThing } from './helpers/entities.js';
import { withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * The events webhook against a real HTTP receiver on loopback that fails for a while
 * (503s, then not listening at all): every event arrives, in the trail's order, each
 * batch signed with HMAC-SHA256 over its body.
 */

const SECRET = 'webhook-secret-for-tests';

interface Receiver {
  url: string;
  /** Event ids in the order they arrived (a batch delivered again repeats its ids). */
  ids: string[];
  events: Map<string, AuditEvent>;
  posts: number;
  refused: number;
  /** Answer 503 to the next n posts. */
  failNext(n: number): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  let failing = 0;
  let port = 0;
  const state: Receiver = {
    url: '',
    ids: [],
    events: new Map(),
    posts: 0,
    refused: 0,
    failNext(n) {
      failing = n;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async start() {
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
      state.url = `http://127.0.0.1:${port}/hook`;
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      state.posts++;
      const body = Buffer.concat(chunks);
      const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(body).digest('hex')}`;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/hook');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers['x-tethys-signature'], expected, 'the signature is the HMAC of the body');
      if (failing > 0) {
        failing--;
        state.refused++;
        res.writeHead(503).end();
        return;
      }
      for (const e of JSON.parse(body.toString()).events as AuditEvent[]) {
        state.ids.push(e.id);
        state.events.set(e.id, e);
      }
      res.writeHead(204).end();
    });
  });
  await state.start();
  return state;
}

describe('events webhook', () => {
  let hook: Receiver;
  before(async () => {
    hook = await receiver();
  });
  after(() => hook?.stop());
  const fixture = withServer(() => ({
    TETHYS_EVENTS_WEBHOOK_URL: hook.url,
    TETHYS_EVENTS_WEBHOOK_SECRET: SECRET,
  }));

  it('delivers every event in order through a receiver that fails, then is away, then is back', async () => {
    const webhook = fixture.server.app.services.webhook!;
    webhook.settleMs = 50;
    // The cursor starts where the webhook first runs: events from then on are delivered.
    await webhook.tick();
    const user = await fixture.user();
    const made: string[] = [];
    hook.failNext(3);
    for (let i = 0; i < 5; i++)
      made.push((await createThing(fixture.request, user.token, { name: `t${i}` })).id);
    await eventually('three refusals', () => hook.refused >= 3, { timeoutMs: 20_000 });
    // Now the receiver is not listening at all.
    await hook.stop();
    const channel = await createChannel(fixture.request, user.token, { name: 'c' });
    for (const id of made) await fixture.request.sdk(user.token).connect([channel.id], [id]);
    await hook.start();
    const stored = await fixture.request('GET', '/events?dir=asc&limit=100', { token: user.token });
    assert.equal(stored.status, 200);
    const want: AuditEvent[] = stored.json.events;
    assert.equal(want.length, 1 + 5 + 1 + 5, 'register, 5 things, a channel, 5 connections');
    await eventually('every event delivered', () => want.every((e) => hook.events.has(e.id)), {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    // The trail's order: ids only grow (a batch delivered twice would repeat, never reorder).
    const unique = hook.ids.filter((id, i) => hook.ids.indexOf(id) === i);
    assert.deepEqual(unique, [...unique].sort());
    assert.deepEqual(
      unique.filter((id) => want.some((e) => e.id === id)),
      want.map((e) => e.id),
    );
    // What arrives is what GET /events answers.
    for (const e of want) assert.deepEqual(hook.events.get(e.id), e);
  });

  it('a webhook without a secret is refused at start', () => {
    assert.throws(
      () => loadConfig({ TETHYS_EVENTS_WEBHOOK_URL: 'http://127.0.0.1:1/hook' }),
      (err: unknown) => err instanceof ConfigError && /TETHYS_EVENTS_WEBHOOK_SECRET/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ TETHYS_EVENTS_WEBHOOK_URL: 'ftp://x', TETHYS_EVENTS_WEBHOOK_SECRET: 's' }),
      ConfigError,
    );
  });
});

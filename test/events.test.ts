import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect as natsConnect } from '@nats-io/transport-node';
import { idBound } from '../src/audit/repo.js';
import type { AuditEvent } from '../src/audit/types.js';
import { whileEventsRefused } from './helpers/audit.js';
import { assertError, createChannel, createThing, createThings } from './helpers/entities.js';
import { type NatsServer, natsServerBinary, startNats } from './helpers/nats.js';
import { type Pair, type Request, startPair, startServer, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * The audit trail (issue 21), its core: things, channels and connections record one
 * event a change in the change's transaction; GET /events reads them with filters and
 * ownership; committed events stream on NATS to every instance; old events are pruned.
 * The other domains' families are in events-*.test.ts.
 */

const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

async function events(
  request: Request,
  token: string,
  query = '',
): Promise<{ total: number; events: AuditEvent[] }> {
  const reply = await request('GET', `/events${query ? `?${query}` : ''}`, { token });
  assert.equal(reply.status, 200, reply.text);
  return reply.json;
}

describe('audit trail: things, channels, connections', () => {
  const fixture = withServer({ MF_USERS_ADMIN_EMAIL: ADMIN.email, MF_USERS_ADMIN_PASSWORD: ADMIN.password });
  const { request } = fixture;

  it('records one event a change, with actor, source, request id and no secret', async () => {
    const user = await fixture.user();
    const reply = await request('POST', '/things', {
      token: user.token,
      body: { name: 'pump', key: 'very-secret-key-1', metadata: { external_key: 'also-secret', serial: 7 } },
      headers: { 'x-request-id': 'req-create-pump' },
    });
    assert.equal(reply.status, 201, reply.text);
    const id = reply.headers.get('location')!.split('/').pop()!;
    const page = await events(request, user.token, 'entity_type=thing');
    assert.equal(page.total, 1);
    const [event] = page.events;
    assert.equal(event!.action, 'thing.create');
    assert.equal(event!.entity_type, 'thing');
    assert.equal(event!.entity_id, id);
    assert.equal(event!.owner, user.email);
    assert.equal(event!.actor, user.email);
    assert.equal(event!.actor_user, user.email);
    assert.equal(event!.source, '127.0.0.1');
    assert.equal(event!.request_id, 'req-create-pump');
    assert.deepEqual(event!.details, { name: 'pump', metadata_fields: ['external_key', 'serial'] });
    assert.ok(!JSON.stringify(page).includes('secret'), JSON.stringify(page));

    // Each family: update, key change, remove, and a channel's, a connection's.
    const tethys = request.sdk(user.token);
    await tethys.things.update(id, { name: 'pump-2', metadata: {} });
    assert.equal(
      (await request('PATCH', `/things/${id}/key`, { token: user.token, body: { key: 'new-secret-key' } }))
        .status,
      200,
    );
    const channel = await createChannel(request, user.token, { name: 'ch' });
    assert.equal(
      (await request('PUT', `/channels/${channel.id}/things/${id}`, { token: user.token })).status,
      200,
    );
    assert.equal(
      (await request('DELETE', `/channels/${channel.id}/things/${id}`, { token: user.token })).status,
      204,
    );
    await tethys.channels.update(channel.id, { name: 'ch-2' });
    assert.equal((await request('DELETE', `/things/${id}`, { token: user.token })).status, 204);
    assert.equal((await request('DELETE', `/channels/${channel.id}`, { token: user.token })).status, 204);
    const all = await events(request, user.token, 'dir=asc&limit=100');
    assert.deepEqual(
      all.events.map((e) => e.action),
      [
        'user.register',
        'thing.create',
        'thing.update',
        'thing.key_change',
        'channel.create',
        'connection.create',
        'connection.remove',
        'channel.update',
        'thing.remove',
        'channel.remove',
      ],
    );
    const connection = all.events.find((e) => e.action === 'connection.create')!;
    assert.equal(connection.entity_id, channel.id);
    assert.equal(connection.related_id, id);
    assert.ok(!JSON.stringify(all).includes('secret-key'), 'no key in any event');
    // Ids are time-ordered: ascending order is the order of the changes.
    const ids = all.events.map((e) => e.id);
    assert.deepEqual([...ids].sort(), ids);

    // A thing's history, also after it was removed: its own events and its connections'.
    const history = await request('GET', `/things/${id}/events?dir=asc`, { token: user.token });
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(
      history.json.events.map((e: AuditEvent) => e.action),
      [
        'thing.create',
        'thing.update',
        'thing.key_change',
        'connection.create',
        'connection.remove',
        'thing.remove',
      ],
    );
    const channelHistory = await request('GET', `/channels/${channel.id}/events?limit=2`, {
      token: user.token,
    });
    assert.equal(channelHistory.json.total, 5);
    assert.deepEqual(
      channelHistory.json.events.map((e: AuditEvent) => e.action),
      ['channel.remove', 'channel.update'],
    );
  });

  it('a bulk create records one event a thing; a failed one records none', async () => {
    const user = await fixture.user();
    const things = await createThings(
      request,
      user.token,
      Array.from({ length: 150 }, (_, i) => ({ name: `b${i}` })),
    );
    const page = await events(request, user.token, 'action=thing.create&limit=100');
    assert.equal(page.total, 150);
    assert.deepEqual(new Set(page.events.map((e) => e.entity_id)).size, 100);
    // A duplicate key fails the whole bulk: no thing, no event.
    const taken = await request('POST', '/things/bulk', {
      token: user.token,
      body: [{ name: 'a' }, { name: 'b', key: things[0]!.key }],
    });
    assertError(taken, 409);
    assert.equal((await events(request, user.token, 'entity_type=thing')).total, 150);
    // A connect of many pairs: one event a pair, or none when one id is not the caller's.
    const channel = await createChannel(request, user.token, { name: 'c' });
    const other = await fixture.user();
    const foreign = await createThing(request, other.token, { name: 'theirs' });
    const refused = await request('POST', '/connect', {
      token: user.token,
      body: { channel_ids: [channel.id], thing_ids: [things[0]!.id, foreign.id] },
    });
    assertError(refused, 404);
    assert.equal((await events(request, user.token, 'action=connection.')).total, 0);
    // One pair (PUT, written by a write group with its event kept by the pairs inserted):
    // a foreign thing is 404 and no event; a pair already there 409 and no second event.
    assertError(
      await request('PUT', `/channels/${channel.id}/things/${foreign.id}`, { token: user.token }),
      404,
    );
    const one = await request('PUT', `/channels/${channel.id}/things/${things[2]!.id}`, {
      token: user.token,
    });
    assert.equal(one.status, 200, one.text);
    assertError(
      await request('PUT', `/channels/${channel.id}/things/${things[2]!.id}`, { token: user.token }),
      409,
    );
    const single = await events(request, user.token, 'action=connection.');
    assert.deepEqual(
      single.events.map((e) => [e.entity_id, e.related_id]),
      [[channel.id, things[2]!.id]],
    );
    const ok = await request('POST', '/connect', {
      token: user.token,
      body: { channel_ids: [channel.id], thing_ids: [things[0]!.id, things[1]!.id] },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await events(request, user.token, 'action=connection.')).total, 3);
  });

  it('single creates made at once share statements, and each keeps its one event', async () => {
    const user = await fixture.user();
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request('POST', '/things', {
          token: user.token,
          body: { name: `t${i}`, key: i === 7 ? 'dup-key' : undefined },
        }),
      ),
    );
    assert.ok(replies.every((r) => r.status === 201));
    // One of them collides with an existing key: it alone fails, and only it has no event.
    const again = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request('POST', '/things', {
          token: user.token,
          body: { name: `u${i}`, key: i === 3 ? 'dup-key' : undefined },
        }),
      ),
    );
    assert.deepEqual(
      again.map((r) => r.status),
      again.map((_, i) => (i === 3 ? 409 : 201)),
    );
    assert.equal((await events(request, user.token, 'action=thing.create')).total, 49);
  });

  it('a change that rolls back leaves no event, and a failed event write undoes the change', async () => {
    const user = await fixture.user();
    const { db } = fixture.server.app.services;
    const thing = await createThing(request, user.token, { name: 'keep' });
    const channel = await request.sdk(user.token).channels.create({ name: 'kept' });
    // The events table refuses writes for a moment: the change must fail with it. Single
    // creates, bulk creates and a connect write their events in their own statement on
    // PostgreSQL (one of its WITH queries), the others in their transaction.
    await whileEventsRefused(db, async () => {
      const connected = await request('PUT', `/channels/${channel}/things/${thing.id}`, {
        token: user.token,
      });
      assert.equal(connected.status, 500, connected.text);
      const bulk = await request('POST', '/things/bulk', {
        token: user.token,
        body: [{ name: 'never-bulk-1' }, { name: 'never-bulk-2' }],
      });
      assert.equal(bulk.status, 500, bulk.text);
      const channels = await request('POST', '/channels', { token: user.token, body: { name: 'never' } });
      assert.equal(channels.status, 500, channels.text);
      const renamed = await request('PUT', `/things/${thing.id}`, {
        token: user.token,
        body: { name: 'gone' },
      });
      assert.equal(renamed.status, 500, renamed.text);
      const created = await request('POST', '/things', { token: user.token, body: { name: 'never' } });
      assert.equal(created.status, 500, created.text);
      const removed = await request('DELETE', `/things/${thing.id}`, { token: user.token });
      assert.equal(removed.status, 500, removed.text);
    });
    const view = await request('GET', `/things/${thing.id}`, { token: user.token });
    assert.equal(view.json.name, 'keep', 'the rename rolled back with its event');
    const list = await request('GET', '/things?name=never', { token: user.token });
    assert.equal(list.json.total, 0, 'the creates rolled back with their events');
    const channels = await request('GET', '/channels?name=never', { token: user.token });
    assert.equal(channels.json.total, 0, 'the channel create rolled back with its event');
    const connected = await request('GET', `/channels/${channel}/things`, { token: user.token });
    assert.equal(connected.json.total, 0, 'the connect rolled back with its event');
    assert.deepEqual(
      (await events(request, user.token)).events.map((e) => e.action),
      ['channel.create', 'thing.create', 'user.register'],
    );
  });

  it('a user reads events about their own entities; the admin reads all', async () => {
    const alice = await fixture.user();
    const bob = await fixture.user();
    const a = await createThing(request, alice.token, { name: 'a' });
    await createThing(request, bob.token, { name: 'b' });
    assert.deepEqual(
      (await events(request, bob.token, `entity_id=${a.id}`)).total,
      0,
      "bob does not see alice's thing",
    );
    assert.equal((await request('GET', `/things/${a.id}/events`, { token: bob.token })).json.total, 0);
    const admin = { token: await request.sdk().users.login(ADMIN.email, ADMIN.password) };
    const seen = await events(request, admin.token, `entity_id=${a.id}`);
    assert.equal(seen.total, 1);
    assert.equal(seen.events[0]!.owner, alice.email);
    assert.ok((await events(request, admin.token, 'action=thing.create')).total >= 2);
    assertError(await request('GET', '/events'), 401);
    assertError(await request('GET', '/events', { token: 'nope' }), 401);
  });

  it('filters: action prefix, actor, API key actor, time bounds, entity type, paging, after', async () => {
    const user = await fixture.user();
    const tethys = request.sdk(user.token);
    const key = await request('POST', '/keys', { token: user.token, body: { type: 2, duration: 3600 } });
    assert.equal(key.status, 201, key.text);
    const before = Date.now();
    const t1 = await createThing(request, user.token, { name: 'by-login' });
    const t2 = await createThing(request, key.json.value, { name: 'by-key' });
    await tethys.channels.create({ name: 'c' });
    const byKey = await events(request, user.token, `actor=key:${key.json.id}`);
    assert.deepEqual(
      byKey.events.map((e) => e.entity_id),
      [t2.id],
    );
    assert.equal(byKey.events[0]!.actor_user, user.email);
    assert.equal(
      (await events(request, user.token, `actor=${encodeURIComponent(user.email)}&action=thing.`)).total,
      1,
    );
    assert.equal((await events(request, user.token, 'action=thing.')).total, 2);
    assert.equal(
      (await events(request, user.token, 'action=thing')).total,
      0,
      'an action is exact without its dot',
    );
    assert.equal((await events(request, user.token, 'entity_type=channel')).total, 1);
    assert.equal((await events(request, user.token, `from=${before}`)).total >= 3, true);
    assert.equal(
      (await events(request, user.token, `to=${new Date(before).toISOString()}`)).events.every(
        (e) => e.action === 'key.issue' || Date.parse(e.time) < before,
      ),
      true,
    );
    const newest = await events(request, user.token, 'action=thing.&limit=1');
    assert.equal(newest.events[0]!.entity_id, t2.id);
    const second = await events(request, user.token, 'action=thing.&limit=1&offset=1');
    assert.equal(second.events[0]!.entity_id, t1.id);
    const oldest = await events(request, user.token, 'action=thing.&dir=asc&limit=1');
    const rest = await events(request, user.token, `action=thing.&after=${oldest.events[0]!.id}`);
    assert.deepEqual(
      rest.events.map((e) => e.entity_id),
      [t2.id],
    );
    for (const bad of [
      'limit=101',
      'limit=-1',
      'offset=x',
      'dir=up',
      'from=yesterday',
      'action=%00',
      'after=nope',
    ]) {
      assertError(await request('GET', `/events?${bad}`, { token: user.token }), 400);
    }
  });
});

describe('audit trail: retention', () => {
  const fixture = withServer({ TETHYS_EVENTS_RETENTION: '1h' });
  it('prunes events older than the retention, a batch at a time, and keeps newer ones', async () => {
    const user = await fixture.user();
    await createThings(fixture.request, user.token, [{}, {}, {}]);
    const { audit } = fixture.server.app.services;
    assert.equal(await audit.prune(Date.now()), 0, 'nothing is an hour old');
    assert.ok((await audit.prune(Date.now() + 2 * 3_600_000)) >= 3, 'two hours later, all of them');
    assert.equal((await events(fixture.request, user.token)).total, 0);
    await createThing(fixture.request, user.token, { name: 'new' });
    assert.equal((await events(fixture.request, user.token)).total, 1);
  });
  it('the id bound of a time orders with the ids of that time', () => {
    const now = Date.now();
    assert.ok(idBound(now) < idBound(now + 1));
  });
});

const natsSkip = natsServerBinary() ? false : 'no nats-server';
describe('audit trail: the stream across two instances', { skip: natsSkip }, () => {
  let nats: NatsServer;
  let pair: Pair;
  before(async () => {
    nats = await startNats();
    pair = await startPair(nats.url);
  });
  after(async () => {
    await pair?.close();
    await nats?.stop();
  });

  it('publishes each committed event on tethys.events.<entity_type>.<verb>, from either instance', async () => {
    const nc = await natsConnect({ servers: nats.url });
    const got: { subject: string; event: AuditEvent }[] = [];
    const sub = nc.subscribe('tethys.events.>', {
      callback: (_err, msg) => {
        got.push({ subject: msg.subject, event: JSON.parse(msg.string()) });
      },
    });
    await nc.flush();
    // Instance B's own listeners get A's events too (the follow stream of B).
    const onB: AuditEvent[] = [];
    pair.b.app.services.audit.subscribe((list) => onB.push(...list));
    try {
      const a = await createThing(pair.reqA, pair.token, { name: 'from-a' });
      const c = await createChannel(pair.reqB, pair.token, { name: 'from-b' });
      assert.equal(
        (await pair.reqA('PUT', `/channels/${c.id}/things/${a.id}`, { token: pair.token })).status,
        200,
      );
      await eventually('three events on NATS', () => got.length >= 3);
      assert.deepEqual(
        got.map((g) => g.subject),
        ['tethys.events.thing.create', 'tethys.events.channel.create', 'tethys.events.connection.create'],
      );
      assert.equal(got[0]!.event.entity_id, a.id);
      // The same event as GET /events answers, on either instance.
      const stored = await events(pair.reqB, pair.token, `entity_id=${a.id}&action=thing.create`);
      assert.deepEqual(stored.events[0], got[0]!.event);
      await eventually('B heard all three', () => onB.length >= 3);
      assert.deepEqual(onB.map((e) => e.action).sort(), [
        'channel.create',
        'connection.create',
        'thing.create',
      ]);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });
});

describe('audit trail: in-process stream', () => {
  it('without NATS, listeners of the process get each committed event once', async () => {
    const server = await startServer();
    try {
      const heard: AuditEvent[] = [];
      server.app.services.audit.subscribe((list) => heard.push(...list));
      const { client } = await import('./helpers/server.js');
      const request = client(server.url);
      const user = await userToken(request);
      const t = await createThing(request, user.token, { name: crypto.randomUUID() });
      await eventually('heard', () => heard.some((e) => e.entity_id === t.id));
      assert.equal(heard.filter((e) => e.entity_id === t.id).length, 1);
    } finally {
      await server.close();
    }
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  assertEmpty,
  assertError,
  connect,
  createChannel,
  createChannels,
  createThing,
  createThings,
  ids,
  listAll,
  page,
  q,
  sorted,
  UUID_V4,
} from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';

const DEPRECATED =
  'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint currently found at /channels/bulk.';

describe(`channels (${dialect})`, () => {
  const { request } = withServer();
  let alice: string;
  let bob: string;

  before(async () => {
    [alice, bob] = await Promise.all([
      userToken(request).then((u) => u.token),
      userToken(request).then((u) => u.token),
    ]);
  });

  const fresh = async () => (await userToken(request)).token;
  const total = async (token: string, query = '') =>
    (await page(request, token, `/channels?limit=1${query}`)).total as number;

  describe('create', () => {
    it('answers 201 with Location, the deprecation warning and an empty JSON body', async () => {
      const reply = await request('POST', '/channels', {
        token: alice,
        body: { name: 'mychan', metadata: { type: 'data' } },
      });
      assertEmpty(reply, 201);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.headers.get('warning-deprecated'), DEPRECATED);
      const location = reply.headers.get('location') ?? '';
      assert.match(location, /^\/channels\/[0-9a-f-]{36}$/);
      const id = location.slice('/channels/'.length);
      assert.match(id, UUID_V4);
      const view = await request('GET', location, { token: alice });
      assert.equal(view.status, 200);
      assert.deepEqual(view.json, { id, name: 'mychan', metadata: { type: 'data' } });
    });

    it('omits an empty name and metadata, never shows a connected key, ignores a body id', async () => {
      const id = crypto.randomUUID();
      const reply = await request('POST', '/channels', {
        token: alice,
        body: { id, name: '', metadata: {}, connected: true },
      });
      assert.equal(reply.status, 201);
      assert.notEqual(reply.headers.get('location'), `/channels/${id}`);
      const view = await request('GET', reply.headers.get('location')!, { token: alice });
      assert.deepEqual(Object.keys(view.json), ['id']);
    });

    it('refuses a name over 1024 bytes, bad JSON and bad metadata with 400', async () => {
      const carol = await fresh();
      assert.equal(
        (await request('POST', '/channels', { token: carol, body: { name: 'n'.repeat(1024) } })).status,
        201,
      );
      assertError(
        await request('POST', '/channels', { token: carol, body: { name: 'n'.repeat(1025) } }),
        400,
      );
      // Bytes of UTF-8, as 0.12.1 counts: 341 CJK characters are 1,023 bytes, 342 are 1,026.
      assert.equal(
        (await request('POST', '/channels', { token: carol, body: { name: '界'.repeat(341) } })).status,
        201,
      );
      assertError(
        await request('POST', '/channels', { token: carol, body: { name: '界'.repeat(342) } }),
        400,
      );
      assertError(await request('POST', '/channels', { token: carol, body: { metadata: 'x' } }), 400);
      assertError(await request('POST', '/channels', { token: carol, body: { metadata: [1] } }), 400);
      assertError(await request('POST', '/channels', { token: carol, raw: '{"name":' }), 400);
      assertError(await request('POST', '/channels', { token: carol, body: [{ name: 'x' }] }), 400);
      assertError(
        await request('POST', '/channels', { token: carol, body: { name: 'x' }, contentType: 'text/plain' }),
        415,
      );
      assertError(await request('POST', '/channels', { body: { name: 'x' } }), 401);
      assert.equal(await total(carol), 2);
    });
  });

  describe('bulk create', () => {
    it('answers 201 with the created channels', async () => {
      const carol = await fresh();
      const reply = await request('POST', '/channels/bulk', {
        token: carol,
        body: [{ name: 'joe' }, { name: 'betty', metadata: { type: 'control' } }, {}],
      });
      assert.equal(reply.status, 201);
      assert.equal(reply.headers.get('location'), null);
      assert.deepEqual(Object.keys(reply.json), ['channels']);
      const [joe, betty, anon] = reply.json.channels;
      assert.deepEqual(joe, { id: joe.id, name: 'joe' });
      assert.match(joe.id, UUID_V4);
      assert.deepEqual(betty, { id: betty.id, name: 'betty', metadata: { type: 'control' } });
      assert.deepEqual(anon, { id: anon.id });
      for (const c of reply.json.channels)
        assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: carol })).json, c);
      assert.equal(await total(carol), 3);
    });

    it('is all or nothing, and refuses an empty array with 400', async () => {
      const carol = await fresh();
      assertError(
        await request('POST', '/channels/bulk', {
          token: carol,
          body: [{ name: 'ok' }, { name: 'n'.repeat(1025) }],
        }),
        400,
      );
      assertError(
        await request('POST', '/channels/bulk', { token: carol, body: [{ name: 'ok' }, { metadata: 'x' }] }),
        400,
      );
      assertError(await request('POST', '/channels/bulk', { token: carol, body: [] }), 400);
      assertError(await request('POST', '/channels/bulk', { token: carol, body: { name: 'x' } }), 400);
      assert.equal(await total(carol), 0);
    });
  });

  describe('view, update, delete', () => {
    it('views: 404 for missing, foreign and non-UUID ids', async () => {
      const c = await createChannel(request, alice, { name: 'v' });
      assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: alice })).json, c);
      assertError(
        await request('GET', `/channels/${crypto.randomUUID()}`, { token: alice }),
        404,
        'non-existent entity',
      );
      assertError(await request('GET', `/channels/${c.id}`, { token: bob }), 404);
      assertError(await request('GET', '/channels/xyz', { token: alice }), 404);
      assertError(await request('GET', `/channels/${c.id}`), 401);
    });

    it('PUT replaces name and metadata (omitted: cleared)', async () => {
      const c = await createChannel(request, alice, { name: 'before', metadata: { type: 'data' } });
      assertEmpty(
        await request('PUT', `/channels/${c.id}`, {
          token: alice,
          body: { name: 'after', metadata: { type: 'control', n: [1] } },
        }),
        200,
      );
      assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: alice })).json, {
        id: c.id,
        name: 'after',
        metadata: { type: 'control', n: [1] },
      });
      assertEmpty(
        await request('PUT', `/channels/${c.id}`, { token: alice, body: { metadata: { x: 1 } } }),
        200,
      );
      assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: alice })).json, {
        id: c.id,
        metadata: { x: 1 },
      });
      assertEmpty(await request('PUT', `/channels/${c.id}`, { token: alice, body: {} }), 200);
      assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: alice })).json, { id: c.id });
    });

    it('PUT answers 400 for a non-UUID id or a long name, 404 for missing or foreign', async () => {
      const c = await createChannel(request, alice, { name: 'keep' });
      assertError(await request('PUT', '/channels/xyz', { token: alice, body: { name: 'x' } }), 400);
      assertError(
        await request('PUT', `/channels/${crypto.randomUUID()}`, { token: alice, body: { name: 'x' } }),
        404,
      );
      assertError(await request('PUT', `/channels/${c.id}`, { token: bob, body: { name: 'stolen' } }), 404);
      assertError(
        await request('PUT', `/channels/${c.id}`, { token: alice, body: { name: 'n'.repeat(1025) } }),
        400,
      );
      assertError(
        await request('PUT', `/channels/${c.id}`, {
          token: alice,
          body: { name: 'x' },
          contentType: 'text/plain',
        }),
        415,
      );
      assert.deepEqual((await request('GET', `/channels/${c.id}`, { token: alice })).json, {
        id: c.id,
        name: 'keep',
      });
    });

    it('DELETE answers 204 always: own, again, missing, foreign, non-UUID', async () => {
      const c = await createChannel(request, alice, {});
      const foreign = await createChannel(request, bob, { name: 'bobs' });
      assertEmpty(await request('DELETE', `/channels/${c.id}`, { token: alice }), 204);
      assertError(await request('GET', `/channels/${c.id}`, { token: alice }), 404);
      assertEmpty(await request('DELETE', `/channels/${c.id}`, { token: alice }), 204);
      assertEmpty(await request('DELETE', `/channels/${crypto.randomUUID()}`, { token: alice }), 204);
      assertEmpty(await request('DELETE', `/channels/${foreign.id}`, { token: alice }), 204);
      assertEmpty(await request('DELETE', '/channels/not-a-uuid', { token: alice }), 204);
      assert.deepEqual((await request('GET', `/channels/${foreign.id}`, { token: bob })).json, foreign);
      assertError(await request('DELETE', `/channels/${foreign.id}`), 401);
    });

    it('DELETE removes the channel’s connections', async () => {
      const carol = await fresh();
      const [c, keep] = await createChannels(request, carol, [{ name: 'c' }, { name: 'keep' }]);
      const things = await createThings(request, carol, [{ name: 't1' }, { name: 't2' }]);
      await connect(request, carol, [c!.id, keep!.id], ids(things));
      assertEmpty(await request('DELETE', `/channels/${c!.id}`, { token: carol }), 204);
      for (const t of things) {
        const p = await page(request, carol, `/things/${t.id}/channels`);
        assert.deepEqual(ids(p.channels), [keep!.id]);
        assert.equal(p.total, 1);
        assert.equal((await page(request, carol, `/things/${t.id}/channels?disconnected=true`)).total, 0);
        assertError(
          await request('POST', `/identify/channels/${c!.id}/access-by-key`, { body: { token: t.key } }),
          404,
        );
      }
      const gone = await page(request, carol, `/channels/${c!.id}/things`);
      assert.equal(gone.total, 0);
      assert.deepEqual(gone.things, []);
    });
  });

  describe('list', () => {
    let carol: string;
    let all: { id: string; name?: string; metadata?: any }[];
    before(async () => {
      carol = await fresh();
      const specs = [
        { name: 'control', metadata: { type: 'control' } },
        { name: 'data', metadata: { type: 'data', qos: { level: 1, retain: false } } },
        { name: 'export', metadata: { type: 'export', qos: { level: 2 } } },
        { name: 'Data-Two', metadata: { type: 'data', extra: 'x' } },
        { name: 'a,b' },
        ...Array.from({ length: 8 }, (_, i) => ({ name: `ch${i}` })),
      ];
      all = await createChannels(request, carol, specs);
    });

    it('pages with defaults and the full page shape', async () => {
      const p = await page(request, carol, '/channels');
      assert.deepEqual(Object.keys(p), ['total', 'offset', 'limit', 'order', 'direction', 'channels']);
      assert.deepEqual([p.total, p.offset, p.limit, p.order, p.direction], [13, 0, 10, '', '']);
      assert.deepEqual(ids(p.channels), sorted(ids(all)).reverse().slice(0, 10));
      const listed = await listAll(request, carol, '/channels', 'channels');
      const byId = new Map(all.map((c) => [c.id, c]));
      for (const c of listed) assert.deepEqual(c, byId.get(c.id));
      assert.equal((await page(request, carol, '/channels?limit=0')).limit, 10);
      assert.equal((await page(request, carol, '/channels?offset=12&limit=5')).channels.length, 1);
    });

    it('refuses bad paging parameters with 400', async () => {
      for (const query of [
        'limit=101',
        'limit=1000',
        'offset=-1',
        'offset=1.5',
        'limit=x',
        'offset=',
        'offset=1&offset=2',
        'order=key',
        'dir=sideways',
        'metadata=nope',
        `name=${'n'.repeat(1025)}`,
      ]) {
        assertError(await request('GET', `/channels?${query}`, { token: carol }), 400);
      }
    });

    it('filters by name and metadata', async () => {
      const names = async (query: string) =>
        sorted((await listAll(request, carol, `/channels?${query}`, 'channels')).map((c) => c.name));
      assert.deepEqual(await names('name=DATA'), ['Data-Two', 'data']);
      assert.deepEqual(await names(`name=${q('a,b')}`), ['a,b']);
      assert.deepEqual(await names(`metadata=${q({ type: 'data' })}`), ['Data-Two', 'data']);
      assert.deepEqual(await names(`metadata=${q({ type: 'data', extra: 'x' })}`), ['Data-Two']);
      assert.deepEqual(await names(`metadata=${q({ qos: { level: 1 } })}`), ['data']);
      assert.deepEqual(await names(`metadata=${q({ qos: {} })}`), ['data', 'export']);
      assert.deepEqual(await names(`name=ch&metadata=${q({ type: 'data' })}`), []);
      assert.equal((await page(request, carol, '/channels?name=ch&limit=1')).total, 8);
      assert.equal(
        (await page(request, carol, `/channels?metadata=${q({ type: 'data' })}&limit=1`)).total,
        2,
      );
    });

    it('orders by name or id in both directions', async () => {
      const lower = all
        .map((c) => c.name!)
        .filter((n) => /^[a-z0-9]+$/.test(n))
        .sort();
      const names = async (query: string) =>
        (await listAll(request, carol, `/channels?${query}`, 'channels'))
          .map((c) => c.name)
          .filter((n: string) => /^[a-z0-9]+$/.test(n));
      assert.deepEqual(await names('order=name&dir=asc'), lower);
      assert.deepEqual(await names('order=name'), [...lower].reverse());
      assert.deepEqual(
        ids(await listAll(request, carol, '/channels?order=id&dir=asc', 'channels')),
        sorted(ids(all)),
      );
      assert.deepEqual(
        ids(await listAll(request, carol, '/channels?dir=desc', 'channels')),
        sorted(ids(all)).reverse(),
      );
      const p = await page(request, carol, '/channels?order=name&dir=asc');
      assert.equal(p.order, 'name');
      assert.equal(p.direction, 'asc');
    });

    it('keeps totals exact through bulk creates and deletes', async () => {
      const dave = await fresh();
      const made = await createChannels(
        request,
        dave,
        Array.from({ length: 40 }, (_, i) => ({ name: `d${i}` })),
      );
      assert.equal(await total(dave), 40);
      assertError(
        await request('POST', '/channels/bulk', {
          token: dave,
          body: [{ name: 'x' }, { name: 'n'.repeat(1025) }],
        }),
        400,
      );
      for (const c of made.slice(0, 5)) await request('DELETE', `/channels/${c.id}`, { token: dave });
      await request('DELETE', `/channels/${made[0]!.id}`, { token: dave });
      await request('DELETE', `/channels/${made[6]!.id}`, { token: carol });
      await request('DELETE', `/channels/${all[0]!.id}`, { token: dave });
      assert.equal(await total(dave), 35);
      assert.equal(await total(carol), 13);
      assert.equal((await listAll(request, dave, '/channels', 'channels')).length, 35);
    });
  });

  describe('ownership', () => {
    it("user B never sees or changes user A's things and channels", async () => {
      const a = await fresh();
      const b = await fresh();
      const thing = await createThing(request, a, { name: 'a-thing', metadata: { owner: 'a' } });
      const channel = await createChannel(request, a, { name: 'a-chan', metadata: { owner: 'a' } });
      await connect(request, a, [channel.id], [thing.id]);
      const bThing = await createThing(request, b, { name: 'b-thing' });
      const bChannel = await createChannel(request, b, { name: 'b-chan' });

      // Reads: 404 or empty lists.
      assertError(await request('GET', `/things/${thing.id}`, { token: b }), 404);
      assertError(await request('GET', `/channels/${channel.id}`, { token: b }), 404);
      for (const path of [
        '/things',
        '/channels',
        `/things?name=a-thing`,
        `/channels?metadata=${q({ owner: 'a' })}`,
      ]) {
        const p = await page(request, b, path);
        assert.ok(!JSON.stringify(p).includes(thing.id) && !JSON.stringify(p).includes(channel.id), path);
      }
      assert.equal((await page(request, b, '/things')).total, 1);
      assert.equal((await page(request, b, '/channels')).total, 1);
      const searched = await request('POST', '/things/search', { token: b, body: { name: 'a-thing' } });
      assert.equal(searched.json.total, 0);
      const theirThings = await page(request, b, `/channels/${channel.id}/things`);
      assert.equal(theirThings.total, 0);
      assert.deepEqual(theirThings.things, []);
      const theirChannels = await page(request, b, `/things/${thing.id}/channels`);
      assert.equal(theirChannels.total, 0);
      // The complement of a foreign entity is the caller's own entities only.
      assert.deepEqual(
        ids((await page(request, b, `/channels/${channel.id}/things?disconnected=true`)).things),
        [bThing.id],
      );
      assert.deepEqual(
        ids((await page(request, b, `/things/${thing.id}/channels?connected=false`)).channels),
        [bChannel.id],
      );

      // Writes: 404, or a silent 204 that changes nothing.
      assertError(await request('PUT', `/things/${thing.id}`, { token: b, body: { name: 'x' } }), 404);
      assertError(await request('PUT', `/channels/${channel.id}`, { token: b, body: { name: 'x' } }), 404);
      assertError(
        await request('PATCH', `/things/${thing.id}/key`, { token: b, body: { key: 'b-owned' } }),
        404,
      );
      assertEmpty(await request('DELETE', `/things/${thing.id}`, { token: b }), 204);
      assertEmpty(await request('DELETE', `/channels/${channel.id}`, { token: b }), 204);
      assertError(await request('DELETE', `/channels/${channel.id}/things/${thing.id}`, { token: b }), 404);
      assertError(await request('PUT', `/channels/${channel.id}/things/${bThing.id}`, { token: b }), 404);
      assertError(await request('PUT', `/channels/${bChannel.id}/things/${thing.id}`, { token: b }), 404);
      assertError(
        await request('POST', '/connect', {
          token: b,
          body: { channel_ids: [bChannel.id], thing_ids: [thing.id] },
        }),
        404,
      );

      // A's view is untouched.
      assert.deepEqual((await request('GET', `/things/${thing.id}`, { token: a })).json, thing);
      assert.deepEqual((await request('GET', `/channels/${channel.id}`, { token: a })).json, channel);
      assert.deepEqual(ids((await page(request, a, `/channels/${channel.id}/things`)).things), [thing.id]);
      assert.deepEqual(
        (
          await request('POST', `/identify/channels/${channel.id}/access-by-key`, {
            body: { token: thing.key },
          })
        ).json,
        { id: thing.id },
      );
      assertError(
        await request('POST', `/identify/channels/${bChannel.id}/access-by-id`, {
          body: { thing_id: thing.id },
        }),
        404,
      );
    });
  });
});

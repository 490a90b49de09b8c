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
  sorted,
} from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';

const DEPRECATED =
  'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint found at /connect.';

describe(`connections (${dialect})`, () => {
  const { request } = withServer();
  let bob: string;

  before(async () => {
    bob = (await userToken(request)).token;
  });

  const fresh = async () => (await userToken(request)).token;
  const thingsOf = async (token: string, channelId: string, query = '') =>
    listAll(request, token, `/channels/${channelId}/things${query}`, 'things');
  const channelsOf = async (token: string, thingId: string, query = '') =>
    listAll(request, token, `/things/${thingId}/channels${query}`, 'channels');

  describe('PUT /channels/{c}/things/{t}', () => {
    it('connects with 200, an empty body and the deprecation warning', async () => {
      const alice = await fresh();
      const t = await createThing(request, alice, { name: 't' });
      const c = await createChannel(request, alice, { name: 'c' });
      const reply = await request('PUT', `/channels/${c.id}/things/${t.id}`, { token: alice });
      assertEmpty(reply, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.headers.get('warning-deprecated'), DEPRECATED);
      assert.deepEqual(ids(await thingsOf(alice, c.id)), [t.id]);
      assert.deepEqual(ids(await channelsOf(alice, t.id)), [c.id]);
      // A second time: 409.
      assertError(
        await request('PUT', `/channels/${c.id}/things/${t.id}`, { token: alice }),
        409,
        'entity already exists',
      );
      // Upper-case ids name the same entities.
      assertError(
        await request('PUT', `/channels/${c.id.toUpperCase()}/things/${t.id.toUpperCase()}`, {
          token: alice,
        }),
        409,
      );
    });

    it('answers 404 for a foreign or missing thing or channel, 400 for non-UUID ids, 401 without a token', async () => {
      const alice = await fresh();
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      const bt = await createThing(request, bob, {});
      const bc = await createChannel(request, bob, {});
      assertError(
        await request('PUT', `/channels/${c.id}/things/${bt.id}`, { token: alice }),
        404,
        'non-existent entity',
      );
      assertError(await request('PUT', `/channels/${bc.id}/things/${t.id}`, { token: alice }), 404);
      assertError(
        await request('PUT', `/channels/${c.id}/things/${crypto.randomUUID()}`, { token: alice }),
        404,
      );
      assertError(
        await request('PUT', `/channels/${crypto.randomUUID()}/things/${t.id}`, { token: alice }),
        404,
      );
      assertError(
        await request('PUT', `/channels/${c.id}/things/nope`, { token: alice }),
        400,
        'add connection failed',
      );
      assertError(await request('PUT', `/channels/nope/things/${t.id}`, { token: alice }), 400);
      assertError(await request('PUT', `/channels/${c.id}/things/${t.id}`), 401);
      assert.equal((await page(request, alice, `/channels/${c.id}/things`)).total, 0);
      assert.equal((await page(request, bob, `/channels/${bc.id}/things`)).total, 0);
    });
  });

  describe('POST /connect', () => {
    it('connects every channel with every thing', async () => {
      const alice = await fresh();
      const things = await createThings(request, alice, [{ name: 't1' }, { name: 't2' }, { name: 't3' }]);
      const channels = await createChannels(request, alice, [{ name: 'c1' }, { name: 'c2' }]);
      const reply = await request('POST', '/connect', {
        token: alice,
        body: { channel_ids: ids(channels), thing_ids: ids(things) },
      });
      assertEmpty(reply, 200);
      for (const c of channels)
        assert.deepEqual(sorted(ids(await thingsOf(alice, c.id))), sorted(ids(things)));
      for (const t of things)
        assert.deepEqual(sorted(ids(await channelsOf(alice, t.id))), sorted(ids(channels)));
      for (const c of channels) {
        for (const t of things) {
          const access = await request('POST', `/identify/channels/${c.id}/access-by-key`, {
            body: { token: t.key },
          });
          assert.deepEqual(access.json, { id: t.id });
        }
      }
    });

    it('is all or nothing: one foreign id → 404, one connected pair → 409, nothing new connected', async () => {
      const alice = await fresh();
      const things = await createThings(request, alice, [{ name: 't1' }, { name: 't2' }]);
      const channels = await createChannels(request, alice, [{ name: 'c1' }, { name: 'c2' }]);
      const foreignThing = await createThing(request, bob, {});
      const foreignChannel = await createChannel(request, bob, {});
      const connectedCount = async () => {
        let n = 0;
        for (const c of channels) n += (await page(request, alice, `/channels/${c.id}/things`)).total;
        return n;
      };

      assertError(
        await request('POST', '/connect', {
          token: alice,
          body: { channel_ids: ids(channels), thing_ids: [...ids(things), foreignThing.id] },
        }),
        404,
      );
      assertError(
        await request('POST', '/connect', {
          token: alice,
          body: { channel_ids: [...ids(channels), foreignChannel.id], thing_ids: ids(things) },
        }),
        404,
      );
      assertError(
        await request('POST', '/connect', {
          token: alice,
          body: { channel_ids: ids(channels), thing_ids: [...ids(things), crypto.randomUUID()] },
        }),
        404,
      );
      assert.equal(await connectedCount(), 0);
      assert.equal((await page(request, bob, `/things/${foreignThing.id}/channels`)).total, 0);

      await connect(request, alice, [channels[0]!.id], [things[0]!.id]);
      assertError(
        await request('POST', '/connect', {
          token: alice,
          body: { channel_ids: ids(channels), thing_ids: ids(things) },
        }),
        409,
        'entity already exists',
      );
      assert.equal(await connectedCount(), 1);
      assert.deepEqual(ids(await thingsOf(alice, channels[0]!.id)), [things[0]!.id]);
      assertError(
        await request('POST', `/identify/channels/${channels[1]!.id}/access-by-id`, {
          body: { thing_id: things[1]!.id },
        }),
        404,
      );
    });

    it('refuses empty or missing arrays, empty and non-UUID ids, bad bodies', async () => {
      const alice = await fresh();
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      for (const body of [
        { channel_ids: [], thing_ids: [t.id] },
        { channel_ids: [c.id], thing_ids: [] },
        { channel_ids: [c.id] },
        { thing_ids: [t.id] },
        {},
        { channel_ids: [c.id, ''], thing_ids: [t.id] },
        { channel_ids: [c.id], thing_ids: ['not-a-uuid'] },
        { channel_ids: c.id, thing_ids: [t.id] },
        { channel_ids: [c.id], thing_ids: [7] },
        [c.id, t.id],
      ]) {
        assertError(await request('POST', '/connect', { token: alice, body }), 400);
      }
      assertError(await request('POST', '/connect', { token: alice, raw: '{"channel_ids":[' }), 400);
      assertError(
        await request('POST', '/connect', {
          token: alice,
          body: { channel_ids: [c.id], thing_ids: [t.id] },
          contentType: 'text/plain',
        }),
        415,
      );
      assertError(
        await request('POST', '/connect', { body: { channel_ids: [c.id], thing_ids: [t.id] } }),
        401,
      );
      assert.equal((await page(request, alice, `/channels/${c.id}/things`)).total, 0);
    });
  });

  describe('DELETE /channels/{c}/things/{t}', () => {
    it('disconnects with 204; a pair that is not connected is 404; non-UUID 400', async () => {
      const alice = await fresh();
      const [t, u] = await createThings(request, alice, [{ name: 't' }, { name: 'u' }]);
      const c = await createChannel(request, alice, {});
      await connect(request, alice, [c.id], [t!.id, u!.id]);
      assertEmpty(await request('DELETE', `/channels/${c.id}/things/${t!.id}`, { token: alice }), 204);
      assert.deepEqual(ids(await thingsOf(alice, c.id)), [u!.id]);
      assertError(
        await request('DELETE', `/channels/${c.id}/things/${t!.id}`, { token: alice }),
        404,
        'non-existent entity',
      );
      assertError(
        await request('DELETE', `/channels/${c.id}/things/${crypto.randomUUID()}`, { token: alice }),
        404,
      );
      assertError(await request('DELETE', `/channels/${c.id}/things/${u!.id}`, { token: bob }), 404);
      assertError(
        await request('DELETE', `/channels/${c.id}/things/nope`, { token: alice }),
        400,
        'remove connection failed',
      );
      assertError(await request('DELETE', `/channels/nope/things/${u!.id}`, { token: alice }), 400);
      assertError(await request('DELETE', `/channels/${c.id}/things/${u!.id}`), 401);
      assert.deepEqual(ids(await thingsOf(alice, c.id)), [u!.id]);
      // Reconnecting works.
      assertEmpty(await request('PUT', `/channels/${c.id}/things/${t!.id}`, { token: alice }), 200);
      assert.deepEqual(sorted(ids(await thingsOf(alice, c.id))), sorted([t!.id, u!.id]));
    });
  });

  describe('connection lists', () => {
    let alice: string;
    let things: { id: string; name?: string; key: string }[];
    let channels: { id: string; name?: string }[];
    let connectedThings: string[];
    let connectedChannels: string[];

    before(async () => {
      alice = await fresh();
      things = await createThings(
        request,
        alice,
        Array.from({ length: 14 }, (_, i) => ({ name: `t${String(i).padStart(2, '0')}`, metadata: { i } })),
      );
      channels = await createChannels(
        request,
        alice,
        Array.from({ length: 13 }, (_, i) => ({ name: `c${String(i).padStart(2, '0')}` })),
      );
      connectedThings = ids(things.slice(0, 11));
      connectedChannels = ids(channels.slice(0, 3));
      // c0 has 11 things; t0 has 3 channels.
      await connect(request, alice, [channels[0]!.id], connectedThings);
      await connect(request, alice, connectedChannels.slice(1), [things[0]!.id]);
      // Another user's entities never show up in either list.
      await createThings(request, bob, [{ name: 'bob-thing' }]);
      await createChannels(request, bob, [{ name: 'bob-chan' }]);
    });

    it('lists a channel’s things with the page shape and order/direction always ""', async () => {
      const p = await page(request, alice, `/channels/${channels[0]!.id}/things`);
      assert.deepEqual(Object.keys(p), ['total', 'offset', 'limit', 'order', 'direction', 'things']);
      assert.deepEqual([p.total, p.offset, p.limit, p.order, p.direction], [11, 0, 10, '', '']);
      assert.equal(p.things.length, 10);
      const all = await thingsOf(alice, channels[0]!.id);
      assert.deepEqual(sorted(ids(all)), sorted(connectedThings));
      const byId = new Map(things.map((t) => [t.id, t]));
      for (const t of all) assert.deepEqual(t, byId.get(t.id));
      const ordered = await page(
        request,
        alice,
        `/channels/${channels[0]!.id}/things?order=name&dir=asc&limit=5&offset=2`,
      );
      assert.equal(ordered.order, '');
      assert.equal(ordered.direction, '');
      assert.equal(ordered.limit, 5);
      assert.equal(ordered.offset, 2);
      assert.deepEqual(
        ordered.things.map((t: any) => t.name),
        ['t02', 't03', 't04', 't05', 't06'],
      );
      const desc = await page(
        request,
        alice,
        `/channels/${channels[0]!.id}/things?order=name&dir=desc&limit=3`,
      );
      assert.deepEqual(
        desc.things.map((t: any) => t.name),
        ['t10', 't09', 't08'],
      );
    });

    it('lists a thing’s channels', async () => {
      const p = await page(request, alice, `/things/${things[0]!.id}/channels`);
      assert.deepEqual(Object.keys(p), ['total', 'offset', 'limit', 'order', 'direction', 'channels']);
      assert.deepEqual([p.total, p.offset, p.limit, p.order, p.direction], [3, 0, 10, '', '']);
      assert.deepEqual(sorted(ids(p.channels)), sorted(connectedChannels));
      assert.deepEqual(
        (await page(request, alice, `/things/${things[0]!.id}/channels?order=name&dir=asc`)).channels.map(
          (c: any) => c.name,
        ),
        ['c00', 'c01', 'c02'],
      );
      assert.deepEqual(ids((await page(request, alice, `/things/${things[1]!.id}/channels`)).channels), [
        channels[0]!.id,
      ]);
      assert.equal((await page(request, alice, `/things/${things[13]!.id}/channels`)).total, 0);
    });

    it('gives exactly the complement with disconnected=true and with connected=false', async () => {
      const allThings = ids(things);
      const allChannels = ids(channels);
      for (const query of [
        '?disconnected=true',
        '?connected=false',
        '?disconnected=1',
        '?connected=f',
        '?disconnected=True',
      ]) {
        const others = await thingsOf(alice, channels[0]!.id, query);
        assert.deepEqual(
          sorted(ids(others)),
          sorted(allThings.filter((id) => !connectedThings.includes(id))),
          query,
        );
        const p = await page(request, alice, `/channels/${channels[0]!.id}/things${query}`);
        assert.equal(p.total, 3, query);
        assert.equal(p.order, '');
        assert.equal(p.direction, '');
        const otherChannels = await channelsOf(alice, things[0]!.id, query);
        assert.deepEqual(
          sorted(ids(otherChannels)),
          sorted(allChannels.filter((id) => !connectedChannels.includes(id))),
          query,
        );
        assert.equal((await page(request, alice, `/things/${things[0]!.id}/channels${query}`)).total, 10);
      }
      // The complement pages like any list.
      const first = await page(
        request,
        alice,
        `/things/${things[0]!.id}/channels?connected=false&limit=4&order=name&dir=asc`,
      );
      assert.equal(first.total, 10);
      assert.deepEqual(
        first.channels.map((c: any) => c.name),
        ['c03', 'c04', 'c05', 'c06'],
      );
      // false / true spellings of the default list the connected ones.
      // 0.12.1 ignores `connected`: a value that is not false is ignored (200), not refused.
      for (const query of [
        '?disconnected=false',
        '?connected=true',
        '?connected=1',
        '?disconnected=0',
        '?connected=yes',
        '?connected=',
        '?connected=false&connected=false',
      ]) {
        assert.equal(
          (await page(request, alice, `/channels/${channels[0]!.id}/things${query}`)).total,
          11,
          query,
        );
      }
      // A channel with no connections: the complement is everything.
      const lonely = channels[12]!.id;
      assert.equal((await page(request, alice, `/channels/${lonely}/things`)).total, 0);
      assert.deepEqual(sorted(ids(await thingsOf(alice, lonely, '?disconnected=true'))), sorted(allThings));
      // Missing entity (a UUID): an empty list, or with the complement all the caller's entities.
      const missing = crypto.randomUUID();
      assert.equal((await page(request, alice, `/channels/${missing}/things`)).total, 0);
      assert.equal((await page(request, alice, `/channels/${missing}/things?connected=false`)).total, 14);
      assert.equal((await page(request, alice, `/things/${missing}/channels?disconnected=true`)).total, 13);
    });

    it('refuses limit 0, limit > 100, bad offsets, bad booleans and non-UUID ids', async () => {
      const c = channels[0]!.id;
      const t = things[0]!.id;
      for (const path of [`/channels/${c}/things`, `/things/${t}/channels`]) {
        for (const query of [
          'limit=0',
          'limit=101',
          'offset=-1',
          'offset=1.5',
          'limit=',
          'disconnected=maybe',
          'order=key',
          'dir=up',
          'limit=1&limit=2',
          'disconnected=true&disconnected=true',
        ]) {
          assertError(await request('GET', `${path}?${query}`, { token: alice }), 400, undefined);
        }
        assert.equal((await page(request, alice, `${path}?limit=100`)).limit, 100);
        assert.equal((await page(request, alice, `${path}?limit=1`)).limit, 1);
        assertError(await request('GET', path), 401);
      }
      assertError(await request('GET', '/channels/nope/things', { token: alice }), 404);
      assertError(await request('GET', '/things/nope/channels', { token: alice }), 404);
    });

    it('ignores name and metadata filters on connection lists (the SDK sends name=)', async () => {
      const p = await page(
        request,
        alice,
        `/channels/${channels[0]!.id}/things?name=&metadata=${encodeURIComponent('{"i":1}')}`,
      );
      assert.equal(p.total, 11);
    });
  });

  describe('cascades', () => {
    it('deleting a thing or a channel removes its connections from both lists', async () => {
      const alice = await fresh();
      const [t1, t2] = await createThings(request, alice, [{ name: 't1' }, { name: 't2' }]);
      const [c1, c2] = await createChannels(request, alice, [{ name: 'c1' }, { name: 'c2' }]);
      await connect(request, alice, [c1!.id, c2!.id], [t1!.id, t2!.id]);

      assertEmpty(await request('DELETE', `/things/${t1!.id}`, { token: alice }), 204);
      for (const c of [c1!, c2!]) {
        assert.deepEqual(ids(await thingsOf(alice, c.id)), [t2!.id]);
        assert.equal((await page(request, alice, `/channels/${c.id}/things?disconnected=true`)).total, 0);
      }
      assert.equal((await page(request, alice, `/things/${t1!.id}/channels`)).total, 0);

      assertEmpty(await request('DELETE', `/channels/${c1!.id}`, { token: alice }), 204);
      assert.deepEqual(ids(await channelsOf(alice, t2!.id)), [c2!.id]);
      assert.equal((await page(request, alice, `/things/${t2!.id}/channels?connected=false`)).total, 0);
      assert.equal((await page(request, alice, `/channels/${c1!.id}/things`)).total, 0);
      // The surviving pair still works, the removed ones do not.
      assert.deepEqual(
        (await request('POST', `/identify/channels/${c2!.id}/access-by-key`, { body: { token: t2!.key } }))
          .json,
        { id: t2!.id },
      );
      assertError(
        await request('POST', `/identify/channels/${c1!.id}/access-by-key`, { body: { token: t2!.key } }),
        404,
      );
      // A disconnect of a removed pair is 404; connecting to a removed entity is 404.
      assertError(await request('DELETE', `/channels/${c1!.id}/things/${t2!.id}`, { token: alice }), 404);
      assertError(await request('PUT', `/channels/${c2!.id}/things/${t1!.id}`, { token: alice }), 404);
    });
  });
});

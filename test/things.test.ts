import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  assertEmpty,
  assertError,
  connect,
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
import { client, dialect, startServer, userToken, withServer } from './helpers/server.js';
import { clockPast } from './helpers/wait.js';

const DEPRECATED =
  'This endpoint will be depreciated in v1.0.0. It will be replaced with the bulk endpoint currently found at /things/bulk.';

describe(`things (${dialect})`, () => {
  const { request } = withServer();
  let alice: string;
  let bob: string;

  before(async () => {
    [alice, bob] = await Promise.all([
      userToken(request).then((u) => u.token),
      userToken(request).then((u) => u.token),
    ]);
  });

  const total = async (token: string, query = '') =>
    (await page(request, token, `/things?limit=1${query}`)).total as number;
  const fresh = async () => (await userToken(request)).token;

  describe('create', () => {
    it('answers 201 with Location, the deprecation warning and an empty JSON body', async () => {
      const reply = await request('POST', '/things', { token: alice, body: { name: 'weio' } });
      assertEmpty(reply, 201);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.headers.get('warning-deprecated'), DEPRECATED);
      const location = reply.headers.get('location') ?? '';
      assert.match(location, /^\/things\/[0-9a-f-]{36}$/);
      const id = location.slice('/things/'.length);
      assert.match(id, UUID_V4);

      const view = await request('GET', location, { token: alice });
      assert.equal(view.status, 200);
      assert.deepEqual(Object.keys(view.json), ['id', 'name', 'key']);
      assert.equal(view.json.id, id);
      assert.equal(view.json.name, 'weio');
      assert.match(view.json.key, UUID_V4, 'a key not given is a random UUID');
    });

    it('gives ids in UUID v4 form that begin with the creation time, so that ids sort as they were made', async () => {
      const token = await fresh();
      const made: { id: string; before: number; after: number }[] = [];
      for (const name of ['first', 'second', 'third']) {
        const before = Date.now();
        const thing = await createThing(request, token, { name });
        const createdBy = Date.now();
        made.push({ id: thing.id, before, after: createdBy });
        // The subject is time: the next id's timestamp is a later millisecond.
        await clockPast(createdBy);
      }
      const [channel] = await createChannels(request, token, [{ name: 'c' }]);
      made.push({ id: channel!.id, before: made[2]!.after, after: Date.now() });
      for (const { id, before, after } of made) {
        assert.match(id, UUID_V4);
        const clock = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
        assert.ok(clock >= before && clock <= after, `${id}: ${clock} not within ${before}..${after}`);
      }
      const listed = await page(request, token, '/things?order=id&dir=asc');
      assert.deepEqual(ids(listed.things), ids(made.slice(0, 3)));
      // The rest of an id is random: the things of one bulk, mostly made in the same
      // millisecond, differ there too.
      const bulk = await createThings(
        request,
        token,
        Array.from({ length: 100 }, () => ({})),
      );
      assert.equal(new Set(ids(bulk).map((id) => id.slice(14))).size, 100);
    });

    it('stores metadata and a caller-chosen key verbatim; an id in the body is ignored', async () => {
      const key = `  my key ✓ ${crypto.randomUUID()}  `;
      const id = crypto.randomUUID();
      const metadata = { serial: '123', nested: { a: [1, 2, { b: null }] }, on: true };
      const reply = await request('POST', '/things', {
        token: alice,
        body: { id, name: 'with key', key, metadata },
      });
      assert.equal(reply.status, 201);
      const location = reply.headers.get('location')!;
      assert.notEqual(location, `/things/${id}`);
      const view = await request('GET', location, { token: alice });
      assert.deepEqual(view.json, { id: location.slice(8), name: 'with key', key, metadata });
    });

    it('gives a random key for an empty key and omits empty name and metadata', async () => {
      const reply = await request('POST', '/things', {
        token: alice,
        body: { key: '', name: '', metadata: {} },
      });
      assert.equal(reply.status, 201);
      const view = await request('GET', reply.headers.get('location')!, { token: alice });
      assert.deepEqual(Object.keys(view.json), ['id', 'key']);
      assert.match(view.json.key, UUID_V4);
    });

    it('accepts null fields as absent, as Go does', async () => {
      const reply = await request('POST', '/things', {
        token: alice,
        body: { name: null, key: null, metadata: null },
      });
      assert.equal(reply.status, 201);
    });

    it('refuses a key another user already has with 409 and creates nothing', async () => {
      const key = `shared-${crypto.randomUUID()}`;
      await createThing(request, alice, { key });
      const carol = await fresh();
      assertError(
        await request('POST', '/things', { token: carol, body: { name: 'dup', key } }),
        409,
        'entity already exists',
      );
      assertError(await request('POST', '/things', { token: alice, body: { key } }), 409);
      assert.equal(await total(carol), 0);
    });

    it('limits name to 1024 and key to 4096 bytes', async () => {
      const carol = await fresh();
      assert.equal(
        (
          await request('POST', '/things', {
            token: carol,
            body: { name: 'n'.repeat(1024), key: 'k'.repeat(4096) },
          })
        ).status,
        201,
      );
      assertError(await request('POST', '/things', { token: carol, body: { name: 'n'.repeat(1025) } }), 400);
      assertError(await request('POST', '/things', { token: carol, body: { key: 'x'.repeat(4097) } }), 400);
      assert.equal(await total(carol), 1);
    });

    it('measures name and key in bytes of UTF-8, as 0.12.1 does, and stores any key up to 4096 bytes', async () => {
      const carol = await fresh();
      // A random key does not compress: PostgreSQL's B-tree refused over 2,704 bytes (a 500).
      const randomKey = crypto.randomBytes(3072).toString('base64');
      assert.equal(randomKey.length, 4096);
      const created = await request('POST', '/things', {
        token: carol,
        body: { name: '界'.repeat(341), key: randomKey },
      });
      assert.equal(created.status, 201);
      const thing = await request('GET', created.headers.get('location')!, { token: carol });
      assert.equal(thing.json.key, randomKey);
      assert.equal(thing.json.name, '界'.repeat(341));
      assertError(
        await request('POST', '/things', { token: await fresh(), body: { key: randomKey } }),
        409,
        'entity already exists',
      );
      // 342 CJK characters are 1,026 bytes; 2,049 'é' are 4,098; 257 emoji are 1,028.
      assertError(await request('POST', '/things', { token: carol, body: { name: '界'.repeat(342) } }), 400);
      assertError(await request('POST', '/things', { token: carol, body: { key: 'é'.repeat(2049) } }), 400);
      assertError(
        await request('PUT', created.headers.get('location')!, {
          token: carol,
          body: { name: '😀'.repeat(257) },
        }),
        400,
      );
      const otherKey = crypto.randomBytes(3072).toString('base64');
      const id = created.headers.get('location')!.split('/').pop()!;
      assertEmpty(
        await request('PATCH', `/things/${id}/key`, { token: carol, body: { key: otherKey } }),
        200,
      );
      assert.equal((await request('GET', `/things/${id}`, { token: carol })).json.key, otherKey);
      assert.equal(await total(carol), 1);
    });

    it('needs a valid token (401)', async () => {
      assertError(
        await request('POST', '/things', { body: { name: 'x' } }),
        401,
        'missing or invalid credentials provided',
      );
      assertError(await request('POST', '/things', { token: 'nonsense', body: { name: 'x' } }), 401);
      assertError(await request('GET', '/things', { token: `${alice}x` }), 401);
    });
  });

  describe('bulk create', () => {
    it('answers 201 with the created things', async () => {
      const carol = await fresh();
      const reply = await request('POST', '/things/bulk', {
        token: carol,
        body: [{ name: 'weio' }, { name: 'bob', key: 'bob-key', metadata: { foo: 'bar' } }, {}],
      });
      assert.equal(reply.status, 201);
      assert.equal(reply.headers.get('location'), null);
      assert.deepEqual(Object.keys(reply.json), ['things']);
      const [weio, b, anon] = reply.json.things;
      assert.deepEqual(Object.keys(weio), ['id', 'name', 'key']);
      assert.match(weio.id, UUID_V4);
      assert.match(weio.key, UUID_V4);
      assert.deepEqual(b, { id: b.id, name: 'bob', key: 'bob-key', metadata: { foo: 'bar' } });
      assert.deepEqual(Object.keys(anon), ['id', 'key']);
      for (const t of reply.json.things) {
        const view = await request('GET', `/things/${t.id}`, { token: carol });
        assert.deepEqual(view.json, t);
      }
      assert.equal(await total(carol), 3);
    });

    it('is all or nothing when one key is taken', async () => {
      const carol = await fresh();
      const taken = (await createThing(request, alice, {})).key;
      const marker = `bulk-${crypto.randomUUID()}`;
      assertError(
        await request('POST', '/things/bulk', {
          token: carol,
          body: [{ name: `${marker}-1` }, { name: `${marker}-2`, key: taken }],
        }),
        409,
      );
      // Two new things with the same key: also refused, and nothing kept.
      assertError(
        await request('POST', '/things/bulk', {
          token: carol,
          body: [
            { name: `${marker}-3`, key: 'twice' },
            { name: `${marker}-4`, key: 'twice' },
          ],
        }),
        409,
      );
      // One invalid entry refuses the whole request.
      assertError(
        await request('POST', '/things/bulk', {
          token: carol,
          body: [{ name: marker }, { name: 'n'.repeat(1025) }],
        }),
        400,
      );
      assert.equal(await total(carol), 0);
      assert.equal((await page(request, carol, `/things?name=${marker}`)).total, 0);
      // The free key is still free.
      assert.equal((await request('POST', '/things', { token: carol, body: { key: 'twice' } })).status, 201);
    });

    it('refuses an empty array and a non-array with 400', async () => {
      const carol = await fresh();
      assertError(await request('POST', '/things/bulk', { token: carol, body: [] }), 400);
      assertError(await request('POST', '/things/bulk', { token: carol, body: { name: 'x' } }), 400);
      assertError(await request('POST', '/things/bulk', { token: carol, body: [{ name: 'ok' }, 'x'] }), 400);
      assert.equal(await total(carol), 0);
    });
  });

  describe('view', () => {
    it('answers 404 for a missing, a foreign and a non-UUID id', async () => {
      const mine = await createThing(request, alice, { name: 'mine' });
      assertError(
        await request('GET', `/things/${crypto.randomUUID()}`, { token: alice }),
        404,
        'non-existent entity',
      );
      assertError(await request('GET', `/things/${mine.id}`, { token: bob }), 404, 'non-existent entity');
      assertError(await request('GET', '/things/not-a-uuid', { token: alice }), 404);
      const upper = await request('GET', `/things/${mine.id.toUpperCase()}`, { token: alice });
      assert.equal(upper.status, 200);
      assert.equal(upper.json.id, mine.id);
    });
  });

  describe('update', () => {
    it('replaces name and metadata; omitted fields are cleared; the key stays', async () => {
      const t = await createThing(request, alice, { name: 'before', metadata: { a: 1 } });
      const put = await request('PUT', `/things/${t.id}`, {
        token: alice,
        body: { name: 'after', metadata: { b: { c: 2 } }, key: 'ignored' },
      });
      assertEmpty(put, 200);
      assert.deepEqual((await request('GET', `/things/${t.id}`, { token: alice })).json, {
        id: t.id,
        name: 'after',
        key: t.key,
        metadata: { b: { c: 2 } },
      });
      assertEmpty(
        await request('PUT', `/things/${t.id}`, { token: alice, body: { name: 'only name' } }),
        200,
      );
      assert.deepEqual((await request('GET', `/things/${t.id}`, { token: alice })).json, {
        id: t.id,
        name: 'only name',
        key: t.key,
      });
      assertEmpty(await request('PUT', `/things/${t.id}`, { token: alice, body: {} }), 200);
      assert.deepEqual((await request('GET', `/things/${t.id}`, { token: alice })).json, {
        id: t.id,
        key: t.key,
      });
    });

    it('answers 400 for a non-UUID id or a long name and 404 for a missing or foreign thing', async () => {
      const t = await createThing(request, alice, { name: 'keep', metadata: { k: 'v' } });
      assertError(await request('PUT', '/things/nope', { token: alice, body: { name: 'x' } }), 400);
      assertError(
        await request('PUT', `/things/${crypto.randomUUID()}`, { token: alice, body: { name: 'x' } }),
        404,
      );
      assertError(await request('PUT', `/things/${t.id}`, { token: bob, body: { name: 'stolen' } }), 404);
      assertError(
        await request('PUT', `/things/${t.id}`, { token: alice, body: { name: 'n'.repeat(1025) } }),
        400,
      );
      assertError(await request('PUT', `/things/${t.id}`, { token: alice, body: { metadata: 'x' } }), 400);
      assert.deepEqual((await request('GET', `/things/${t.id}`, { token: alice })).json, {
        id: t.id,
        name: 'keep',
        key: t.key,
        metadata: { k: 'v' },
      });
    });
  });

  describe('change key', () => {
    it('changes the key; the old key stops identifying at once, the new one works', async () => {
      const t = await createThing(request, alice, {});
      const before = await request('POST', '/identify', { body: { token: t.key } });
      assert.equal(before.status, 200);
      assert.deepEqual(before.json, { id: t.id });

      const newKey = `new-${crypto.randomUUID()}`;
      assertEmpty(
        await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: newKey } }),
        200,
      );
      assert.equal((await request('GET', `/things/${t.id}`, { token: alice })).json.key, newKey);
      assertError(await request('POST', '/identify', { body: { token: t.key } }), 404);
      const after = await request('POST', '/identify', { body: { token: newKey } });
      assert.equal(after.status, 200);
      assert.deepEqual(after.json, { id: t.id });

      // The old key is free again.
      const other = await createThing(request, bob, { key: t.key });
      assert.deepEqual((await request('POST', '/identify', { body: { token: t.key } })).json, {
        id: other.id,
      });
    });

    it('answers 409 for a key in use, 400 for an empty key, 404 for a foreign or missing thing', async () => {
      const t = await createThing(request, alice, {});
      const mineToo = await createThing(request, alice, {});
      const foreign = await createThing(request, bob, {});
      assertError(
        await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: mineToo.key } }),
        409,
        'entity already exists',
      );
      assertError(
        await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: foreign.key } }),
        409,
      );
      assertError(await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: '' } }), 400);
      assertError(await request('PATCH', `/things/${t.id}/key`, { token: alice, body: {} }), 400);
      assertError(
        await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: 'k'.repeat(4097) } }),
        400,
      );
      assertError(
        await request('PATCH', `/things/${foreign.id}/key`, { token: alice, body: { key: 'hijack' } }),
        404,
      );
      assertError(
        await request('PATCH', `/things/${crypto.randomUUID()}/key`, {
          token: alice,
          body: { key: 'nobody' },
        }),
        404,
      );
      // A non-UUID id: PostgreSQL's uuid column refused it in 0.12.1 (malformed, 400).
      assertError(
        await request('PATCH', '/things/not-a-uuid/key', { token: alice, body: { key: 'nobody' } }),
        400,
        'malformed entity specification',
      );
      assert.equal((await request('GET', `/things/${t.id}`, { token: alice })).json.key, t.key);
      assert.equal((await request('GET', `/things/${foreign.id}`, { token: bob })).json.key, foreign.key);
      assert.deepEqual((await request('POST', '/identify', { body: { token: foreign.key } })).json, {
        id: foreign.id,
      });
      assertError(await request('POST', '/identify', { body: { token: 'hijack' } }), 404);
    });
  });

  describe('delete', () => {
    it('answers 204 and the thing is gone; again, missing and foreign ids are 204 no-ops', async () => {
      const t = await createThing(request, alice, {});
      const foreign = await createThing(request, bob, {});
      assertEmpty(await request('DELETE', `/things/${t.id}`, { token: alice }), 204);
      assertError(await request('GET', `/things/${t.id}`, { token: alice }), 404);
      assertEmpty(await request('DELETE', `/things/${t.id}`, { token: alice }), 204);
      assertEmpty(await request('DELETE', `/things/${crypto.randomUUID()}`, { token: alice }), 204);
      assertEmpty(await request('DELETE', `/things/${foreign.id}`, { token: alice }), 204);
      assert.equal((await request('GET', `/things/${foreign.id}`, { token: bob })).status, 200);
      assertError(
        await request('DELETE', '/things/not-a-uuid', { token: alice }),
        400,
        'remove entity failed',
      );
      assertError(await request('DELETE', `/things/${foreign.id}`), 401);
    });

    it('removes the thing’s connections', async () => {
      const carol = await fresh();
      const [t, other] = await createThings(request, carol, [{ name: 't' }, { name: 'other' }]);
      const channels = await createChannels(request, carol, [{ name: 'c1' }, { name: 'c2' }]);
      await connect(request, carol, ids(channels), [t!.id, other!.id]);
      assert.equal((await page(request, carol, `/things/${t!.id}/channels`)).total, 2);

      assertEmpty(await request('DELETE', `/things/${t!.id}`, { token: carol }), 204);
      const list = await page(request, carol, `/things/${t!.id}/channels`);
      assert.equal(list.total, 0);
      assert.deepEqual(list.channels, []);
      for (const c of channels) {
        const things = await page(request, carol, `/channels/${c.id}/things`);
        assert.deepEqual(ids(things.things), [other!.id]);
        assert.equal(things.total, 1);
        assert.equal((await page(request, carol, `/channels/${c.id}/things?disconnected=true`)).total, 0);
      }
      assertError(await request('POST', '/identify', { body: { token: t!.key } }), 404);
      assertError(
        await request('POST', `/identify/channels/${channels[0]!.id}/access-by-id`, {
          body: { thing_id: t!.id },
        }),
        404,
      );
    });
  });

  describe('list', () => {
    let carol: string;
    let all: { id: string; name: string; key: string; metadata?: any }[];

    before(async () => {
      carol = await fresh();
      const names = [
        'Alpha',
        'bravo',
        'charlie',
        'delta',
        'echo',
        'foxtrot',
        'golf',
        'hotel',
        'india',
        'juliet',
        'kilo',
        'lima',
        'a,b',
        'a_c',
        'abc',
      ];
      const metadata: Record<string, unknown>[] = [
        { serial: '123456', kind: 'sensor' },
        { serial: '123456', kind: 'actuator', loc: { room: 'lab', floor: 2, tags: ['x', 'y'] } },
        { a: 1, b: 'x' },
        { a: 1, b: 'y' },
        { a: 1 },
        { loc: { room: 'lab', floor: 3 } },
        { on: true, off: false, none: null },
        { n: 2.5 },
      ];
      all = (await createThings(
        request,
        carol,
        names.map((name, i) => ({ name, ...(metadata[i] ? { metadata: metadata[i] } : {}) })),
      )) as any;
    });

    it('pages with defaults offset 0, limit 10, newest-id first', async () => {
      const p = await page(request, carol, '/things');
      assert.deepEqual(Object.keys(p), ['total', 'offset', 'limit', 'order', 'direction', 'things']);
      assert.equal(p.total, 15);
      assert.equal(p.offset, 0);
      assert.equal(p.limit, 10);
      assert.equal(p.order, '');
      assert.equal(p.direction, '');
      assert.equal(p.things.length, 10);
      const byIdDesc = sorted(ids(all)).reverse();
      assert.deepEqual(ids(p.things), byIdDesc.slice(0, 10));
      const rest = await page(request, carol, '/things?offset=10');
      assert.deepEqual(ids(rest.things), byIdDesc.slice(10));
      assert.equal(rest.total, 15);
      const beyond = await page(request, carol, '/things?offset=100&limit=5');
      assert.deepEqual(beyond.things, []);
      assert.equal(beyond.total, 15);
      assert.equal(beyond.offset, 100);
      assert.equal(beyond.limit, 5);
    });

    it('shows each thing as {id, name?, key, metadata?}', async () => {
      const listed = await listAll(request, carol, '/things', 'things');
      const byId = new Map(all.map((t) => [t.id, t]));
      for (const t of listed) assert.deepEqual(t, byId.get(t.id));
    });

    it('treats limit 0 as 10 and refuses bad offsets and limits', async () => {
      assert.equal((await page(request, carol, '/things?limit=0')).limit, 10);
      assert.equal((await page(request, carol, '/things?limit=0')).things.length, 10);
      assert.equal((await page(request, carol, '/things?limit=100')).things.length, 15);
      for (const query of [
        'limit=101',
        'limit=1000',
        'offset=-1',
        'offset=1.5',
        'limit=1.5',
        'limit=-1',
        'offset=',
        'limit=',
        'limit=ten',
        'offset=1e3',
        'limit=%2B5',
      ]) {
        assertError(await request('GET', `/things?${query}`, { token: carol }), 400, undefined);
      }
      for (const query of [
        'offset=0&offset=1',
        'limit=5&limit=5',
        'name=a&name=b',
        'metadata=%7B%7D&metadata=%7B%7D',
        'order=id&order=name',
        'dir=asc&dir=asc',
      ]) {
        assertError(await request('GET', `/things?${query}`, { token: carol }), 400);
      }
      assertError(await request('GET', `/things?name=${'n'.repeat(1025)}`, { token: carol }), 400);
      assertError(await request('GET', '/things'), 401);
    });

    it('filters by name: case-insensitive substring, commas allowed', async () => {
      const names = async (query: string) =>
        sorted((await listAll(request, carol, `/things?${query}`, 'things')).map((t) => t.name));
      assert.deepEqual(await names('name=ALPHA'), ['Alpha']);
      assert.deepEqual(await names('name=alp'), ['Alpha']);
      assert.deepEqual(await names('name=LI'), ['charlie', 'juliet', 'lima']);
      assert.deepEqual(await names(`name=${q('a,b')}`), ['a,b']);
      assert.deepEqual(await names('name=zzz'), []);
      // SQL LIKE wildcards, as in Mainflux: `_` is any one character.
      assert.deepEqual(await names('name=a_c'), ['a_c', 'abc']);
      assert.equal((await page(request, carol, `/things?name=${q('a,b')}`)).total, 1);
      // An empty name is no filter.
      assert.equal((await page(request, carol, '/things?name=')).total, 15);
    });

    it('filters by metadata containment, nested and with several keys', async () => {
      const names = async (filter: unknown) =>
        sorted((await listAll(request, carol, `/things?metadata=${q(filter)}`, 'things')).map((t) => t.name));
      assert.deepEqual(await names({ serial: '123456' }), ['Alpha', 'bravo']);
      assert.deepEqual(await names({ serial: '123456', kind: 'sensor' }), ['Alpha']);
      assert.deepEqual(await names({ a: 1, b: 'x' }), ['charlie']);
      assert.deepEqual(await names({ a: 1 }), ['charlie', 'delta', 'echo']);
      assert.deepEqual(await names({ a: '1' }), []);
      assert.deepEqual(await names({ loc: { room: 'lab' } }), ['bravo', 'foxtrot']);
      assert.deepEqual(await names({ loc: { room: 'lab', floor: 2 } }), ['bravo']);
      assert.deepEqual(await names({ loc: { tags: ['y'] } }), ['bravo']);
      assert.deepEqual(await names({ loc: { tags: ['z'] } }), []);
      assert.deepEqual(await names({ on: true }), ['golf']);
      assert.deepEqual(await names({ off: false }), ['golf']);
      assert.deepEqual(await names({ none: null }), ['golf']);
      assert.deepEqual(await names({ n: 2.5 }), ['hotel']);
      assert.deepEqual(await names({ loc: 'lab' }), []);
      assert.deepEqual(await names({}), sorted(all.map((t) => t.name)));
      // Name and metadata together.
      const both = await listAll(request, carol, `/things?name=EL&metadata=${q({ a: 1 })}`, 'things');
      assert.deepEqual(
        both.map((t) => t.name),
        ['delta'],
      );
      assert.equal((await page(request, carol, `/things?metadata=${q({ a: 1 })}&limit=1`)).total, 3);
      // Pages of one row through a metadata filter, in name order both ways, and past the end.
      for (const dir of ['asc', 'desc']) {
        const seen: string[] = [];
        for (let offset = 0; offset <= 3; offset++) {
          const p = await page(
            request,
            carol,
            `/things?metadata=${q({ a: 1 })}&order=name&dir=${dir}&offset=${offset}&limit=1`,
          );
          assert.equal(p.total, 3, `${dir} offset ${offset}`);
          seen.push(...p.things.map((t: { name: string }) => t.name));
        }
        const expected = ['charlie', 'delta', 'echo'];
        assert.deepEqual(seen, dir === 'asc' ? expected : expected.reverse());
      }
    });

    it('refuses metadata that is not a JSON object with 400', async () => {
      for (const bad of ['{', 'x', '"x"', '[1]', '1', 'null', '{"a":1', '%7B%22a%22%3A%7D']) {
        assertError(
          await request('GET', `/things?metadata=${bad.startsWith('%') ? bad : q(bad)}`, { token: carol }),
          400,
        );
      }
    });

    it('orders by name or id, ascending or descending (default descending)', async () => {
      const byName = [...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      // Every name here sorts the same under byte order and a linguistic collation.
      const lower = byName.filter((t) => /^[a-z]+$/.test(t.name)).map((t) => t.name);
      const names = async (query: string) =>
        (await listAll(request, carol, `/things?${query}`, 'things'))
          .map((t) => t.name)
          .filter((n: string) => /^[a-z]+$/.test(n));
      assert.deepEqual(await names('order=name&dir=asc'), lower);
      assert.deepEqual(await names('order=name&dir=desc'), [...lower].reverse());
      assert.deepEqual(await names('order=name'), [...lower].reverse());
      const idsOf = async (query: string) => ids(await listAll(request, carol, `/things?${query}`, 'things'));
      assert.deepEqual(await idsOf('order=id&dir=asc'), sorted(ids(all)));
      assert.deepEqual(await idsOf('order=id&dir=desc'), sorted(ids(all)).reverse());
      assert.deepEqual(await idsOf('dir=asc'), sorted(ids(all)));
      assert.deepEqual(await idsOf('order=id'), sorted(ids(all)).reverse());

      const p = await page(request, carol, '/things?order=name&dir=asc&limit=3&offset=1');
      assert.equal(p.order, 'name');
      assert.equal(p.direction, 'asc');
      assert.equal(p.limit, 3);
      assert.equal(p.offset, 1);
      assert.equal((await page(request, carol, '/things?dir=desc')).direction, 'desc');
      for (const query of [
        'order=key',
        'order=NAME',
        'dir=up',
        'dir=ASC',
        'order=name%20',
        'order=name;DROP',
      ]) {
        assertError(await request('GET', `/things?${query}`, { token: carol }), 400);
      }
    });

    it('sorts equal names by id in the same direction', async () => {
      const dave = await fresh();
      const made = await createThings(request, dave, [
        { name: 'same' },
        { name: 'same' },
        { name: 'same' },
        { name: 'aaa' },
      ]);
      const same = sorted(ids(made.filter((t) => t.name === 'same')));
      const asc = ids((await page(request, dave, '/things?order=name&dir=asc')).things);
      assert.deepEqual(asc, [made[3]!.id, ...same]);
      const desc = ids((await page(request, dave, '/things?order=name&dir=desc')).things);
      assert.deepEqual(desc, [...same].reverse().concat(made[3]!.id));
    });
  });

  describe('search', () => {
    let carol: string;
    before(async () => {
      carol = await fresh();
      await createThings(request, carol, [
        { name: 'bob', metadata: { foo: 'bar' } },
        { name: 'bobby', metadata: { foo: 'baz' } },
        { name: 'alice', metadata: { foo: 'bar', deep: { x: [1] } } },
        { name: 'xbob', metadata: { foo: 'bar' } },
      ]);
    });

    it('filters by body: name, metadata, order, dir, offset, limit', async () => {
      const reply = await request('POST', '/things/search', {
        token: carol,
        body: { metadata: { foo: 'bar' }, name: 'bob', limit: 10, offset: 0, order: 'name', dir: 'desc' },
      });
      assert.equal(reply.status, 200);
      assert.deepEqual(Object.keys(reply.json), ['total', 'offset', 'limit', 'order', 'direction', 'things']);
      assert.equal(reply.json.total, 2);
      assert.equal(reply.json.order, 'name');
      assert.equal(reply.json.direction, 'desc');
      assert.deepEqual(
        reply.json.things.map((t: any) => t.name),
        ['xbob', 'bob'],
      );
      for (const t of reply.json.things) assert.deepEqual(t.metadata, { foo: 'bar' });

      const deep = await request('POST', '/things/search', {
        token: carol,
        body: { metadata: { deep: { x: [1] } } },
      });
      assert.deepEqual(
        deep.json.things.map((t: any) => t.name),
        ['alice'],
      );
      const paged = await request('POST', '/things/search', { token: carol, body: { offset: 1, limit: 2 } });
      assert.equal(paged.json.total, 4);
      assert.equal(paged.json.things.length, 2);
      assert.equal(paged.json.offset, 1);
      assert.equal(paged.json.limit, 2);
      const defaults = await request('POST', '/things/search', { token: carol, body: {} });
      assert.equal(defaults.json.limit, 10);
      assert.equal(defaults.json.offset, 0);
      assert.equal(defaults.json.order, '');
      assert.equal(defaults.json.direction, '');
      assert.equal(
        (await request('POST', '/things/search', { token: carol, body: { limit: 0 } })).json.limit,
        10,
      );
      assert.equal(
        (await request('POST', '/things/search', { token: carol, body: { limit: 100 } })).json.limit,
        100,
      );
    });

    it('does not check the Content-Type', async () => {
      for (const contentType of [null, 'text/plain', 'application/x-www-form-urlencoded']) {
        const reply = await request('POST', '/things/search', {
          token: carol,
          raw: '{"name":"bobby"}',
          contentType,
        });
        assert.equal(reply.status, 200, `content-type ${contentType}`);
        assert.equal(reply.json.total, 1);
      }
    });

    it('refuses an empty or invalid body and limits above 100 with 400', async () => {
      assertError(await request('POST', '/things/search', { token: carol }), 400);
      assertError(await request('POST', '/things/search', { token: carol, raw: '' }), 400);
      for (const raw of [
        '{',
        '[]',
        '"x"',
        '{"limit":101}',
        '{"limit":"5"}',
        '{"offset":-1}',
        '{"limit":1.5}',
        '{"metadata":"x"}',
        '{"name":5}',
        '{"order":"key"}',
        '{"dir":"up"}',
        '{"offset":1e20}',
        `{"name":"${'n'.repeat(1025)}"}`,
      ]) {
        assertError(await request('POST', '/things/search', { token: carol, raw }), 400);
      }
      assertError(await request('POST', '/things/search', { body: {} }), 401);
    });
  });

  it('treats SQL-looking filters as plain text: 200, no matches, nothing changed', async () => {
    const carol = await fresh();
    const made = await createThings(request, carol, [
      { name: 'plain', metadata: { k: 'v' } },
      { name: "Robert'); DROP TABLE things;--" },
    ]);
    const attacks = [
      "' OR '1'='1",
      "x' OR 1=1 --",
      '"; DROP TABLE things; --',
      "'); DELETE FROM things; --",
      '\\',
      "%' OR owner <> '",
    ];
    for (const attack of attacks) {
      const byName = await page(request, carol, `/things?name=${q(attack)}`);
      assert.equal(byName.total, 0, attack);
      assert.deepEqual(byName.things, []);
      for (const filter of [{ [attack]: 'v' }, { k: attack }, { k: { [attack]: [attack] } }]) {
        const byMeta = await page(request, carol, `/things?metadata=${q(filter)}`);
        assert.equal(byMeta.total, 0, JSON.stringify(filter));
      }
      const searched = await request('POST', '/things/search', {
        token: carol,
        body: { name: attack, metadata: { [attack]: attack } },
      });
      assert.equal(searched.status, 200);
      assert.equal(searched.json.total, 0);
    }
    // A name that looks like SQL is stored and found as text.
    const found = await page(request, carol, `/things?name=${q("'); DROP TABLE")}`);
    assert.deepEqual(ids(found.things), [made[1]!.id]);
    assert.equal(await total(carol), 2);
    assert.equal((await request('GET', `/things/${made[0]!.id}`, { token: carol })).json.name, 'plain');
    assert.ok((await total(alice)) > 0, "other users' things are still there");
  });

  it('keeps the total exact through creates, failed creates and deletes (own, foreign, missing)', async () => {
    const carol = await fresh();
    const dave = await fresh();
    const check = async (token: string, expected: number) => {
      assert.equal(await total(token), expected);
      const listed = await listAll(request, token, '/things', 'things');
      assert.equal(listed.length, expected);
      assert.equal(new Set(ids(listed)).size, expected);
    };
    await check(carol, 0);
    const singles: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await request('POST', '/things', { token: carol, body: { name: `s${i}` } });
      singles.push(r.headers.get('location')!.slice(8));
    }
    await check(carol, 3);
    const bulk = await createThings(
      request,
      carol,
      Array.from({ length: 120 }, (_, i) => ({ name: `b${i}`, key: `carol-${i}-${crypto.randomUUID()}` })),
    );
    await check(carol, 123);
    const daves = await createThings(request, dave, [{ name: 'd1' }, { name: 'd2' }]);
    await check(dave, 2);

    // Failed writes change nothing.
    assertError(await request('POST', '/things', { token: carol, body: { key: bulk[0]!.key } }), 409);
    assertError(
      await request('POST', '/things/bulk', { token: carol, body: [{ name: 'x' }, { key: bulk[1]!.key }] }),
      409,
    );
    assertError(
      await request('POST', '/things/bulk', { token: dave, body: [{ name: 'x' }, { key: bulk[2]!.key }] }),
      409,
    );
    assertError(await request('POST', '/things/bulk', { token: carol, body: [] }), 400);
    await check(carol, 123);
    await check(dave, 2);

    // Deletes: own (once, then again), foreign, missing, non-UUID.
    assertEmpty(await request('DELETE', `/things/${singles[0]}`, { token: carol }), 204);
    assertEmpty(await request('DELETE', `/things/${singles[0]}`, { token: carol }), 204);
    assertEmpty(await request('DELETE', `/things/${daves[0]!.id}`, { token: carol }), 204);
    assertEmpty(await request('DELETE', `/things/${singles[1]}`, { token: dave }), 204);
    assertEmpty(await request('DELETE', `/things/${crypto.randomUUID()}`, { token: carol }), 204);
    assertError(await request('DELETE', '/things/xyz', { token: carol }), 400);
    await check(carol, 122);
    await check(dave, 2);
    await Promise.all(bulk.slice(0, 50).map((t) => request('DELETE', `/things/${t.id}`, { token: carol })));
    await check(carol, 72);

    // Filtered totals count the matches only.
    assert.equal(await total(carol, '&name=b1'), bulk.slice(50).filter((t) => t.name!.includes('b1')).length);
    assert.equal(await total(carol, '&name=s'), 2);

    // Connection lists' totals follow the same counters.
    const [c] = await createChannels(request, carol, [{ name: 'c' }]);
    await connect(request, carol, [c!.id], [singles[2]!, bulk[60]!.id]);
    assert.equal((await page(request, carol, `/channels/${c!.id}/things`)).total, 2);
    assert.equal((await page(request, carol, `/channels/${c!.id}/things?disconnected=true`)).total, 70);
    await check(dave, 2);
  });

  it('pages exactly deep into a large account, also after deletes and renames', async () => {
    const erin = await fresh();
    const names = Array.from({ length: 2150 }, (_, i) => `n${String((i * 7919) % 2150).padStart(5, '0')}`);
    const made = await createThings(
      request,
      erin,
      names.map((name) => ({ name })),
    );
    let expectedIds = sorted(ids(made));
    let expectedNames = [...made].sort((a, b) => (a.name! < b.name! ? -1 : 1)).map((t) => t.id);

    const pageIds = async (query: string) => ids((await page(request, erin, `/things?${query}`)).things);
    const verify = async () => {
      assert.equal(await total(erin), expectedIds.length);
      for (const offset of [0, 999, 1000, 1001, 1999, 2000, 2050]) {
        assert.deepEqual(
          await pageIds(`order=id&dir=asc&offset=${offset}&limit=100`),
          expectedIds.slice(offset, offset + 100),
          `id asc @${offset}`,
        );
        assert.deepEqual(
          await pageIds(`offset=${offset}&limit=100`),
          [...expectedIds].reverse().slice(offset, offset + 100),
          `id desc @${offset}`,
        );
        assert.deepEqual(
          await pageIds(`order=name&dir=asc&offset=${offset}&limit=100`),
          expectedNames.slice(offset, offset + 100),
          `name asc @${offset}`,
        );
        assert.deepEqual(
          await pageIds(`order=name&dir=desc&offset=${offset}&limit=100`),
          [...expectedNames].reverse().slice(offset, offset + 100),
          `name desc @${offset}`,
        );
      }
    };
    await verify();

    // Delete 30 things from the front of both orders and rename others to move them.
    const gone = new Set([...expectedIds.slice(0, 15), ...expectedNames.slice(0, 15)]);
    for (const id of gone) assertEmpty(await request('DELETE', `/things/${id}`, { token: erin }), 204);
    const renamed = expectedNames.slice(-20).filter((id) => !gone.has(id));
    for (const id of renamed)
      assertEmpty(await request('PUT', `/things/${id}`, { token: erin, body: { name: 'a-first' } }), 200);
    const nameOf = new Map(made.map((t) => [t.id, t.name!]));
    for (const id of renamed) nameOf.set(id, 'a-first');
    expectedIds = expectedIds.filter((id) => !gone.has(id));
    expectedNames = expectedIds.slice().sort((a, b) => {
      const na = nameOf.get(a)!;
      const nb = nameOf.get(b)!;
      return na < nb ? -1 : na > nb ? 1 : a < b ? -1 : 1;
    });
    await verify();

    // New things land in their place too.
    const added = await createThings(request, erin, [{ name: 'n00000' }, { name: 'zzz' }]);
    for (const t of added) nameOf.set(t.id, t.name!);
    expectedIds = sorted([...expectedIds, ...ids(added)]);
    expectedNames = expectedIds.slice().sort((a, b) => {
      const na = nameOf.get(a)!;
      const nb = nameOf.get(b)!;
      return na < nb ? -1 : na > nb ? 1 : a < b ? -1 : 1;
    });
    await verify();
  });
});

describe(`PostgreSQL plans (${dialect})`, { skip: dialect !== 'postgres' }, () => {
  it('filtered listings are planned for their values every time; other statements are prepared once', async () => {
    // One pooled connection: every statement of the server is prepared (or not) on it.
    const server = await startServer({ TETHYS_DB_POOL_SIZE: '1' });
    try {
      const request = client(server.url);
      const { token } = await userToken(request);
      await createThings(request, token, [{ name: 'abc', metadata: { serial: 's1' } }, { name: 'abd' }]);
      // More than five executions: where PostgreSQL would switch a prepared statement to a generic plan.
      for (let i = 0; i < 7; i++) {
        const filtered = await request('GET', `/things?metadata=${q({ serial: 's1' })}`, { token });
        assert.equal(filtered.json.things.length, 1);
        assert.equal((await request('GET', '/things?name=ab', { token })).status, 200);
        assert.equal((await request('GET', '/things?limit=1', { token })).status, 200);
      }
      const { sql } = await import('kysely');
      const prepared = (
        await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(
          server.app.services.db.kysely,
        )
      ).rows.map((r) => r.statement);
      assert.ok(
        prepared.some((s) => s.includes('entity_counts')),
        'the unfiltered listing is prepared',
      );
      assert.deepEqual(
        prepared.filter((s) => s.includes('@>') || /ILIKE/i.test(s)),
        [],
        'no filtered listing is prepared',
      );
    } finally {
      await server.close();
    }
  });
});

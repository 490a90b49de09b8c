import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { EventHub } from '../src/events.js';
import { ThingAccess } from '../src/things/access.js';
import {
  assertEmpty,
  assertError,
  connect,
  createChannel,
  createChannels,
  createThing,
  createThings,
  ids,
} from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';

/**
 * The thing-auth API adapters use (API.md §3.7). The server runs with the smallest cache
 * allowed, so answers are also checked after entries have been evicted.
 */
describe(`identify and access checks (${dialect})`, () => {
  const { request } = withServer({ TETHYS_CACHE_SIZE: '100' });
  let alice: string;

  before(async () => {
    alice = (await userToken(request)).token;
  });

  const identify = (key: unknown) => request('POST', '/identify', { body: { token: key } });
  const byKey = (channelId: string, key: unknown) =>
    request('POST', `/identify/channels/${channelId}/access-by-key`, { body: { token: key } });
  const byId = (channelId: string, thingId: unknown) =>
    request('POST', `/identify/channels/${channelId}/access-by-id`, { body: { thing_id: thingId } });

  /** Both access checks agree and say whether the thing may use the channel. */
  async function assertAccess(
    channelId: string,
    thing: { id: string; key: string },
    allowed: boolean,
    label: string,
  ) {
    const k = await byKey(channelId, thing.key);
    const i = await byId(channelId, thing.id);
    if (allowed) {
      assert.equal(k.status, 200, `${label}: access-by-key ${k.text}`);
      assert.deepEqual(k.json, { id: thing.id });
      assertEmpty(i, 200);
    } else {
      assertError(k, 404);
      assertError(i, 404);
    }
  }

  describe('POST /identify', () => {
    it('answers 200 {id} for a thing key, caller-chosen or generated', async () => {
      const generated = await createThing(request, alice, {});
      const chosen = await createThing(request, alice, { key: `chosen key ✓ ${crypto.randomUUID()}` });
      for (const t of [generated, chosen]) {
        const reply = await identify(t.key);
        assert.equal(reply.status, 200);
        assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
        assert.deepEqual(reply.json, { id: t.id });
      }
      // No user token is needed, and one is not looked at.
      assert.equal(
        (await request('POST', '/identify', { token: 'garbage', body: { token: generated.key } })).status,
        200,
      );
      assert.equal(
        (
          await request('POST', '/identify', {
            body: { token: generated.key },
            contentType: 'application/json; charset=utf-8',
          })
        ).status,
        200,
      );
    });

    it('answers each of many keys asked at once, whatever characters they hold', async () => {
      // Misses asked together share one statement (a key array on PostgreSQL, a JSON
      // list on SQLite): quotes, backslashes, JSON and SQL text must come back as they went.
      const tag = crypto.randomUUID();
      const odd = [
        `quote " ${tag}`,
        `back\\slash ${tag}`,
        `["json", {"a": 1}] ${tag}`,
        `' OR 1=1 -- ${tag}`,
        `{${tag}}`,
        `ключ 🔑 ${tag}`,
        `comma,separated ${tag}`,
        ` ${tag} `,
      ];
      const things = await createThings(
        request,
        alice,
        odd.map((key, i) => ({ name: `odd${i}`, key })),
      );
      const unknown = odd.map((k) => `${k}-unknown`);
      const replies = await Promise.all([...odd, ...unknown, ...odd].map((k) => identify(k)));
      for (const [i, reply] of replies.entries()) {
        const n = i % odd.length;
        if (i >= odd.length && i < odd.length * 2) assertError(reply, 404);
        else {
          assert.equal(reply.status, 200, `${JSON.stringify(odd[n])}: ${reply.text}`);
          assert.deepEqual(reply.json, { id: things[n]!.id });
        }
      }
    });

    it('answers 404 for an unknown key and 401 for an empty one', async () => {
      assertError(await identify(crypto.randomUUID()), 404);
      assertError(await identify('not a key'), 404);
      assertError(await identify(''), 401);
      assertError(await identify(null), 401);
      assertError(await request('POST', '/identify', { body: {} }), 401);
    });

    it('answers 415 for a wrong content type and 400 for bad JSON', async () => {
      const t = await createThing(request, alice, {});
      for (const contentType of [
        'text/plain',
        'application/senml+json',
        'application/x-www-form-urlencoded',
      ]) {
        assertError(
          await request('POST', '/identify', { raw: JSON.stringify({ token: t.key }), contentType }),
          415,
        );
      }
      assertError(
        await request('POST', '/identify', { raw: JSON.stringify({ token: t.key }), contentType: null }),
        415,
      );
      for (const raw of ['', '{', '{"token":', '[]', `["${t.key}"]`, '{"token":5}', '"x"']) {
        assertError(await request('POST', '/identify', { raw }), 400);
      }
    });
  });

  describe('access-by-key and access-by-id', () => {
    it('answer 200 when connected and 404 when not', async () => {
      const [t, other] = await createThings(request, alice, [{ name: 't' }, { name: 'other' }]);
      const [c, d] = await createChannels(request, alice, [{ name: 'c' }, { name: 'd' }]);
      await connect(request, alice, [c!.id], [t!.id]);
      await assertAccess(c!.id, t!, true, 'connected');
      await assertAccess(d!.id, t!, false, 'other channel');
      await assertAccess(c!.id, other!, false, 'other thing');
      // Upper-case channel ids are the same channel.
      assert.equal((await byKey(c!.id.toUpperCase(), t!.key)).status, 200);
    });

    it('answer 404 for unknown keys, things and channels, and for non-UUID ids (never 5xx)', async () => {
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      await connect(request, alice, [c.id], [t.id]);
      assertError(await byKey(c.id, 'unknown key'), 404);
      assertError(await byKey(crypto.randomUUID(), t.key), 404);
      assertError(await byKey('not-a-uuid', t.key), 404);
      assertError(await byId(c.id, crypto.randomUUID()), 404);
      assertError(await byId(c.id, 'not-a-uuid'), 404);
      assertError(await byId('not-a-uuid', t.id), 404);
      assertError(await byId(crypto.randomUUID(), t.id), 404);
    });

    it('answer 401 for an empty key or id, 415 and 400 for bad requests', async () => {
      const c = await createChannel(request, alice, {});
      assertError(await byKey(c.id, ''), 401);
      assertError(await request('POST', `/identify/channels/${c.id}/access-by-key`, { body: {} }), 401);
      assertError(await byId(c.id, ''), 401);
      assertError(await request('POST', `/identify/channels/${c.id}/access-by-id`, { body: {} }), 401);
      assertError(
        await request('POST', `/identify/channels/${c.id}/access-by-key`, {
          raw: '{"token":"x"}',
          contentType: 'text/plain',
        }),
        415,
      );
      assertError(
        await request('POST', `/identify/channels/${c.id}/access-by-id`, {
          raw: '{"thing_id":"x"}',
          contentType: 'text/plain',
        }),
        415,
      );
      assertError(
        await request('POST', `/identify/channels/${c.id}/access-by-key`, { raw: '{"token":' }),
        400,
      );
      assertError(
        await request('POST', `/identify/channels/${c.id}/access-by-id`, { raw: '{"thing_id":[1]}' }),
        400,
      );
    });
  });

  describe('changes take effect on the very next check', () => {
    it('connect (after a cached "no"), disconnect and reconnect', async () => {
      const t = await createThing(request, alice, {});
      const [c, d] = await createChannels(request, alice, [{ name: 'c' }, { name: 'd' }]);
      await assertAccess(c!.id, t, false, 'before connect');
      assertEmpty(await request('PUT', `/channels/${c!.id}/things/${t.id}`, { token: alice }), 200);
      await assertAccess(c!.id, t, true, 'after PUT connect');
      await assertAccess(d!.id, t, false, 'before /connect');
      await connect(request, alice, [d!.id], [t.id]);
      await assertAccess(d!.id, t, true, 'after /connect');

      assertEmpty(await request('DELETE', `/channels/${c!.id}/things/${t.id}`, { token: alice }), 204);
      await assertAccess(c!.id, t, false, 'after disconnect');
      await assertAccess(d!.id, t, true, 'other connection stays');
      assertEmpty(await request('PUT', `/channels/${c!.id}/things/${t.id}`, { token: alice }), 200);
      await assertAccess(c!.id, t, true, 'after reconnect');
      for (let i = 0; i < 3; i++) {
        assertEmpty(await request('DELETE', `/channels/${c!.id}/things/${t.id}`, { token: alice }), 204);
        await assertAccess(c!.id, t, false, `disconnect #${i}`);
        await connect(request, alice, [c!.id], [t.id]);
        await assertAccess(c!.id, t, true, `reconnect #${i}`);
      }
    });

    it('key change: the old key is refused at once, the new one works, connections stay', async () => {
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      await connect(request, alice, [c.id], [t.id]);
      assert.deepEqual((await identify(t.key)).json, { id: t.id });
      await assertAccess(c.id, t, true, 'before key change');
      const newKey = `rotated-${crypto.randomUUID()}`;
      assertEmpty(
        await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: newKey } }),
        200,
      );
      assertError(await identify(t.key), 404);
      assertError(await byKey(c.id, t.key), 404);
      assert.deepEqual((await identify(newKey)).json, { id: t.id });
      await assertAccess(c.id, { id: t.id, key: newKey }, true, 'after key change');
      // Rotate back: the first key works again and the second stops.
      assertEmpty(await request('PATCH', `/things/${t.id}/key`, { token: alice, body: { key: t.key } }), 200);
      assertError(await identify(newKey), 404);
      assertError(await byKey(c.id, newKey), 404);
      await assertAccess(c.id, t, true, 'after rotating back');
    });

    it('thing delete: key and id refused at once; a new thing may take the key', async () => {
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      await connect(request, alice, [c.id], [t.id]);
      await assertAccess(c.id, t, true, 'before delete');
      assertEmpty(await request('DELETE', `/things/${t.id}`, { token: alice }), 204);
      assertError(await identify(t.key), 404);
      await assertAccess(c.id, t, false, 'after delete');
      const successor = await createThing(request, alice, { key: t.key });
      assert.deepEqual((await identify(t.key)).json, { id: successor.id });
      await assertAccess(c.id, successor, false, 'successor is not connected');
      await connect(request, alice, [c.id], [successor.id]);
      await assertAccess(c.id, successor, true, 'successor connected');
    });

    it('channel delete: refused at once for every thing that was connected', async () => {
      const things = await createThings(request, alice, [{}, {}, {}]);
      const [c, keep] = await createChannels(request, alice, [{ name: 'c' }, { name: 'keep' }]);
      await connect(request, alice, [c!.id, keep!.id], ids(things));
      for (const t of things) await assertAccess(c!.id, t, true, 'before channel delete');
      assertEmpty(await request('DELETE', `/channels/${c!.id}`, { token: alice }), 204);
      for (const t of things) {
        await assertAccess(c!.id, t, false, 'after channel delete');
        await assertAccess(keep!.id, t, true, 'other channel stays');
        assert.deepEqual((await identify(t.key)).json, { id: t.id });
      }
    });

    it('a foreign user’s delete or disconnect changes nothing', async () => {
      const mallory = (await userToken(request)).token;
      const t = await createThing(request, alice, {});
      const c = await createChannel(request, alice, {});
      await connect(request, alice, [c.id], [t.id]);
      await assertAccess(c.id, t, true, 'before');
      assertError(await request('DELETE', `/channels/${c.id}/things/${t.id}`, { token: mallory }), 404);
      assertEmpty(await request('DELETE', `/things/${t.id}`, { token: mallory }), 204);
      assertEmpty(await request('DELETE', `/channels/${c.id}`, { token: mallory }), 204);
      assertError(
        await request('PATCH', `/things/${t.id}/key`, { token: mallory, body: { key: 'taken-over' } }),
        404,
      );
      await assertAccess(c.id, t, true, 'after foreign attempts');
      assertError(await identify('taken-over'), 404);
    });

    it('stays exact when far more things than the cache holds are checked', async () => {
      const things = await createThings(
        request,
        alice,
        Array.from({ length: 110 }, (_, i) => ({ name: `bulk${i}` })),
      );
      const [c] = await createChannels(request, alice, [{ name: 'busy' }]);
      const even = things.filter((_, i) => i % 2 === 0);
      await connect(request, alice, [c!.id], ids(even));
      const check = async (label: string, allowed: (i: number) => boolean, rounds: number) => {
        for (let round = 0; round < rounds; round++) {
          const replies = await Promise.all(things.map((t) => byKey(c!.id, t.key)));
          for (const [i, r] of replies.entries()) {
            assert.equal(r.status, allowed(i) ? 200 : 404, `${label} #${i} round ${round}`);
          }
        }
      };
      await check('initial', (i) => i % 2 === 0, 2);
      for (const t of even.slice(0, 10))
        assertEmpty(await request('DELETE', `/channels/${c!.id}/things/${t.id}`, { token: alice }), 204);
      await connect(request, alice, [c!.id], ids(things.filter((_, i) => i % 2 === 1 && i < 40)));
      await check('after changes', (i) => (i % 2 === 0 ? i >= 20 : i < 40), 1);
    });
  });

  /**
   * A check whose database read was in flight when a change was acknowledged may answer
   * from before the change, but must not leave that answer in the cache. Over HTTP the
   * window is too narrow to hit on purpose, so the store here answers when told to.
   */
  describe('key lookups asked together', () => {
    it('share statements, and each caller gets its own answer (or the error)', async () => {
      const calls: string[][] = [];
      let fail = false;
      const things = {
        idsByKeys: async (keys: string[]) => {
          calls.push(keys);
          // A slow database in a fake, so the lookups overlap: not synchronisation.
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (fail) throw new Error('database down');
          return new Map(keys.filter((k) => k.startsWith('k')).map((k) => [k, `id-${k}`]));
        },
      };
      const access = new ThingAccess(things as never, {} as never, new EventHub(), 1000);
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      const answers = await Promise.all([...keys, 'k3', 'unknown'].map((k) => access.identify(k)));
      assert.deepEqual(answers, [...keys.map((k) => `id-${k}`), 'id-k3', null]);
      assert.ok(calls.length <= 3, `${calls.length} statements for 41 keys`);
      assert.equal(calls.flat().length, 41, 'each key read once');
      fail = true;
      const failed = await Promise.allSettled(['x1', 'x2'].map((k) => access.identify(k)));
      assert.deepEqual(
        failed.map((r) => r.status === 'rejected' && (r.reason as Error).message),
        ['database down', 'database down'],
      );
    });
  });

  describe('a check racing a change leaves no stale answer behind', () => {
    function setup() {
      const events = new EventHub();
      const state = { connected: true, idOfKey: 'thing-1' as string | null };
      const gates: (() => void)[] = [];
      const gated = <T>(value: () => T) =>
        new Promise<T>((resolve) => {
          const answer = value();
          gates.push(() => resolve(answer));
        });
      // Keys are looked up in batches (ThingAccess gathers the misses of one moment).
      const things = {
        idsByKeys: (keys: string[]) =>
          gated(() => new Map(state.idOfKey ? keys.map((k) => [k, state.idOfKey as string]) : [])),
      };
      const connections = { isConnected: () => gated(() => state.connected) };
      const access = new ThingAccess(things as never, connections as never, events, 100);
      const openGates = () => {
        for (const open of gates.splice(0)) open();
      };
      /** Lets a batched lookup reach the repository (it goes out a microtask later). */
      const started = () => new Promise((resolve) => setImmediate(resolve));
      const answerNow = async <T>(p: Promise<T>) => {
        await started();
        openGates();
        return p;
      };
      return { events, state, access, openGates, answerNow, started };
    }

    for (const change of ['connection.removed', 'channel.removed', 'thing.removed'] as const) {
      it(`connection answer read before a ${change} event`, async () => {
        const { events, state, access, openGates, answerNow } = setup();
        const inFlight = access.isConnected('chan-1', 'thing-1');
        state.connected = false;
        if (change === 'connection.removed')
          await events.emit(change, { channelId: 'chan-1', thingId: 'thing-1' });
        if (change === 'channel.removed') await events.emit(change, { id: 'chan-1', owner: 'o' });
        if (change === 'thing.removed') await events.emit(change, { id: 'thing-1', key: 'k', owner: 'o' });
        openGates();
        assert.equal(await inFlight, true, 'the in-flight check answers from before the change');
        assert.equal(await answerNow(access.isConnected('chan-1', 'thing-1')), false);
      });
    }

    it('connection answer read before a connection.added event', async () => {
      const { events, state, access, openGates, answerNow } = setup();
      state.connected = false;
      const inFlight = access.isConnected('chan-1', 'thing-1');
      state.connected = true;
      await events.emit('connection.added', { channelId: 'chan-1', thingId: 'thing-1' });
      openGates();
      assert.equal(await inFlight, false);
      assert.equal(await answerNow(access.isConnected('chan-1', 'thing-1')), true);
    });

    for (const change of ['thing.key_changed', 'thing.removed'] as const) {
      it(`key answer read before a ${change} event`, async () => {
        const { events, state, access, openGates, answerNow, started } = setup();
        const inFlight = access.identify('old-key');
        await started();
        state.idOfKey = null;
        if (change === 'thing.key_changed') await events.emit(change, { id: 'thing-1', oldKey: 'old-key' });
        else await events.emit(change, { id: 'thing-1', key: 'old-key', owner: 'o' });
        openGates();
        assert.equal(await inFlight, 'thing-1');
        assert.equal(await answerNow(access.identify('old-key')), null);
      });
    }
  });
});

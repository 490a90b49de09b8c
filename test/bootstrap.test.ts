import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { openSealed } from '../sdk/src/index.js';
import { loadConfig } from '../src/config.js';
import {
  assertEmpty,
  assertError,
  type ChannelView,
  connect,
  createChannels,
  createThing,
  ids,
  listAll,
  page,
  sorted,
  type ThingView,
  UUID_V4,
} from './helpers/entities.js';
import {
  client,
  dialect,
  type Request,
  recordingFetch,
  startServer,
  userToken,
  withServer,
} from './helpers/server.js';

/** Mainflux's default MF_BOOTSTRAP_ENCRYPT_KEY: 32 hex digits, AES-128. */
const DEFAULT_KEY = '12345678910111213141516171819202';
const KEY_256 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** What the Agent does (MODEL.md §6): hex(iv ‖ AES-CFB(key, iv, external key)). */
function agentHeader(keyHex: string, externalKey: string): string {
  const key = Buffer.from(keyHex, 'hex');
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv(`aes-${key.length * 8}-cfb`, key, iv);
  return Buffer.concat([iv, cipher.update(externalKey, 'utf8'), cipher.final()]).toString('hex');
}

/** The Agent's side of the answer: the IV comes first, then the encrypted JSON. */
function agentDecrypt(keyHex: string, body: Buffer): string {
  const key = Buffer.from(keyHex, 'hex');
  assert.ok(body.length > 16, 'the answer holds an IV and a ciphertext');
  const decipher = crypto.createDecipheriv(`aes-${key.length * 8}-cfb`, key, body.subarray(0, 16));
  return Buffer.concat([decipher.update(body.subarray(16)), decipher.final()]).toString('utf8');
}

/** A gateway fetch read as bytes, not as text: `variant` is '' (plain), 'secure/' or 'sealed/'. */
async function fetchBytes(base: string, variant: string, externalId: string, header?: string) {
  const res = await recordingFetch(`${base}/things/bootstrap/${variant}${encodeURIComponent(externalId)}`, {
    headers: header === undefined ? {} : { authorization: header },
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
}

/** The secure fetch returns raw bytes. */
const secureFetch = (base: string, externalId: string, header?: string) =>
  fetchBytes(base, 'secure/', externalId, header);

/**
 * Opens a sealed answer with node:crypto alone, from the contract rather than the server's
 * code: nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16), the key HKDF-SHA256(external key,
 * salt external id, info "tethys bootstrap v1"), the external id as AAD. Throws when the
 * answer does not open.
 */
function nodeOpen(body: Buffer, externalId: string, externalKey: string): Buffer {
  const utf8 = (text: string) => Buffer.from(text, 'utf8');
  const key = Buffer.from(
    crypto.hkdfSync('sha256', utf8(externalKey), utf8(externalId), utf8('tethys bootstrap v1'), 32),
  );
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, body.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(utf8(externalId));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
}

/** The same bytes with one bit flipped at `at`. */
function flipped(body: Buffer, at: number): Buffer {
  const copy = Buffer.from(body);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

const uid = () => crypto.randomBytes(6).toString('hex');

describe(`bootstrap (${dialect})`, () => {
  const fixture = withServer({ MF_BOOTSTRAP_ENCRYPT_KEY: DEFAULT_KEY });
  const { request } = fixture;
  let alice: string;
  let bob: string;

  before(async () => {
    [alice, bob] = await Promise.all([
      userToken(request).then((u) => u.token),
      userToken(request).then((u) => u.token),
    ]);
  });

  const fresh = async () => (await userToken(request)).token;

  /** POST /things/configs: 201, Location, empty JSON body; returns the config (= thing) id. */
  async function addConfig(token: string, body: Record<string, unknown>): Promise<string> {
    const reply = await request('POST', '/things/configs', { token, body });
    assertEmpty(reply, 201);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    const location = reply.headers.get('location') ?? '';
    assert.match(location, /^\/things\/configs\/[0-9a-f-]{36}$/);
    return location.slice('/things/configs/'.length);
  }

  const view = async (token: string, id: string) => {
    const reply = await request('GET', `/things/configs/${id}`, { token });
    assert.equal(reply.status, 200, reply.text);
    return reply.json;
  };
  const setState = (token: string, id: string, state: unknown) =>
    request('PUT', `/things/state/${id}`, { token, body: { state } });
  const gatewayFetch = (externalId: string, key?: string) =>
    request(
      'GET',
      `/things/bootstrap/${encodeURIComponent(externalId)}`,
      key === undefined ? {} : { headers: { authorization: key } },
    );
  const channelsOf = async (token: string, thingId: string) =>
    sorted(ids(await listAll(request, token, `/things/${thingId}/channels`, 'channels')));
  const thingCount = async (token: string) => (await page(request, token, '/things?limit=1')).total as number;
  const configCount = async (token: string) =>
    (await page(request, token, '/things/configs?limit=1')).total as number;

  /** A thing, three channels and an (inactive) config of it listing the first two. */
  async function gateway(token: string, extra: Record<string, unknown> = {}) {
    const thing = await createThing(request, token, { name: 'gw' });
    const channels = await createChannels(request, token, [
      { name: 'control', metadata: { type: 'control' } },
      { name: 'data', metadata: { type: 'data' } },
      { name: 'spare' },
    ]);
    const externalId = `ext-${uid()}`;
    const externalKey = `key-${uid()}`;
    const id = await addConfig(token, {
      thing_id: thing.id,
      external_id: externalId,
      external_key: externalKey,
      channels: [channels[0]!.id, channels[1]!.id],
      ...extra,
    });
    assert.equal(id, thing.id);
    return { thing, channels, externalId, externalKey, id };
  }

  describe('POST /things/configs', () => {
    it('creates a config of an existing thing: inactive, with the thing key and the channels in order', async () => {
      const thing = await createThing(request, alice, { name: 'weio' });
      const [c1, c2] = await createChannels(request, alice, [
        { name: 'one', metadata: { type: 'data' } },
        {},
      ]);
      // The second channel listed first: order is the request's, not the ids'.
      const id = await addConfig(alice, {
        thing_id: thing.id,
        external_id: `mac-${uid()}`,
        external_key: 'secret',
        channels: [c2!.id, c1!.id],
        name: 'my gateway',
        content: '{"agent":{}}',
      });
      assert.equal(id, thing.id);
      const config = await view(alice, id);
      assert.deepEqual(config, {
        mainflux_id: thing.id,
        mainflux_key: thing.key,
        mainflux_channels: [
          { id: c2!.id, metadata: null },
          { id: c1!.id, name: 'one', metadata: { type: 'data' } },
        ],
        external_id: config.external_id,
        external_key: 'secret',
        content: '{"agent":{}}',
        name: 'my gateway',
        state: 0,
      });
      // No connections are made before whitelisting.
      assert.deepEqual(await channelsOf(alice, thing.id), []);
    });

    it('without thing_id creates a thing (no name, no metadata) whose id is the config id', async () => {
      const user = await fresh();
      const id = await addConfig(user, { external_id: `mac-${uid()}`, external_key: 'k' });
      assert.match(id, UUID_V4);
      const thing = await request('GET', `/things/${id}`, { token: user });
      assert.equal(thing.status, 200);
      assert.deepEqual(Object.keys(thing.json), ['id', 'key']);
      const config = await view(user, id);
      assert.equal(config.mainflux_id, id);
      assert.equal(config.mainflux_key, thing.json.key);
      assert.equal(config.state, 0);
      assert.equal('mainflux_channels' in config, false, 'no channels: the key is left out of the view');
      assert.equal(await thingCount(user), 1);
    });

    it('answers 409 for a taken external_id (any user) or a thing that has a config, leaving nothing behind', async () => {
      const user = await fresh();
      const other = await fresh();
      const externalId = `mac-${uid()}`;
      const thing = await createThing(request, user);
      await addConfig(user, { thing_id: thing.id, external_id: externalId, external_key: 'k' });
      const things = await thingCount(user);
      const message = 'failed to add bootstrap configuration';

      // Same external id, no thing_id: the thing created for it must not stay.
      assertError(
        await request('POST', '/things/configs', {
          token: user,
          body: { external_id: externalId, external_key: 'x' },
        }),
        409,
        message,
      );
      assert.equal(await thingCount(user), things, 'no orphan thing');
      // Another user, same external id.
      assertError(
        await request('POST', '/things/configs', {
          token: other,
          body: { external_id: externalId, external_key: 'x' },
        }),
        409,
        message,
      );
      assert.equal(await thingCount(other), 0, 'no orphan thing for the other user');
      const otherThing = await createThing(request, other);
      assertError(
        await request('POST', '/things/configs', {
          token: other,
          body: { thing_id: otherThing.id, external_id: externalId, external_key: 'x' },
        }),
        409,
        message,
      );
      assert.equal(await configCount(other), 0);
      // A second config for the same thing.
      assertError(
        await request('POST', '/things/configs', {
          token: user,
          body: { thing_id: thing.id, external_id: `mac-${uid()}`, external_key: 'k' },
        }),
        409,
        message,
      );
      assert.equal(await configCount(user), 1);
      assert.equal(await thingCount(user), things);
      // The external id is still the first config's.
      assert.equal((await gatewayFetch(externalId, 'k')).json.mainflux_id, thing.id);
    });

    it('takes an external id of any length, unique as a short one (PostgreSQL: no 500 from a B-tree limit)', async () => {
      const user = await fresh();
      const externalId = crypto.randomBytes(2250).toString('base64url'); // 3,000 random characters
      const first = await addConfig(user, { external_id: externalId, external_key: 'k' });
      assertError(
        await request('POST', '/things/configs', {
          token: await fresh(),
          body: { external_id: externalId, external_key: 'x' },
        }),
        409,
        'failed to add bootstrap configuration',
      );
      assert.equal((await gatewayFetch(externalId, 'k')).json.mainflux_id, first);
    });

    it('validates: 415, 400 bad JSON and missing external id/key, 403 credentials, 400 foreign channel, 404 foreign thing', async () => {
      const user = await fresh();
      const [mine] = await createChannels(request, user, [{}]);
      const [bobs] = await createChannels(request, bob, [{}]);
      const bobThing = await createThing(request, bob);
      const ok = { external_id: `mac-${uid()}`, external_key: 'k' };
      const post = (body: unknown, options: { token?: string; contentType?: string; raw?: string } = {}) =>
        request('POST', '/things/configs', {
          token: 'token' in options ? options.token : user,
          body,
          ...options,
        });

      assertError(await post(ok, { contentType: 'text/plain' }), 415, 'unsupported content type');
      assertError(await post(undefined, { raw: '{"external_id":' }), 400, 'malformed entity specification');
      assertError(await post({ external_key: 'k' }), 400, 'malformed entity specification');
      assertError(await post({ external_id: 'x' }), 400, 'malformed entity specification');
      assertError(await post({ external_id: '', external_key: 'k' }), 400);
      assertError(await post(ok, { token: 'not-a-token' }), 403, 'missing or invalid credentials provided');
      assertError(await post(ok, { token: undefined }), 403, 'missing or invalid credentials provided');
      assertError(
        await post({ ...ok, channels: [mine!.id, bobs!.id] }),
        400,
        'failed to check channels connections',
      );
      assertError(
        await post({ ...ok, channels: [crypto.randomUUID()] }),
        400,
        'failed to check channels connections',
      );
      assertError(await post({ ...ok, thing_id: bobThing.id }), 404, 'failed to add bootstrap configuration');
      assertError(
        await post({ ...ok, thing_id: crypto.randomUUID() }),
        404,
        'failed to add bootstrap configuration',
      );
      assertError(await post({ ...ok, thing_id: 'not-a-uuid' }), 404);

      assert.equal(await thingCount(user), 0, 'failed requests created no thing');
      assert.equal(await configCount(user), 0);
      assert.equal((await page(request, bob, `/things/${bobThing.id}/channels`)).total, 0);
      // The external id is still free.
      await addConfig(user, { ...ok, channels: [mine!.id] });
    });
  });

  describe('view, update, certs, list, remove', () => {
    it('view is owner-scoped: 404 for another user, a missing id or a non-UUID; 403 without credentials', async () => {
      const g = await gateway(alice);
      assertError(
        await request('GET', `/things/configs/${g.id}`, { token: bob }),
        404,
        'non-existent entity',
      );
      assertError(await request('GET', `/things/configs/${crypto.randomUUID()}`, { token: alice }), 404);
      assertError(await request('GET', '/things/configs/nope', { token: alice }), 404);
      assertError(await request('GET', `/things/configs/${g.id}`, { token: 'bad' }), 403);
      assertError(await request('GET', `/things/configs/${g.id}`), 403);
      assert.equal(
        (await view(alice, g.id.toUpperCase())).mainflux_id,
        g.id,
        'upper-case id names the same config',
      );
    });

    it('PUT replaces name and content (absent ⇒ cleared); 404 for another user', async () => {
      const g = await gateway(alice, { name: 'before', content: 'old' });
      // Fetched (and so cached) before the change: the next fetch still sees it.
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).json.content, 'old');
      assertEmpty(
        await request('PUT', `/things/configs/${g.id}`, {
          token: alice,
          body: { name: 'after', content: '{"a":1}' },
        }),
        200,
      );
      let config = await view(alice, g.id);
      assert.equal(config.name, 'after');
      assert.equal(config.content, '{"a":1}');
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).json.content, '{"a":1}');
      assertEmpty(
        await request('PUT', `/things/configs/${g.id}`, { token: alice, body: { name: 'only name' } }),
        200,
      );
      config = await view(alice, g.id);
      assert.equal(config.name, 'only name');
      assert.equal('content' in config, false);
      assertError(await request('PUT', `/things/configs/${g.id}`, { token: bob, body: { name: 'x' } }), 404);
      assertError(
        await request('PUT', `/things/configs/${g.id}`, {
          token: alice,
          body: { name: 'x' },
          contentType: 'text/plain',
        }),
        415,
      );
      assert.equal((await view(alice, g.id)).name, 'only name');
    });

    it('PATCH certs: never shown by view or list, served to the gateway', async () => {
      const g = await gateway(alice);
      const certs = { client_cert: 'CERT PEM', client_key: 'KEY PEM', ca_cert: 'CA PEM' };
      assert.equal('client_cert' in (await gatewayFetch(g.externalId, g.externalKey)).json, false);
      assertEmpty(
        await request('PATCH', `/things/configs/certs/${g.id}`, { token: alice, body: certs }),
        200,
      );
      const config = await view(alice, g.id);
      for (const k of ['client_cert', 'client_key', 'ca_cert'])
        assert.equal(k in config, false, `${k} not in view`);
      const listed = await page(
        request,
        alice,
        `/things/configs?external_id=${encodeURIComponent(g.externalId)}`,
      );
      assert.equal(listed.total, 1);
      for (const k of ['client_cert', 'client_key', 'ca_cert'])
        assert.equal(k in listed.configs[0], false, `${k} not in list`);
      const fetched = await gatewayFetch(g.externalId, g.externalKey);
      assert.equal(fetched.json.client_cert, 'CERT PEM');
      assert.equal(fetched.json.client_key, 'KEY PEM');
      assert.equal(fetched.json.ca_cert, 'CA PEM');
      assertError(
        await request('PATCH', `/things/configs/certs/${g.id}`, { token: bob, body: certs }),
        404,
        'failed to update cert',
      );
      assertError(
        await request('PATCH', `/things/configs/certs/${crypto.randomUUID()}`, { token: alice, body: certs }),
        404,
      );
    });

    it('PUT connections: the list is replaced; an active config connects added and disconnects removed channels', async () => {
      const g = await gateway(alice);
      const [c1, c2, c3] = g.channels;
      assertEmpty(await setState(alice, g.id, 1), 200);
      assert.deepEqual(await channelsOf(alice, g.thing.id), sorted([c1!.id, c2!.id]));
      assert.deepEqual(ids((await gatewayFetch(g.externalId, g.externalKey)).json.mainflux_channels), [
        c1!.id,
        c2!.id,
      ]);

      assertEmpty(
        await request('PUT', `/things/configs/connections/${g.id}`, {
          token: alice,
          body: { channels: [c3!.id, c2!.id] },
        }),
        200,
      );
      assert.deepEqual(ids((await view(alice, g.id)).mainflux_channels), [c3!.id, c2!.id]);
      assert.deepEqual(
        await channelsOf(alice, g.thing.id),
        sorted([c2!.id, c3!.id]),
        'c1 disconnected, c3 connected',
      );
      const fetched = await gatewayFetch(g.externalId, g.externalKey);
      assert.deepEqual(ids(fetched.json.mainflux_channels), [c3!.id, c2!.id]);

      // An inactive config: the list only.
      const h = await gateway(alice);
      assertEmpty(
        await request('PUT', `/things/configs/connections/${h.id}`, {
          token: alice,
          body: { channels: [h.channels[2]!.id] },
        }),
        200,
      );
      assert.deepEqual(ids((await view(alice, h.id)).mainflux_channels), [h.channels[2]!.id]);
      assert.deepEqual(await channelsOf(alice, h.thing.id), []);

      const [bobs] = await createChannels(request, bob, [{}]);
      assertError(
        await request('PUT', `/things/configs/connections/${h.id}`, {
          token: alice,
          body: { channels: [bobs!.id] },
        }),
        400,
        'failed to update connections',
      );
      assertError(
        await request('PUT', `/things/configs/connections/${h.id}`, {
          token: bob,
          body: { channels: [bobs!.id] },
        }),
        404,
        'failed to update connections',
      );
      assert.deepEqual(
        ids((await view(alice, h.id)).mainflux_channels),
        [h.channels[2]!.id],
        'failed updates changed nothing',
      );
    });

    it('lists with filters, clamps limit to 100, refuses non-numeric offset/limit', async () => {
      const user = await fresh();
      const made: { id: string; key: string; externalId: string; name: string }[] = [];
      for (const name of ['Kitchen gateway', 'garage', 'kitchen sensor']) {
        const thing = await createThing(request, user);
        const externalId = `ext-${uid()}`;
        await addConfig(user, { thing_id: thing.id, external_id: externalId, external_key: 'k', name });
        made.push({ id: thing.id, key: thing.key, externalId, name });
      }
      await gateway(bob); // another user's config never shows
      assertEmpty(await setState(user, made[1]!.id, 1), 200);

      const all = await page(request, user, '/things/configs');
      assert.deepEqual(Object.keys(all).sort(), ['configs', 'limit', 'offset', 'total']);
      assert.equal(all.total, 3);
      assert.equal(all.offset, 0);
      assert.equal(all.limit, 10);
      assert.deepEqual(
        all.configs.map((c: any) => c.mainflux_id),
        sorted(made.map((m) => m.id)),
        'sorted by thing id',
      );
      const item = all.configs.find((c: any) => c.mainflux_id === made[0]!.id);
      assert.deepEqual(item, {
        mainflux_id: made[0]!.id,
        mainflux_key: made[0]!.key,
        external_id: made[0]!.externalId,
        external_key: 'k',
        name: 'Kitchen gateway',
        state: 0,
      });

      const filtered = async (query: string) =>
        (await page(request, user, `/things/configs?${query}`)).configs.map((c: any) => c.mainflux_id);
      assert.deepEqual(await filtered('state=1'), [made[1]!.id]);
      assert.deepEqual(await filtered('state=0'), sorted([made[0]!.id, made[2]!.id]));
      assert.deepEqual(await filtered(`external_id=${made[2]!.externalId}`), [made[2]!.id]);
      assert.deepEqual(await filtered(`mainflux_id=${made[0]!.id}`), [made[0]!.id]);
      assert.deepEqual(await filtered(`mainflux_key=${made[1]!.key}`), [made[1]!.id]);
      assert.deepEqual(
        await filtered('name=KITCHEN'),
        sorted([made[0]!.id, made[2]!.id]),
        'name: case-insensitive substring',
      );
      assert.deepEqual(await filtered('name=kitchen&state=0&unknown=1'), sorted([made[0]!.id, made[2]!.id]));
      assert.deepEqual(await filtered('external_id=nope'), []);

      const clamped = await page(request, user, '/things/configs?limit=500');
      assert.equal(clamped.limit, 100);
      assert.equal(clamped.configs.length, 3);
      const second = await page(request, user, '/things/configs?offset=1&limit=1');
      assert.equal(second.total, 3);
      assert.equal(second.offset, 1);
      assert.equal(second.limit, 1);
      assert.deepEqual(
        second.configs.map((c: any) => c.mainflux_id),
        [sorted(made.map((m) => m.id))[1]],
      );

      // As Go's Query().Get reads them: a repeated parameter counts as its first value,
      // an empty one as absent.
      const repeated = await page(request, user, '/things/configs?offset=1&offset=x&limit=1&limit=y');
      assert.deepEqual([repeated.offset, repeated.limit, repeated.configs.length], [1, 1, 1]);
      const blank = await page(request, user, '/things/configs?offset=&limit=&state=');
      assert.deepEqual([blank.offset, blank.limit, blank.configs.length], [0, 10, 3]);
      assertError(
        await request('GET', '/things/configs?state=2', { token: user }),
        400,
        'invalid query parameters',
      );
      assertError(
        await request('GET', '/things/configs?offset=abc', { token: user }),
        400,
        'invalid offset query param',
      );
      assertError(
        await request('GET', '/things/configs?limit=x', { token: user }),
        400,
        'invalid limit query param',
      );
      assertError(
        await request('GET', '/things/configs?limit=-1', { token: user }),
        400,
        'invalid limit query param',
      );
      assertError(await request('GET', '/things/configs', { token: 'bad' }), 403);
    });

    it('DELETE answers 204 (also when missing or foreign); the thing and its connections stay', async () => {
      const g = await gateway(alice);
      assertEmpty(await setState(alice, g.id, 1), 200);
      assertEmpty(await request('DELETE', `/things/configs/${g.id}`, { token: bob }), 204);
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).status, 200);
      assert.equal((await view(alice, g.id)).state, 1, "another user's delete is a no-op");

      const reply = await request('DELETE', `/things/configs/${g.id}`, { token: alice });
      assertEmpty(reply, 204);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assertError(await request('GET', `/things/configs/${g.id}`, { token: alice }), 404);
      assertError(await gatewayFetch(g.externalId, g.externalKey), 404);
      assert.equal(
        (await request('GET', `/things/${g.thing.id}`, { token: alice })).status,
        200,
        'the thing stays',
      );
      assert.deepEqual(
        await channelsOf(alice, g.thing.id),
        sorted([g.channels[0]!.id, g.channels[1]!.id]),
        'its connections stay',
      );
      assertEmpty(await request('DELETE', `/things/configs/${g.id}`, { token: alice }), 204);
      // The external id and the thing are free for a new config.
      await addConfig(alice, { thing_id: g.thing.id, external_id: g.externalId, external_key: 'new' });
    });
  });

  describe('state (whitelist)', () => {
    it('0 → 1 connects the thing to every listed channel, 1 → 0 disconnects; same state is a no-op', async () => {
      const g = await gateway(alice);
      const listed = sorted([g.channels[0]!.id, g.channels[1]!.id]);
      const reply = await setState(alice, g.id, 1);
      assertEmpty(reply, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal((await view(alice, g.id)).state, 1);
      assert.deepEqual(await channelsOf(alice, g.thing.id), listed);
      // The thing can now publish on a listed channel.
      assert.equal(
        (
          await request('POST', `/http/channels/${g.channels[1]!.id}/messages`, {
            token: g.thing.key,
            raw: '[]',
          })
        ).status,
        202,
      );
      assertEmpty(await setState(alice, g.id, 1), 200);
      assert.deepEqual(await channelsOf(alice, g.thing.id), listed);

      assertEmpty(await setState(alice, g.id, 0), 200);
      assert.equal((await view(alice, g.id)).state, 0);
      assert.deepEqual(await channelsOf(alice, g.thing.id), []);
      assertEmpty(await setState(alice, g.id, 0), 200);
    });

    it('an already connected channel does not make whitelisting fail', async () => {
      const g = await gateway(alice);
      await connect(request, alice, [g.channels[0]!.id], [g.thing.id]);
      assertEmpty(await setState(alice, g.id, 1), 200);
      assert.equal((await view(alice, g.id)).state, 1);
      assert.deepEqual(await channelsOf(alice, g.thing.id), sorted([g.channels[0]!.id, g.channels[1]!.id]));
    });

    it('refuses a bad state (400), a missing or foreign config (404), bad credentials (403), 415', async () => {
      const g = await gateway(alice);
      assertError(await setState(alice, g.id, 2), 400, 'malformed entity specification');
      assertError(await setState(alice, g.id, -1), 400);
      assertError(await setState(alice, g.id, '1'), 400);
      assertError(await setState(alice, g.id, 1.5), 400);
      assertError(await request('PUT', `/things/state/${g.id}`, { token: alice, raw: 'nope' }), 400);
      assertError(await setState(bob, g.id, 1), 404, 'failed to change state of bootstrap configuration');
      assertError(await setState(alice, crypto.randomUUID(), 1), 404);
      assertError(await setState('bad', g.id, 1), 403);
      assertError(
        await request('PUT', `/things/state/${g.id}`, {
          token: alice,
          body: { state: 1 },
          contentType: 'text/plain',
        }),
        415,
      );
      assert.equal((await view(alice, g.id)).state, 0);
      assert.deepEqual(await channelsOf(alice, g.thing.id), []);
    });
  });

  describe('cascades from things', () => {
    it('disconnecting the thing from a listed channel makes only its config inactive', async () => {
      const user = await fresh();
      const g = await gateway(user);
      const other = await createThing(request, user);
      const otherId = await addConfig(user, {
        thing_id: other.id,
        external_id: `ext-${uid()}`,
        external_key: 'k',
        channels: [g.channels[0]!.id],
      });
      assertEmpty(await setState(user, g.id, 1), 200);
      assertEmpty(await setState(user, otherId, 1), 200);
      // A channel outside the list: disconnecting it changes nothing.
      await connect(request, user, [g.channels[2]!.id], [g.thing.id]);
      assertEmpty(
        await request('DELETE', `/channels/${g.channels[2]!.id}/things/${g.thing.id}`, { token: user }),
        204,
      );
      assert.equal((await view(user, g.id)).state, 1);

      assertEmpty(
        await request('DELETE', `/channels/${g.channels[0]!.id}/things/${g.thing.id}`, { token: user }),
        204,
      );
      assert.equal((await view(user, g.id)).state, 0, 'its config is inactive');
      assert.equal(
        (await view(user, otherId)).state,
        1,
        'the other config listing that channel stays active',
      );
      assert.deepEqual(await channelsOf(user, g.thing.id), [g.channels[1]!.id], 'the other connection stays');
      assert.deepEqual(await channelsOf(user, other.id), [g.channels[0]!.id]);
    });

    it('deleting a channel drops it from the config list; the state stays', async () => {
      const g = await gateway(alice);
      assertEmpty(await setState(alice, g.id, 1), 200);
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).json.mainflux_channels.length, 2);
      assertEmpty(await request('DELETE', `/channels/${g.channels[0]!.id}`, { token: alice }), 204);
      const config = await view(alice, g.id);
      assert.deepEqual(ids(config.mainflux_channels), [g.channels[1]!.id]);
      assert.equal(config.state, 1);
      assert.deepEqual(ids((await gatewayFetch(g.externalId, g.externalKey)).json.mainflux_channels), [
        g.channels[1]!.id,
      ]);
      assertEmpty(await request('DELETE', `/channels/${g.channels[1]!.id}`, { token: alice }), 204);
      assert.equal('mainflux_channels' in (await view(alice, g.id)), false);
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).json.mainflux_channels, null);
    });

    it('deleting the thing deletes its config', async () => {
      const g = await gateway(alice);
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).status, 200);
      assertEmpty(await request('DELETE', `/things/${g.thing.id}`, { token: alice }), 204);
      assertError(await request('GET', `/things/configs/${g.id}`, { token: alice }), 404);
      assertError(
        await gatewayFetch(g.externalId, g.externalKey),
        404,
        'failed to read bootstrap configuration',
      );
      assert.equal((await page(request, alice, `/things/configs?mainflux_id=${g.id}`)).total, 0);
      // The external id is free again.
      await addConfig(alice, { external_id: g.externalId, external_key: 'k' });
    });

    it('a new thing key, a renamed channel and new channel metadata are what the gateway fetches next', async () => {
      const g = await gateway(alice);
      assert.equal((await gatewayFetch(g.externalId, g.externalKey)).json.mainflux_key, g.thing.key);
      assertEmpty(
        await request('PATCH', `/things/${g.thing.id}/key`, {
          token: alice,
          body: { key: `new-key-${uid()}-${'x'.repeat(40)}` },
        }),
        200,
      );
      const thing = (await request('GET', `/things/${g.thing.id}`, { token: alice })).json as ThingView;
      let fetched = await gatewayFetch(g.externalId, g.externalKey);
      assert.equal(fetched.json.mainflux_key, thing.key, 'the current key, any length');
      assert.equal((await view(alice, g.id)).mainflux_key, thing.key);

      assertEmpty(
        await request('PUT', `/channels/${g.channels[0]!.id}`, {
          token: alice,
          body: { name: 'renamed', metadata: { type: 'data', x: 1 } },
        }),
        200,
      );
      assertEmpty(
        await request('PUT', `/channels/${g.channels[1]!.id}`, { token: alice, body: { name: '' } }),
        200,
      );
      fetched = await gatewayFetch(g.externalId, g.externalKey);
      assert.deepEqual(fetched.json.mainflux_channels, [
        { id: g.channels[0]!.id, name: 'renamed', metadata: { type: 'data', x: 1 } },
        { id: g.channels[1]!.id, metadata: null },
      ]);
    });
  });

  describe('gateway fetch GET /things/bootstrap/{external_id}', () => {
    it('serves exactly the Agent format, channels in configuration order, inactive configs included', async () => {
      const thing = await createThing(request, alice);
      const channels: ChannelView[] = await createChannels(request, alice, [
        { name: 'a', metadata: { type: 'control' } },
        { name: 'b' },
        { metadata: { type: 'data' } },
      ]);
      const order = [channels[2]!, channels[0]!, channels[1]!];
      const externalId = `00:11:22:${uid()}`;
      await addConfig(alice, {
        thing_id: thing.id,
        external_id: externalId,
        external_key: 'ext key',
        channels: order.map((c) => c.id),
        content: '{"agent":{"mqtt":{"url":"localhost:1883"}}}',
        name: 'not served',
      });
      const reply = await gatewayFetch(externalId, 'ext key');
      assert.equal(reply.status, 200, reply.text);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(reply.json, {
        mainflux_id: thing.id,
        mainflux_key: thing.key,
        mainflux_channels: [
          { id: channels[2]!.id, metadata: { type: 'data' } },
          { id: channels[0]!.id, name: 'a', metadata: { type: 'control' } },
          { id: channels[1]!.id, name: 'b', metadata: null },
        ],
        content: '{"agent":{"mqtt":{"url":"localhost:1883"}}}',
      });
      assert.deepEqual(Object.keys(reply.json), [
        'mainflux_id',
        'mainflux_key',
        'mainflux_channels',
        'content',
      ]);
      assert.deepEqual(Object.keys(reply.json.mainflux_channels[1]), ['id', 'name', 'metadata']);
      assert.equal((await view(alice, thing.id)).state, 0, 'served while inactive');

      // Newer Agents send `Thing <key>`.
      assert.deepEqual((await gatewayFetch(externalId, 'Thing ext key')).json, reply.json);
    });

    it('has mainflux_channels null and no content when the config has none', async () => {
      const user = await fresh();
      const externalId = `ext-${uid()}`;
      const id = await addConfig(user, { external_id: externalId, external_key: 'k' });
      const thing = (await request('GET', `/things/${id}`, { token: user })).json;
      const reply = await gatewayFetch(externalId, 'k');
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json, { mainflux_id: id, mainflux_key: thing.key, mainflux_channels: null });
    });

    it('refuses: empty header 403, unknown external id 404, wrong key 404', async () => {
      const g = await gateway(alice);
      assertError(await gatewayFetch(g.externalId), 403, 'missing or invalid credentials provided');
      assertError(await gatewayFetch(g.externalId, ''), 403);
      assertError(
        await gatewayFetch(`unknown-${uid()}`, g.externalKey),
        404,
        'failed to read bootstrap configuration',
      );
      assertError(
        await gatewayFetch(g.externalId, `${g.externalKey}x`),
        404,
        'failed to get bootstrap configuration for given external key',
      );
      // A user token is not the external key.
      assertError(await gatewayFetch(g.externalId, alice), 404);
    });
  });

  describe('secure fetch GET /things/bootstrap/secure/{external_id}', () => {
    async function check(base: string, req: Request, keyHex: string, token: string) {
      const thing = await createThing(req, token);
      const channels = await createChannels(req, token, [
        { name: 'c', metadata: { type: 'control' } },
        { name: 'd', metadata: { type: 'data' } },
      ]);
      const externalId = `sec-${uid()}`;
      const externalKey = `k-${uid()}`;
      const made = await req('POST', '/things/configs', {
        token,
        body: {
          thing_id: thing.id,
          external_id: externalId,
          external_key: externalKey,
          channels: ids(channels),
          content: '{"x":"é<>&"}',
        },
      });
      assert.equal(made.status, 201, made.text);
      const plain = await req('GET', `/things/bootstrap/${externalId}`, {
        headers: { authorization: externalKey },
      });
      assert.equal(plain.status, 200);

      const reply = await secureFetch(base, externalId, agentHeader(keyHex, externalKey));
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(reply.contentType, 'application/json');
      const text = agentDecrypt(keyHex, reply.body);
      assert.deepEqual(JSON.parse(text), plain.json);
      assert.equal(text.endsWith('\n'), false, 'no trailing newline');
      // A fresh IV every time; upper-case hex works too.
      const again = await secureFetch(base, externalId, agentHeader(keyHex, externalKey).toUpperCase());
      assert.equal(again.status, 200);
      assert.notDeepEqual(again.body.subarray(0, 16), reply.body.subarray(0, 16));
      assert.deepEqual(JSON.parse(agentDecrypt(keyHex, again.body)), plain.json);
      return { externalId, externalKey };
    }

    const secureError = (
      reply: { status: number; contentType: string; body: Buffer },
      status: number,
      message: string,
    ) => {
      assert.equal(reply.status, status, reply.body.toString());
      assert.match(reply.contentType, /^application\/json/);
      assert.deepEqual(JSON.parse(reply.body.toString()), { error: message });
    };

    it('with the default 32-hex key (AES-128): 200, application/json, IV first, decrypts to the plain fetch', async () => {
      const { externalId, externalKey } = await check(fixture.server.url, request, DEFAULT_KEY, alice);
      const failed = 'failed to get bootstrap configuration for given encrypted external key';
      secureError(await secureFetch(fixture.server.url, externalId, 'zz-not-hex'), 404, failed);
      secureError(await secureFetch(fixture.server.url, externalId, 'abcdef'), 400, failed);
      secureError(
        await secureFetch(fixture.server.url, externalId, crypto.randomBytes(15).toString('hex')),
        400,
        failed,
      );
      secureError(
        await secureFetch(fixture.server.url, externalId, agentHeader(KEY_256, externalKey)),
        404,
        'failed to get bootstrap configuration for given external key',
      );
      secureError(
        await secureFetch(fixture.server.url, externalId, agentHeader(DEFAULT_KEY, `${externalKey}!`)),
        404,
        'failed to get bootstrap configuration for given external key',
      );
      secureError(
        await secureFetch(fixture.server.url, externalId),
        403,
        'missing or invalid credentials provided',
      );
      secureError(
        await secureFetch(fixture.server.url, `unknown-${uid()}`, agentHeader(DEFAULT_KEY, externalKey)),
        404,
        'failed to read bootstrap configuration',
      );
    });

    it('with a 64-hex key (AES-256)', async () => {
      const other = await startServer({ MF_BOOTSTRAP_ENCRYPT_KEY: KEY_256 });
      try {
        const req = client(other.url);
        const { externalId, externalKey } = await check(
          other.url,
          req,
          KEY_256,
          (await userToken(req)).token,
        );
        assert.equal(
          (await secureFetch(other.url, externalId, agentHeader(DEFAULT_KEY, externalKey))).status,
          404,
        );
      } finally {
        await other.close();
      }
    });

    it('without MF_BOOTSTRAP_ENCRYPT_KEY: a generated key kept in the data folder, the same after a restart', async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-bskey-'));
      const keyFile = path.join(dataDir, 'bootstrap-key');
      const env = { TETHYS_DATA_DIR: dataDir, MF_BOOTSTRAP_ENCRYPT_KEY: '' };
      try {
        const first = await startServer(env);
        let key: string;
        try {
          assert.ok(fs.existsSync(keyFile), 'key file created');
          key = fs.readFileSync(keyFile, 'utf8').trim();
          assert.match(key, /^([0-9a-f]{32}|[0-9a-f]{48}|[0-9a-f]{64})$/i);
          assert.notEqual(key, DEFAULT_KEY);
          if (process.platform !== 'win32')
            assert.equal(fs.statSync(keyFile).mode & 0o077, 0, 'readable by the owner only');
          const req = client(first.url);
          await check(first.url, req, key, (await userToken(req)).token);
        } finally {
          await first.close();
        }
        const second = await startServer(env);
        try {
          assert.equal(fs.readFileSync(keyFile, 'utf8').trim(), key, 'the key survives a restart');
          const req = client(second.url);
          await check(second.url, req, key, (await userToken(req)).token);
        } finally {
          await second.close();
        }
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('an invalid MF_BOOTSTRAP_ENCRYPT_KEY stops the start', () => {
      for (const bad of [
        'not-hex-at-all',
        '1234',
        'zz345678910111213141516171819202',
        `${DEFAULT_KEY}0`,
        '0'.repeat(66),
      ]) {
        assert.throws(() => loadConfig({ MF_BOOTSTRAP_ENCRYPT_KEY: bad }), /MF_BOOTSTRAP_ENCRYPT_KEY/, bad);
      }
      for (const good of [DEFAULT_KEY, '0'.repeat(48), KEY_256, KEY_256.toUpperCase()]) {
        assert.equal(loadConfig({ MF_BOOTSTRAP_ENCRYPT_KEY: good }).bootstrap.encryptKey, good);
      }
    });
  });

  describe('sealed fetch GET /things/bootstrap/sealed/{external_id}', () => {
    const sealedFetch = (externalId: string, header?: string) =>
      fetchBytes(fixture.server.url, 'sealed/', externalId, header);

    /** A config with channels, content, certificates, and an external id beyond ASCII. */
    async function sealedGateway() {
      const channels = await createChannels(request, alice, [
        { name: 'ctl', metadata: { type: 'control', note: 'ü' } },
        { name: 'data' },
      ]);
      const externalId = `gw-é-${uid()}`;
      const externalKey = `key-${uid()}`;
      const id = await addConfig(alice, {
        external_id: externalId,
        external_key: externalKey,
        channels: ids(channels),
        content: '{"agent":{"name":"ünï <&> \u2028"}}',
      });
      assertEmpty(
        await request('PATCH', `/things/configs/certs/${id}`, {
          token: alice,
          body: { client_cert: 'CERT', client_key: 'KEY', ca_cert: 'CA' },
        }),
        200,
      );
      return { externalId, externalKey };
    }

    it('opens with node:crypto to exactly the plain fetch bytes; a fresh nonce every time', async () => {
      const { externalId, externalKey } = await sealedGateway();
      const plain = await fetchBytes(fixture.server.url, '', externalId, externalKey);
      assert.equal(plain.status, 200, plain.body.toString());
      assert.ok(JSON.parse(plain.body.toString()).client_key, 'the plain answer holds the certificates');

      const first = await sealedFetch(externalId, externalKey);
      assert.equal(first.status, 200, first.body.toString());
      assert.equal(first.contentType, 'application/octet-stream');
      assert.equal(first.body.length, 12 + plain.body.length + 16, 'nonce ‖ ciphertext ‖ tag');
      assert.deepEqual(nodeOpen(first.body, externalId, externalKey), plain.body);
      // The SDK's WebCrypto opening reads the same bytes.
      assert.deepEqual(Buffer.from(await openSealed(first.body, externalId, externalKey)), plain.body);

      const second = await sealedFetch(externalId, `Thing ${externalKey}`);
      assert.equal(second.status, 200, 'newer Agents send `Thing <key>`: the key is what follows');
      assert.notDeepEqual(second.body.subarray(0, 12), first.body.subarray(0, 12), 'a fresh nonce');
      assert.notDeepEqual(second.body.subarray(12), first.body.subarray(12), 'so another ciphertext');
      assert.deepEqual(nodeOpen(second.body, externalId, externalKey), plain.body);
    });

    it('a flipped bit in nonce, ciphertext or tag, another external id or key: it does not open', async () => {
      const { externalId, externalKey } = await sealedGateway();
      const { body } = await sealedFetch(externalId, externalKey);
      const places = { nonce: 0, 'nonce end': 11, ciphertext: 12, 'ciphertext end': body.length - 17 };
      const tampered: [string, Buffer][] = [
        ...Object.entries(places).map(([name, at]): [string, Buffer] => [name, flipped(body, at)]),
        ['tag', flipped(body, body.length - 16)],
        ['tag end', flipped(body, body.length - 1)],
        ['truncated', body.subarray(0, body.length - 1)],
      ];
      for (const [name, bytes] of tampered) {
        assert.throws(() => nodeOpen(bytes, externalId, externalKey), /authenticate/, name);
        await assert.rejects(openSealed(bytes, externalId, externalKey), (err: Error) => {
          assert.equal(err.name, 'OperationError', name);
          return true;
        });
      }
      assert.throws(() => nodeOpen(body, `${externalId}x`, externalKey), /authenticate/, 'another id');
      assert.throws(() => nodeOpen(body, externalId, `${externalKey}x`), /authenticate/, 'another key');
      await assert.rejects(openSealed(body, `${externalId}x`, externalKey));
      await assert.rejects(openSealed(body, externalId, `${externalKey}x`));
      await assert.rejects(openSealed(body.subarray(0, 27), externalId, externalKey), RangeError);
    });

    it('refuses as the plain fetch does: no key 403, unknown external id 404, wrong key 404', async () => {
      const g = await gateway(alice);
      const cases: [string, string | undefined, number][] = [
        [g.externalId, undefined, 403],
        [g.externalId, '', 403],
        [`unknown-${uid()}`, g.externalKey, 404],
        [g.externalId, `${g.externalKey}x`, 404],
        [g.externalId, alice, 404],
      ];
      for (const [externalId, key, status] of cases) {
        const plain = await fetchBytes(fixture.server.url, '', externalId, key);
        const sealed = await sealedFetch(externalId, key);
        assert.equal(plain.status, status);
        assert.equal(sealed.status, status, `${externalId} ${key}`);
        assert.match(sealed.contentType, /^application\/json/);
        assert.deepEqual(sealed.body, plain.body, 'the same error');
      }
    });
  });
});

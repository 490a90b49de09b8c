import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { BootstrapCipher, Tethys, TethysError, TethysNetworkError } from '../sdk/src/index.js';
import { closedPort, dialect, recordingFetch, withServer } from './helpers/server.js';

/** The server's MF_BOOTSTRAP_ENCRYPT_KEY: AES-256. */
const ENCRYPT_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

/** The TypeScript SDK (sdk/) against the real server: what a user of it writes. */
describe(`TypeScript SDK (${dialect})`, () => {
  const fixture = withServer({ MF_BOOTSTRAP_ENCRYPT_KEY: ENCRYPT_KEY });
  const uid = () => crypto.randomBytes(5).toString('hex');
  let tethys: Tethys;

  /** A fresh account, logged in. */
  async function account(): Promise<Tethys> {
    tethys = new Tethys({ url: fixture.server.url, fetch: recordingFetch });
    const email = `sdk-${uid()}@example.com`;
    const id = await tethys.users.register(email, 'a long password');
    assert.match(id, /^[0-9a-f-]{36}$/);
    const me = tethys.withToken(await tethys.users.login(email, 'a long password'));
    assert.equal((await me.users.profile()).email, email);
    return me;
  }

  it('creates, reads, updates and pages through things and channels', async () => {
    const me = await account();
    const id = await me.things.create({ name: 'one', metadata: { site: 'north' } });
    const one = await me.things.get(id);
    assert.equal(one.name, 'one');
    assert.deepEqual(one.metadata, { site: 'north' });
    await me.things.update(id, { name: 'uno', metadata: { site: 'south' } });
    assert.equal((await me.things.get(id)).name, 'uno');

    const many = await me.things.createMany(
      Array.from({ length: 150 }, (_, i) => ({ name: `bulk-${i}`, metadata: { site: 'north' } })),
    );
    assert.equal(many.length, 150);
    assert.equal((await me.things.list({ limit: 1 })).total, 151);
    // Every thing of the filter, over two pages of 100.
    const seen = [];
    for await (const t of me.things.all({ metadata: { site: 'north' } })) seen.push(t.id);
    assert.deepEqual(seen.sort(), many.map((t) => t.id).sort());

    const [channel] = await me.channels.createMany([{ name: 'c' }]);
    await me.connect([channel!.id], [many[0]!.id, many[1]!.id]);
    assert.equal((await me.channels.things(channel!.id)).total, 2);
    assert.equal((await me.things.channels(many[0]!.id)).channels[0]?.id, channel!.id);
    await me.disconnect(channel!.id, many[1]!.id);
    assert.equal((await me.channels.things(channel!.id, { connected: false, limit: 100 })).total, 150);

    // A thing publishes with its key on a channel it is connected to, and only there.
    await me.messages.publish(many[0]!.key, channel!.id, '[{"n":"t","v":1}]');
    await me.messages.publish(many[0]!.key, channel!.id, 'x', { subtopic: 'a/b', contentType: 'text/plain' });
    await assert.rejects(me.messages.publish(many[1]!.key, channel!.id, '[]'), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.status, 403);
      return true;
    });

    await me.things.remove(id);
    await assert.rejects(me.things.get(id), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.status, 404);
      assert.ok(err.message.length > 0, 'the server error text');
      return true;
    });
  });

  it('provisions a gateway, which then fetches its config; issues, lists and revokes a certificate', async () => {
    const me = await account();
    const externalId = `gw-${uid()}`;
    const provisioned = await me.provision(externalId, 'external-key', 'gateway');
    assert.equal(provisioned.things.length, 1);
    assert.equal(provisioned.channels.length, 2);
    const gateway = provisioned.things[0]!;
    const config = await me.bootstrap.fetch(externalId, 'external-key');
    assert.equal(config.mainflux_id, gateway.id);
    assert.equal(config.mainflux_key, gateway.key);
    await assert.rejects(
      me.bootstrap.fetch(externalId, 'wrong'),
      (err: unknown) => err instanceof TethysError,
    );
    assert.equal((await me.bootstrap.get(gateway.id)).external_id, externalId);
    assert.equal((await me.bootstrap.list({ external_id: externalId })).total, 1);

    const cert = await me.certs.issue({ thing_id: gateway.id, key_type: 'ec', key_bits: 256, valid: '24h' });
    assert.match(cert.client_cert, /BEGIN CERTIFICATE/);
    assert.equal((await me.certs.list(gateway.id)).total, 1);
    assert.match(await me.certs.revoke(gateway.id), /^\d{4}-\d\d-\d\dT/);
    assert.match(await me.certs.crl(), /BEGIN X509 CRL/);
  });

  it('API keys act as their user; groups take things', async () => {
    const me = await account();
    const key = await me.keys.issue(3600);
    assert.ok(key.value);
    const byKey = me.withToken(key.value);
    const thing = await byKey.things.create({ name: 'by-key' });
    const group = await me.groups.create({ name: `g-${uid()}` });
    await me.groups.assign(group, 'things', [thing]);
    assert.equal((await me.groups.get(group)).id, group);
    await me.keys.revoke(key.id!);
    await assert.rejects(
      byKey.things.list(),
      (err: unknown) => err instanceof TethysError && err.status === 401,
    );
  });

  it('errors say what was asked; no answer at all is a network error with the reason', async () => {
    const me = await account();
    const missing = crypto.randomUUID();
    await assert.rejects(me.things.get(missing), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.status, 404);
      assert.equal(err.method, 'GET');
      assert.equal(err.path, `/things/${missing}`);
      assert.equal(err.summary, `404 non-existent entity (GET /things/${missing})`);
      return true;
    });
    await assert.rejects(me.things.list({ limit: 1000 }), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.status, 400);
      assert.equal(err.path, '/things?limit=1000', 'the path with its query');
      return true;
    });
    const away = new Tethys({ url: `http://127.0.0.1:${await closedPort()}/`, token: 'x' });
    await assert.rejects(away.things.list(), (err: unknown) => {
      assert.ok(err instanceof TethysNetworkError, String(err));
      assert.match(err.reason, /ECONNREFUSED/);
      assert.match(
        err.message,
        /^cannot reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED \S+ \(GET \/things\)$/,
      );
      assert.equal(err.summary, err.message);
      assert.ok(err.cause, 'the original error is kept');
      return true;
    });
  });

  it('a signal cancels the calls of a client, in flight or made later, with its reason', async () => {
    const me = await account();
    const leave = new AbortController();
    const page = me.withSignal(leave.signal);
    assert.equal((await page.things.list({ limit: 1 })).total, 0, 'the token goes along');

    // Aborted as soon as the request is under way, before any answer can arrive.
    const stop = new AbortController();
    const stopping = new Tethys({
      url: fixture.server.url,
      signal: stop.signal,
      fetch: (input, init) => {
        const answer = fetch(input, init);
        stop.abort();
        return answer;
      },
    });
    await assert.rejects(stopping.things.list(), (err: unknown) => {
      assert.ok(!(err instanceof TethysNetworkError), String(err));
      assert.equal((err as Error).name, 'AbortError');
      return true;
    });

    const reason = new Error('the page was left');
    leave.abort(reason);
    await assert.rejects(page.things.create({ name: 'never' }), (err: unknown) => err === reason);
    await assert.rejects(page.withToken('another').things.list(), (err: unknown) => err === reason);
    assert.equal((await me.things.list({ limit: 1 })).total, 0, 'the client it came from is not cancelled');
  });

  it('users by id; connections and their complement; groups: trees, members, memberships', async () => {
    const me = await account();
    const profile = await me.users.profile();
    assert.deepEqual(await me.users.get(profile.id), profile);

    const [a, b] = await me.things.createMany([{ name: 'a' }, { name: 'b' }]);
    const [channel] = await me.channels.createMany([{ name: 'c' }]);
    await me.connect([channel!.id], [a!.id]);
    const connected = await me.channels.things(channel!.id, { order: 'name', dir: 'asc' });
    assert.deepEqual(
      connected.things.map((t) => t.id),
      [a!.id],
    );
    const others = await me.channels.things(channel!.id, { connected: false });
    assert.deepEqual(
      others.things.map((t) => t.id),
      [b!.id],
    );
    assert.equal((await me.things.channels(b!.id, { connected: false })).channels[0]?.id, channel!.id);
    await me.channels.update(channel!.id, { name: 'renamed', metadata: { floor: 2 } });
    assert.deepEqual(await me.channels.get(channel!.id), {
      id: channel!.id,
      name: 'renamed',
      metadata: { floor: 2 },
    });

    const root = await me.groups.create({ name: `site-${uid()}`, metadata: { kind: 'site' } });
    const floor = await me.groups.create({ name: 'floor', parent_id: root });
    await me.groups.update(floor, { name: 'floor-1', description: 'first' });
    assert.equal((await me.groups.get(floor)).description, 'first');
    const tree = await me.groups.list({ level: 2, tree: true });
    assert.equal(tree.groups.length, 1);
    assert.equal(tree.groups[0]!.id, root);
    assert.deepEqual(
      tree.groups[0]!.children?.map((g) => g.name),
      ['floor-1'],
    );
    assert.deepEqual(
      (await me.groups.list({ level: 2, metadata: { kind: 'site' } })).groups.map((g) => g.id),
      [root],
    );
    assert.deepEqual(
      (await me.groups.children(root, { level: 2 })).groups.map((g) => g.id).sort(),
      [root, floor].sort(),
    );
    assert.ok((await me.groups.parents(floor, { level: 2 })).groups.some((g) => g.id === root));

    await me.groups.assign(floor, 'things', [a!.id, b!.id]);
    const members = await me.groups.members(floor, { type: 'things', limit: 10 });
    assert.deepEqual(members.Members.map((m) => m.ID).sort(), [a!.id, b!.id].sort());
    assert.deepEqual(
      (await me.groups.memberships(a!.id)).groups.map((g) => g.id),
      [floor],
    );
    assert.equal((await me.groups.things(floor)).total, 2);
    await me.groups.unassign(floor, [b!.id]);
    assert.equal((await me.groups.things(floor)).things[0]?.id, a!.id);
    await assert.rejects(
      me.groups.remove(floor),
      (err: unknown) => err instanceof TethysError && err.status === 409,
    );
  });

  it('bootstrap configs: update, channels, state; the secure fetch decrypts to the plain one', async () => {
    const me = await account();
    const [c1, c2] = await me.channels.createMany([{ name: 'one' }, { name: 'two' }]);
    const externalId = `aa:bb:${uid()}`;
    const id = await me.bootstrap.create({
      external_id: externalId,
      external_key: 'ext-key',
      name: 'gw',
      channels: [c1!.id],
    });
    await me.bootstrap.update(id, { name: 'gateway', content: '{"agent":{}}' });
    await me.bootstrap.setChannels(id, [c2!.id]);
    await me.bootstrap.setState(id, 1);
    const config = await me.bootstrap.get(id);
    assert.equal(config.name, 'gateway');
    assert.equal(config.state, 1);
    assert.deepEqual(
      config.mainflux_channels?.map((c) => c.id),
      [c2!.id],
    );

    const plain = await me.bootstrap.fetch(externalId, 'ext-key');
    assert.equal(plain.content, '{"agent":{}}');
    // The key as hex (upper case too), as bytes, or as a cipher made once.
    const cipher = new BootstrapCipher(ENCRYPT_KEY);
    for (const key of [ENCRYPT_KEY.toUpperCase(), Buffer.from(ENCRYPT_KEY, 'hex'), cipher]) {
      assert.deepEqual(await me.bootstrap.fetchSecure(externalId, 'ext-key', key), plain);
    }
    // The server cannot decrypt a key sealed with another AES key: it finds no config.
    await assert.rejects(
      me.bootstrap.fetchSecure(externalId, 'ext-key', '00'.repeat(32)),
      (err: unknown) =>
        err instanceof TethysError && err.status === 404 && err.path.startsWith('/things/bootstrap/secure/'),
    );
    assert.throws(() => new BootstrapCipher('abc'), RangeError);
    assert.throws(() => new BootstrapCipher(new Uint8Array(20)), RangeError);
    await me.bootstrap.remove(id);
    await assert.rejects(
      me.bootstrap.get(id),
      (err: unknown) => err instanceof TethysError && err.status === 404,
    );
  });

  it('the sealed fetch opens to the plain config; an altered answer or a wrong key throws TethysError', async () => {
    const me = await account();
    const [c1] = await me.channels.createMany([{ name: 'one', metadata: { type: 'control' } }]);
    const externalId = `sealed:${uid()}`;
    await me.bootstrap.create({
      external_id: externalId,
      external_key: 'ext-key',
      channels: [c1!.id],
      content: '{"agent":{}}',
    });
    const plain = await me.bootstrap.fetch(externalId, 'ext-key');
    assert.deepEqual(await me.bootstrap.fetchSealed(externalId, 'ext-key'), plain);

    // A gateway's own fetch that flips one bit of the answer on the way: nonce, ciphertext, tag.
    for (const at of [0, 12, -1]) {
      const tampering = new Tethys({
        url: fixture.server.url,
        fetch: async (input, init) => {
          const res = await recordingFetch(input, init);
          const bytes = new Uint8Array(await res.arrayBuffer());
          const i = at < 0 ? bytes.length + at : at;
          bytes[i] = bytes[i]! ^ 0x80;
          return new Response(bytes, { status: res.status, headers: res.headers });
        },
      });
      await assert.rejects(tampering.bootstrap.fetchSealed(externalId, 'ext-key'), (err: unknown) => {
        assert.ok(err instanceof TethysError, String(err));
        assert.equal(err.status, 200);
        assert.match(
          err.summary,
          /^200 the sealed answer does not open: .* \(GET \/things\/bootstrap\/sealed\/sealed%3A/,
        );
        return true;
      });
    }
    await assert.rejects(me.bootstrap.fetchSealed(externalId, 'wrong'), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(
        err.summary,
        `404 failed to get bootstrap configuration for given external key (GET /things/bootstrap/sealed/${encodeURIComponent(externalId)})`,
      );
      return true;
    });
    await assert.rejects(me.bootstrap.fetchSealed(`unknown-${uid()}`, 'ext-key'), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.status, 404);
      assert.equal(err.message, 'failed to read bootstrap configuration');
      return true;
    });
  });

  it('the bootstrap cipher is AES-CFB as node:crypto (and the server) make it, byte for byte', async () => {
    for (const size of [16, 24, 32]) {
      const key = crypto.randomBytes(size);
      const cipher = new BootstrapCipher(key);
      for (const length of [0, 1, 15, 16, 17, 32, 33, 1000]) {
        const plain = crypto.randomBytes(length);
        const iv = crypto.randomBytes(16);
        const node = crypto.createCipheriv(`aes-${size * 8}-cfb`, key, iv);
        const expected = Buffer.concat([iv, node.update(plain), node.final()]);
        assert.deepEqual(
          Buffer.from(await cipher.encrypt(plain, iv)),
          expected,
          `AES-${size * 8}, ${length} bytes`,
        );
        assert.deepEqual(Buffer.from(await cipher.decrypt(expected)), plain);
      }
      // The header a gateway sends: hex(random iv ‖ ciphertext), which node:crypto reads back.
      const header = Buffer.from(await cipher.encryptExternalKey('ext-key'), 'hex');
      const node = crypto.createDecipheriv(`aes-${size * 8}-cfb`, key, header.subarray(0, 16));
      assert.equal(Buffer.concat([node.update(header.subarray(16)), node.final()]).toString(), 'ext-key');
    }
  });

  it('the CRL as PEM or DER; a Mainflux /mapping answering 201 with {"error"} throws', async () => {
    const me = await account();
    assert.match(await me.certs.crl(), /^-----BEGIN X509 CRL-----/);
    const der = await me.certs.crlDer();
    assert.ok(der instanceof Uint8Array);
    assert.equal(der[0], 0x30, 'a DER SEQUENCE');

    // 0.12.1's answer to a flow that failed half-way (API.md §5); Tethys never gives it.
    const mainflux = new Tethys({
      url: 'http://mainflux.invalid',
      fetch: async () =>
        new Response('{"error":"failed to create bootstrap config"}', {
          status: 201,
          headers: { 'content-type': 'application/json' },
        }),
    });
    await assert.rejects(mainflux.provision('gw', 'key'), (err: unknown) => {
      assert.ok(err instanceof TethysError);
      assert.equal(err.summary, '201 failed to create bootstrap config (POST /mapping)');
      return true;
    });
  });
});

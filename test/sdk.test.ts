import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { Tethys, TethysError } from '../sdk/src/index.js';
import { dialect, recordingFetch, withServer } from './helpers/server.js';

/** The TypeScript SDK (sdk/) against the real server: what a user of it writes. */
describe(`TypeScript SDK (${dialect})`, () => {
  const fixture = withServer();
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
});

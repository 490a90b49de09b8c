import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { connect, createThing } from './helpers/entities.js';
import { connackCode, connectThing, mqttUrl, settle, type TestClient } from './helpers/mqtt.js';
import { dialect, userToken, withServer } from './helpers/server.js';

interface BootstrapChannel {
  id: string;
  name?: string;
  metadata: Record<string, unknown> | null;
}

/**
 * The edge flow end to end, as a Mainflux edge Agent lives it: the operator provisions
 * a gateway with one call (built-in layout: one thing, a control and a data channel,
 * whitelisted), the gateway fetches its bootstrap config with its external key,
 * connects over MQTT with mainflux_id / mainflux_key and publishes on the data channel;
 * an application connected to that channel receives, a thing outside the layout cannot.
 */
describe(`edge flow: provision, bootstrap, MQTT (${dialect})`, { timeout: 60_000 }, () => {
  const fixture = withServer({}, { beforeClose: () => Promise.all(clients.map((c) => c.end())) });
  const { request } = fixture;
  let token: string;
  const externalId = `gw-${crypto.randomBytes(4).toString('hex')}`;
  const externalKey = crypto.randomBytes(16).toString('hex');
  let mapping: any;
  let config: {
    mainflux_id: string;
    mainflux_key: string;
    mainflux_channels: BootstrapChannel[];
    content?: string;
  };
  let data: BootstrapChannel;
  let control: BootstrapChannel;
  const clients: TestClient[] = [];

  before(async () => {
    token = (await userToken(request)).token;
  });

  async function open(thing: { id: string; key: string }): Promise<TestClient> {
    const c = await connectThing(mqttUrl(fixture.server.app), thing);
    clients.push(c);
    return c;
  }

  it('POST /mapping provisions the gateway with the built-in layout', async () => {
    const reply = await request('POST', '/mapping', {
      token,
      body: { external_id: externalId, external_key: externalKey, name: 'edge-gw' },
    });
    assert.equal(reply.status, 201, reply.text);
    mapping = reply.json;
    assert.equal(mapping.error, undefined);
    assert.equal(mapping.things.length, 1);
    assert.equal(mapping.channels.length, 2);
    const gateway = mapping.things[0];
    assert.equal(gateway.metadata.external_id, externalId);
    assert.deepEqual(mapping.whitelisted, { [gateway.id]: true });
    assert.deepEqual(mapping.channels.map((c: BootstrapChannel) => c.metadata?.type).sort(), [
      'control',
      'data',
    ]);
  });

  it('GET /things/bootstrap/{external_id} with the external key returns the config', async () => {
    assert.equal(
      (await request('GET', `/things/bootstrap/${externalId}`, { token: 'wrong-key' })).status,
      404,
    );
    const reply = await request('GET', `/things/bootstrap/${externalId}`, { token: externalKey });
    assert.equal(reply.status, 200, reply.text);
    config = reply.json;
    assert.equal(config.mainflux_id, mapping.things[0].id);
    assert.equal(config.mainflux_key, mapping.things[0].key);
    assert.equal(config.mainflux_channels.length, 2);
    // The Agent's rule: the channel whose metadata.type is "data" carries data, the other control.
    data = config.mainflux_channels.find((c) => c.metadata?.type === 'data')!;
    control = config.mainflux_channels.find((c) => c.metadata?.type !== 'data')!;
    assert.ok(data && control && data.id !== control.id);
    assert.deepEqual(
      config.mainflux_channels.map((c) => c.id).sort(),
      mapping.channels.map((c: BootstrapChannel) => c.id).sort(),
    );
  });

  it('the gateway connects over MQTT and its data reaches an application on the data channel', async () => {
    const app = await createThing(request, token, { name: 'dashboard' });
    await connect(request, token, [data.id], [app.id]);
    const listener = await open(app);
    assert.equal(await listener.subscribe(`channels/${data.id}/messages/#`), 0);

    const gateway = await open({ id: config.mainflux_id, key: config.mainflux_key });
    const senml = JSON.stringify([{ bn: `${externalId}:`, n: 'temp', u: 'Cel', v: 21.5 }]);
    await gateway.publish(`channels/${data.id}/messages`, senml, 1);
    await gateway.publish(`channels/${data.id}/messages/sensors/1`, 'sub-reading', 1);
    const got = await listener.waitFor((m) => m.payload.toString() === senml);
    assert.equal(got.topic, `channels/${data.id}/messages`);
    const sub = await listener.waitFor((m) => m.payload.toString() === 'sub-reading');
    assert.equal(sub.topic, `channels/${data.id}/messages/sensors/1`);

    // And over HTTP with the same key.
    const reply = await request('POST', `/http/channels/${data.id}/messages`, {
      token: config.mainflux_key,
      raw: 'via-http',
      contentType: 'application/senml+json',
    });
    assert.equal(reply.status, 202, reply.text);
    await listener.waitFor((m) => m.payload.toString() === 'via-http');
  });

  it('the gateway receives commands on its control channel', async () => {
    const gateway = await open({ id: config.mainflux_id, key: config.mainflux_key });
    assert.equal(await gateway.subscribe(`channels/${control.id}/messages/#`), 0);
    const operator = await createThing(request, token, { name: 'operator' });
    await connect(request, token, [control.id], [operator.id]);
    const command = JSON.stringify([{ bn: '1:', n: 'exec', vs: 'uptime' }]);
    const reply = await request('POST', `/http/channels/${control.id}/messages/req`, {
      token: operator.key,
      raw: command,
    });
    assert.equal(reply.status, 202, reply.text);
    const got = await gateway.waitFor((m) => m.payload.toString() === command);
    assert.equal(got.topic, `channels/${control.id}/messages/req`);
  });

  it('a thing outside the layout cannot read or write the data channel', async () => {
    const stranger = await createThing(request, token, { name: 'stranger' });
    const c = await open(stranger);
    assert.equal(await c.subscribe(`channels/${data.id}/messages`), 128);
    assert.equal(await c.subscribe(`channels/${data.id}/messages/#`), 128);
    assert.equal(await c.subscribe(`channels/${control.id}/messages/#`), 128);
    // Its publishes are dropped.
    const app = await createThing(request, token, { name: 'watcher' });
    await connect(request, token, [data.id], [app.id]);
    const watcher = await open(app);
    assert.equal(await watcher.subscribe(`channels/${data.id}/messages/#`), 0);
    await c.publish(`channels/${data.id}/messages`, 'forged', 1);
    const reply = await request('POST', `/http/channels/${data.id}/messages`, {
      token: stranger.key,
      raw: 'forged',
    });
    assert.equal(reply.status, 403);
    await settle(c, watcher);
    assert.equal(watcher.received('forged').length, 0);
    // A gateway provisioned for someone else is no key to this one's channels either.
    const other = (await userToken(request)).token;
    const theirs = await request('POST', '/mapping', {
      token: other,
      body: { external_id: `${externalId}-2`, external_key: externalKey },
    });
    assert.equal(theirs.status, 201, theirs.text);
    const foreignGateway = await open(theirs.json.things[0]);
    assert.equal(await foreignGateway.subscribe(`channels/${data.id}/messages/#`), 128);
  });

  it('deactivating the bootstrap config disconnects the gateway and closes its session', async () => {
    const gateway = await open({ id: config.mainflux_id, key: config.mainflux_key });
    assert.equal(await gateway.subscribe(`channels/${data.id}/messages`), 0);
    const reply = await request('PUT', `/things/state/${config.mainflux_id}`, { token, body: { state: 0 } });
    assert.equal(reply.status, 200, reply.text);
    assert.ok(await gateway.closedWithin(1000), 'session closed within 1 s');
    // It still logs in (the thing exists) but may no longer use the channels.
    assert.equal(
      await connackCode(mqttUrl(fixture.server.app), {
        username: config.mainflux_id,
        password: config.mainflux_key,
      }),
      0,
    );
    const again = await open({ id: config.mainflux_id, key: config.mainflux_key });
    assert.equal(await again.subscribe(`channels/${data.id}/messages`), 128);
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type NatsConnection, connect as natsConnect, type Subscription } from '@nats-io/transport-node';
import type { IClientOptions } from 'mqtt';
import { connectedGroup, createChannel, createThings, type ThingView } from './helpers/entities.js';
import { connectThing, fence, mqttUrl, type TestClient } from './helpers/mqtt.js';
import { type NatsServer, startNats } from './helpers/nats.js';
import { dialect, type Pair, startPair, type TestServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * Mainflux's `messaging.Message` protobuf, read and written here independently of
 * src/messaging/message.ts: field number → values (bytes for wire type 2, bigint for 0).
 */
function readProto(buf: Uint8Array): Map<number, { wire: number; value: Buffer | bigint }[]> {
  const out = new Map<number, { wire: number; value: Buffer | bigint }[]>();
  let i = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      assert.ok(i < buf.length, 'truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: Buffer | bigint;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = Number(varint());
      value = Buffer.from(buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), { wire, value }]);
  }
  return out;
}

function writeProto(fields: {
  channel: string;
  subtopic: string;
  publisher: string;
  protocol: string;
  payload: Buffer;
  created: bigint;
}): Buffer {
  const varint = (v: bigint) => {
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    bytes.push(Number(v));
    return Buffer.from(bytes);
  };
  const bytesField = (n: number, b: Buffer) =>
    b.length ? Buffer.concat([varint(BigInt((n << 3) | 2)), varint(BigInt(b.length)), b]) : Buffer.alloc(0);
  return Buffer.concat([
    bytesField(1, Buffer.from(fields.channel)),
    bytesField(2, Buffer.from(fields.subtopic)),
    bytesField(3, Buffer.from(fields.publisher)),
    bytesField(4, Buffer.from(fields.protocol)),
    bytesField(5, fields.payload),
    varint(BigInt(6 << 3)),
    varint(fields.created),
  ]);
}

/** The decoded message, checking every field has the wire type Mainflux's schema gives it. */
function decodeMainflux(data: Uint8Array) {
  const f = readProto(data);
  for (const n of [1, 2, 3, 4, 5])
    for (const v of f.get(n) ?? []) assert.equal(v.wire, 2, `field ${n} is length-delimited`);
  for (const v of f.get(6) ?? []) assert.equal(v.wire, 0, 'field 6 (created) is a varint');
  const text = (n: number) => ((f.get(n)?.[0]?.value as Buffer | undefined) ?? Buffer.alloc(0)).toString();
  return {
    channel: text(1),
    subtopic: text(2),
    publisher: text(3),
    protocol: text(4),
    payload: (f.get(5)?.[0]?.value as Buffer | undefined) ?? Buffer.alloc(0),
    created: BigInt.asIntN(64, (f.get(6)?.[0]?.value as bigint | undefined) ?? 0n),
  };
}

/**
 * Two Tethys instances sharing one database and one nats-server: messages published on
 * either reach subscribers on both, a revocation made on one closes sessions on the
 * other, and the bus carries Mainflux's protobuf on `channels.<id>[.<subtopic>]`.
 * On SQLite both instances open the same file (one data folder); on PostgreSQL, one
 * database created for the pair.
 */
describe(`two instances on one NATS (${dialect})`, { timeout: 90_000 }, () => {
  let nats: NatsServer;
  let pair: Pair | undefined;
  let { a, b, reqA, reqB, token } = {} as Pair;
  let nc: NatsConnection;
  const clients: TestClient[] = [];

  before(async () => {
    nats = await startNats();
    pair = await startPair(nats.url);
    ({ a, b, reqA, reqB, token } = pair);
    nc = await natsConnect({ servers: nats.url, name: 'test-observer' });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await nc?.close();
    await pair?.close();
    await nats?.stop();
  });

  async function open(
    server: TestServer,
    thing: { id: string; key: string },
    extra: IClientOptions = {},
  ): Promise<TestClient> {
    const c = await connectThing(mqttUrl(server.app), thing, extra);
    clients.push(c);
    return c;
  }

  const group = (n: number) => connectedGroup(reqA, token, n);

  /** Collects what arrives on a NATS subject until unsubscribed. */
  function observe(subject: string): {
    messages: { subject: string; data: Uint8Array }[];
    sub: Subscription;
  } {
    const messages: { subject: string; data: Uint8Array }[] = [];
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        messages.push({ subject: msg.subject, data: msg.data });
      },
    });
    return { messages, sub };
  }

  it('a token and entities made on A are usable on B (one database)', async () => {
    const { channel, things } = await group(1);
    const reply = await reqB('GET', `/channels/${channel}/things`, { token });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(
      reply.json.things.map((t: ThingView) => t.id),
      [things[0]!.id],
    );
  });

  it("a bootstrap config changed on A is what B's gateway fetch serves within 1 s (B's cache follows)", async () => {
    const channel = (await createChannel(reqA, token, { name: 'gw-channel' })).id;
    const externalId = `cluster-gw-${crypto.randomUUID()}`;
    const added = await reqA('POST', '/things/configs', {
      token,
      body: { external_id: externalId, external_key: 'ek', channels: [channel], content: 'v1' },
    });
    assert.equal(added.status, 201, added.text);
    const configId = added.headers.get('location')!.split('/').pop()!;
    const fetchOnB = () =>
      reqB('GET', `/things/bootstrap/${externalId}`, { headers: { authorization: 'ek' } });
    assert.equal((await fetchOnB()).json.content, 'v1', 'fetched, and so cached, on B');
    const changes: [string, () => Promise<unknown>, (json: any) => boolean][] = [
      [
        'content',
        () => reqA('PUT', `/things/configs/${configId}`, { token, body: { name: 'n', content: 'v2' } }),
        (json) => json.content === 'v2',
      ],
      [
        'channel name',
        () => reqA('PUT', `/channels/${channel}`, { token, body: { name: 'renamed-on-a' } }),
        (json) => json.mainflux_channels?.[0]?.name === 'renamed-on-a',
      ],
      [
        'thing key',
        () => reqA('PATCH', `/things/${configId}/key`, { token, body: { key: 'key-set-on-a' } }),
        (json) => json.mainflux_key === 'key-set-on-a',
      ],
    ];
    for (const [what, change, seen] of changes) {
      assert.equal(seen((await fetchOnB()).json), false, `${what}: not changed yet`);
      const started = Date.now();
      await change();
      await eventually(
        `${what} changed on A, served by B within 1 s`,
        async () => seen((await fetchOnB()).json),
        {
          timeoutMs: Math.max(0, 1000 - (Date.now() - started)),
          intervalMs: 20,
        },
      );
    }
  });

  it('HTTP on A reaches MQTT subscribers on B (and on A)', async () => {
    const { channel, things } = await group(3);
    const onB = await open(b, things[1]!);
    const onA = await open(a, things[2]!);
    assert.equal(await onB.subscribe(`channels/${channel}/messages/#`), 0);
    assert.equal(await onA.subscribe(`channels/${channel}/messages/#`), 0);
    const payload = crypto.randomBytes(512);
    const reply = await reqA('POST', `/http/channels/${channel}/messages/room/1`, {
      token: things[0]!.key,
      raw: payload,
      contentType: 'application/octet-stream',
    });
    assert.equal(reply.status, 202, reply.text);
    for (const c of [onB, onA]) {
      const got = await c.waitFor((m) => m.payload.equals(payload));
      assert.equal(got.topic, `channels/${channel}/messages/room/1`);
    }
    // Exactly once each: an instance does not take its own messages back from the bus.
    await fence(
      (marker) =>
        reqA('POST', `/http/channels/${channel}/messages/room/1`, { token: things[0]!.key, raw: marker }),
      onA,
      onB,
    );
    assert.equal(onA.messages.filter((m) => m.payload.equals(payload)).length, 1);
    assert.equal(onB.messages.filter((m) => m.payload.equals(payload)).length, 1);
  });

  it('MQTT on B reaches MQTT subscribers on A, wildcards included, exactly once', async () => {
    const { channel, things } = await group(3);
    const pub = await open(b, things[0]!);
    const exact = await open(a, things[1]!);
    const wild = await open(a, things[2]!);
    assert.equal(await exact.subscribe(`channels/${channel}/messages/sensors/temp`), 0);
    assert.equal(await wild.subscribe(`channels/${channel}/messages/+/temp`), 0);
    await pub.publish(`channels/${channel}/messages/sensors/temp`, 'b-to-a', 1);
    await exact.waitFor((m) => m.payload.toString() === 'b-to-a');
    const got = await wild.waitFor((m) => m.payload.toString() === 'b-to-a');
    assert.equal(got.topic, `channels/${channel}/messages/sensors/temp`);
    await fence((marker) => pub.publish(`channels/${channel}/messages/sensors/temp`, marker, 1), exact, wild);
    assert.equal(exact.received('b-to-a').length, 1);
    assert.equal(wild.received('b-to-a').length, 1);
  });

  it("MQTT 5 properties published on B reach MQTT 5 subscribers on A; the bus envelope stays Mainflux's", async () => {
    const { channel, things } = await group(2);
    const seen = observe(`channels.${channel}.props`);
    const sub = await open(a, things[1]!, { protocolVersion: 5 });
    assert.equal(await sub.subscribe(`channels/${channel}/messages/props`, 1), 1);
    const pub = await open(b, things[0]!, { protocolVersion: 5 });
    await pub.client.publishAsync(`channels/${channel}/messages/props`, 'with-props', {
      qos: 1,
      properties: {
        contentType: 'text/plain',
        payloadFormatIndicator: true,
        messageExpiryInterval: 120,
        userProperties: { site: 'plant-a', tag: ['x', 'y'] },
      },
    });
    const got = await sub.waitFor((m) => m.payload.toString() === 'with-props');
    assert.equal(got.packet.qos, 1, 'QoS 1 crosses the bus too');
    assert.equal(got.packet.properties?.contentType, 'text/plain');
    assert.equal(got.packet.properties?.payloadFormatIndicator, true);
    assert.ok((got.packet.properties?.messageExpiryInterval ?? 0) > 100);
    assert.deepEqual({ ...got.packet.properties?.userProperties }, { site: 'plant-a', tag: ['x', 'y'] });
    await nc.flush();
    const onBus = decodeMainflux(seen.messages[0]!.data);
    assert.equal(onBus.payload.toString(), 'with-props');
    assert.equal(onBus.subtopic, 'props');
    seen.sub.unsubscribe();
  });

  it('a shared subscription group spans both instances: each message to exactly one member', async () => {
    const { channel, things } = await group(5);
    const members = [
      await open(a, things[0]!, { protocolVersion: 5 }),
      await open(a, things[1]!),
      await open(b, things[2]!, { protocolVersion: 5 }),
      await open(b, things[3]!),
    ];
    for (const [i, m] of members.entries()) {
      assert.equal(await m.subscribe(`$share/pool/channels/${channel}/messages/#`, 1), 1);
      // A group of its own on …/fence: every member gets each fence marker, by the shared path.
      assert.equal(await m.subscribe(`$share/fence-${i}/channels/${channel}/messages/fence`, 1), 1);
    }
    const pub = await open(a, things[4]!);
    const total = 60;
    for (let i = 0; i < total; i++) {
      if (i % 3 === 0) {
        const reply = await reqB('POST', `/http/channels/${channel}/messages/job`, {
          token: things[4]!.key,
          raw: `job-${i}`,
        });
        assert.equal(reply.status, 202);
      } else await pub.publish(`channels/${channel}/messages/job`, `job-${i}`, 1);
    }
    const delivered = () => members.flatMap((m) => m.messages.map((x) => x.payload.toString()));
    await eventually('every job delivered', () => new Set(delivered()).size === total);
    // Fences, one for each way in, on the path the jobs took (the bus hands a shared group's
    // messages to one instance, on its connection for groups, in the order each publisher
    // sent them): a second copy of a job would reach its member before the marker.
    await fence((marker) => pub.publish(`channels/${channel}/messages/fence`, marker, 1), ...members);
    await fence(
      (marker) =>
        reqB('POST', `/http/channels/${channel}/messages/fence`, { token: things[4]!.key, raw: marker }),
      ...members,
    );
    const all = delivered();
    assert.equal(all.length, total, `each job once: ${all.length} deliveries of ${total}`);
    const perInstance = [
      members[0]!.messages.length + members[1]!.messages.length,
      members[2]!.messages.length + members[3]!.messages.length,
    ];
    assert.ok(perInstance[0]! > 0 && perInstance[1]! > 0, `both instances served: ${perInstance}`);
  });

  it('a publish refused on B (thing not connected) reaches nobody on A or on the bus', async () => {
    const { channel, things } = await group(2);
    const [outsider] = await createThings(reqA, token, [{ name: 'outsider' }]);
    const seen = observe(`channels.${channel}.>`);
    const seenRoot = observe(`channels.${channel}`);
    await nc.flush();
    const sub = await open(a, things[0]!);
    assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
    const pub = await open(b, outsider!);
    const member = await open(b, things[1]!);
    // Its PUBACK comes once the access check refused it.
    await pub.publish(`channels/${channel}/messages/x`, 'refused', 1);
    const reply = await reqB('POST', `/http/channels/${channel}/messages/x`, {
      token: outsider!.key,
      raw: 'refused',
    });
    assert.equal(reply.status, 403, reply.text);
    // Fences: a connected thing publishes on the same paths (MQTT and HTTP on B, same
    // subject) after the refusals. B hands messages to the bus in order on one connection,
    // so a refused message that had reached it would arrive on A and at the observer first.
    const onBus = () =>
      [...seen.messages, ...seenRoot.messages].map((m) => decodeMainflux(m.data).payload.toString());
    for (const send of [
      (marker: string) => member.publish(`channels/${channel}/messages/x`, marker, 1),
      (marker: string) =>
        reqB('POST', `/http/channels/${channel}/messages/x`, { token: things[1]!.key, raw: marker }),
    ]) {
      const marker = `marker-${crypto.randomUUID()}`;
      await send(marker);
      await sub.waitFor((m) => m.payload.toString() === marker);
      await eventually(`${marker} on the bus`, () => onBus().includes(marker));
    }
    assert.equal(sub.received('refused').length, 0);
    assert.deepEqual(
      onBus().filter((p) => !p.startsWith('marker-')),
      [],
      'only the markers crossed the bus',
    );
    seen.sub.unsubscribe();
    seenRoot.sub.unsubscribe();
    assert.equal(pub.closed, false);
  });

  it('subtopics cross instances as they do on one: levels, dots, and a lone * or >', async () => {
    const { channel, things } = await group(2);
    const sub = await open(b, things[1]!);
    assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
    for (const [path, topic] of [
      ['a/b/c', 'a/b/c'],
      ['a.b', 'a/b'],
      ['x/*/y', 'x/*/y'],
      ['x/>', 'x/>'],
    ]) {
      const payload = `sub-${path}`;
      const reply = await reqA('POST', `/http/channels/${channel}/messages/${path}`, {
        token: things[0]!.key,
        raw: payload,
      });
      assert.equal(reply.status, 202, reply.text);
      const got = await sub.waitFor((m) => m.payload.toString() === payload);
      assert.equal(got.topic, `channels/${channel}/messages/${topic}`);
    }
  });

  describe('a revocation made on A closes sessions on B within 1 s', () => {
    async function watched() {
      const { channel, things } = await group(2);
      const sub = await open(b, things[0]!);
      const pub = await open(b, things[1]!);
      assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
      // Warm B's access cache for the subscriber: its HTTP publish is accepted.
      const warm = await reqB('POST', `/http/channels/${channel}/messages`, {
        token: things[0]!.key,
        raw: 'warm',
      });
      assert.equal(warm.status, 202, warm.text);
      await sub.waitFor((m) => m.payload.toString() === 'warm');
      return { channel, subThing: things[0]!, pubThing: things[1]!, sub, pub };
    }

    async function assertClosedOnB(w: Awaited<ReturnType<typeof watched>>, started: number) {
      assert.ok(await w.sub.closedWithin(1000 - (Date.now() - started)), 'session on B closed within 1 s');
      // B's access cache followed: the thing's key is refused there within the same second.
      const status = async () =>
        (await reqB('POST', `/http/channels/${w.channel}/messages`, { token: w.subThing.key, raw: 'late' }))
          .status;
      await eventually('the key refused on B within 1 s', async () => (await status()) === 403, {
        timeoutMs: Math.max(0, 1000 - (Date.now() - started)),
        intervalMs: 20,
      });
      assert.equal(w.pub.closed, false, 'other sessions stay');
    }

    it('disconnect', async () => {
      const w = await watched();
      const started = Date.now();
      const reply = await reqA('DELETE', `/channels/${w.channel}/things/${w.subThing.id}`, { token });
      assert.equal(reply.status, 204, reply.text);
      await assertClosedOnB(w, started);
      const again = await open(b, w.subThing);
      assert.equal(await again.subscribe(`channels/${w.channel}/messages`), 128);
    });

    it('key change', async () => {
      const w = await watched();
      const started = Date.now();
      const reply = await reqA('PATCH', `/things/${w.subThing.id}/key`, {
        token,
        body: { key: crypto.randomUUID() },
      });
      assert.equal(reply.status, 200, reply.text);
      await assertClosedOnB(w, started);
    });

    it('thing removal', async () => {
      const w = await watched();
      const started = Date.now();
      const reply = await reqA('DELETE', `/things/${w.subThing.id}`, { token });
      assert.equal(reply.status, 204, reply.text);
      await assertClosedOnB(w, started);
    });
  });

  describe('the bus speaks Mainflux protobuf on channels.<id>[.<subtopic>]', () => {
    it('a raw NATS subscriber on channels.> decodes HTTP and MQTT messages', async () => {
      const { channel, things } = await group(2);
      const seen = observe('channels.>');
      await nc.flush();
      const t0 = BigInt(Date.now()) * 1_000_000n;
      const payload = Buffer.from(JSON.stringify([{ n: 'temp', v: 21.5 }]));
      const reply = await reqA('POST', `/http/channels/${channel}/messages/a/b`, {
        token: things[0]!.key,
        raw: payload,
        contentType: 'application/senml+json',
      });
      assert.equal(reply.status, 202, reply.text);
      const pub = await open(b, things[1]!);
      const bytes = crypto.randomBytes(300);
      await pub.publish(`channels/${channel}/messages`, bytes, 1);

      const mine = () => seen.messages.filter((m) => m.subject.startsWith(`channels.${channel}`));
      await eventually('both messages on the bus', () => mine().length >= 2, {
        timeoutMs: 5000,
        intervalMs: 20,
      });
      const t1 = BigInt(Date.now()) * 1_000_000n;
      seen.sub.unsubscribe();
      const [http, mqtt] = mine();
      assert.ok(http && mqtt, `two messages on the bus, got ${mine().length}`);

      assert.equal(http.subject, `channels.${channel}.a.b`);
      const h = decodeMainflux(http.data);
      assert.equal(h.channel, channel);
      assert.equal(h.subtopic, 'a.b');
      assert.equal(h.publisher, things[0]!.id);
      assert.equal(h.protocol, 'http');
      assert.ok(h.payload.equals(payload));
      assert.ok(
        h.created >= t0 - 1_000_000_000n && h.created <= t1 + 1_000_000_000n,
        `created ${h.created} is now in unix ns`,
      );

      assert.equal(mqtt.subject, `channels.${channel}`);
      const m = decodeMainflux(mqtt.data);
      assert.equal(m.channel, channel);
      assert.equal(m.subtopic, '');
      assert.equal(m.publisher, things[1]!.id);
      assert.equal(m.protocol, 'mqtt');
      assert.ok(m.payload.equals(bytes));
      assert.ok(m.created >= h.created, 'created grows');
    });

    it('a Mainflux-style publisher on NATS reaches MQTT subscribers on both instances', async () => {
      const { channel, things } = await group(2);
      const onA = await open(a, things[0]!);
      const onB = await open(b, things[1]!);
      for (const c of [onA, onB]) assert.equal(await c.subscribe(`channels/${channel}/messages/#`), 0);
      const payload = Buffer.from('from-a-mainflux-service');
      const data = writeProto({
        channel,
        subtopic: 'x.y',
        publisher: things[0]!.id,
        protocol: 'coap',
        payload,
        created: BigInt(Date.now()) * 1_000_000n,
      });
      nc.publish(`channels.${channel}.x.y`, data);
      await nc.flush();
      for (const c of [onA, onB]) {
        const got = await c.waitFor((msg) => msg.payload.equals(payload));
        assert.equal(got.topic, `channels/${channel}/messages/x/y`);
      }
      // Bytes that are not a message are ignored; the instances carry on.
      nc.publish(`channels.${channel}`, Buffer.from([0xff, 0xff, 0xff]));
      await nc.flush();
      const reply = await reqB('POST', `/http/channels/${channel}/messages`, {
        token: things[1]!.key,
        raw: 'after-garbage',
      });
      assert.equal(reply.status, 202);
      await onA.waitFor((msg) => msg.payload.toString() === 'after-garbage');
    });

    it('a message too large for the bus is refused (HTTP 413, MQTT closed), never a 5xx or a crash', async () => {
      // nats-server's default max_payload is 1 MiB, as is TETHYS_MQTT_MAX_PAYLOAD's default:
      // with its envelope, a 1 MiB payload does not fit on the bus.
      const limit = 1024 * 1024;
      const { channel, things } = await group(2);
      const sub = await open(a, things[1]!);
      assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
      const big = await reqA('POST', `/http/channels/${channel}/messages/big`, {
        token: things[0]!.key,
        raw: Buffer.alloc(limit, 1),
        contentType: 'application/octet-stream',
      });
      assert.equal(big.status, 413, big.text);
      assert.equal(typeof big.json?.error, 'string');
      const pub = await open(b, things[0]!);
      pub.client.publish(`channels/${channel}/messages/big-mqtt`, Buffer.alloc(limit, 2), { qos: 1 });
      assert.ok(await pub.closedWithin(3000), 'the oversize publisher is disconnected');
      // Somewhat smaller messages cross instances both ways.
      const fits = crypto.randomBytes(limit - 4096);
      const ok = await reqB('POST', `/http/channels/${channel}/messages/fits`, {
        token: things[0]!.key,
        raw: fits,
        contentType: 'application/octet-stream',
      });
      assert.equal(ok.status, 202, ok.text);
      const got = await sub.waitFor((m) => m.topic.endsWith('/fits'));
      assert.ok(got.payload.equals(fits));
      await fence(
        (marker) =>
          reqB('POST', `/http/channels/${channel}/messages/fits`, { token: things[0]!.key, raw: marker }),
        sub,
      );
      assert.equal(
        sub.messages.filter((m) => m.topic.endsWith('/big') || m.topic.endsWith('/big-mqtt')).length,
        0,
      );
      assert.equal((await fetch(`${a.url}/version`)).status, 200);
      assert.equal((await fetch(`${b.url}/version`)).status, 200);
    });
  });
});

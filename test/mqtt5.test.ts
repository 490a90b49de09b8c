import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type net from 'node:net';
import { before, describe, it } from 'node:test';
import mqtt, {
  type IClientOptions,
  type IConnackPacket,
  type IDisconnectPacket,
  type MqttClient,
} from 'mqtt';
import { connect, connectedGroup, createChannel, createThings, type ThingView } from './helpers/entities.js';
import { connectThing, mqttUrl, settle, TestClient } from './helpers/mqtt.js';
import { client, dialect, startServer, userToken, withServer } from './helpers/server.js';
import { clockPast, eventually } from './helpers/wait.js';

/**
 * MQTT 5 (issue 17): reason codes for every refusal, what CONNACK advertises, properties
 * forwarded, sessions that outlive their connection (expiry, a bounded queue, message
 * expiry), wills with a delay, topic aliases, shared subscriptions, no-local, QoS 2 in.
 */
const topic = (channel: string, sub?: string) => `channels/${channel}/messages${sub ? `/${sub}` : ''}`;
const unique = (p: string) => `${p}-${crypto.randomBytes(4).toString('hex')}`;

describe(`MQTT 5 (${dialect})`, { timeout: 90_000 }, () => {
  const fixture = withServer(
    { TETHYS_MQTT_QUEUE_MAX: '3' },
    {
      beforeClose: async () => {
        await Promise.all(clients.map((c) => c.end()));
        for (const c of raw) c.end(true);
      },
    },
  );
  const { request } = fixture;
  let token: string;
  let url: string;
  const clients: TestClient[] = [];
  const raw: MqttClient[] = [];

  before(async () => {
    token = (await userToken(request)).token;
    url = mqttUrl(fixture.server.app);
  });

  async function open(thing: ThingView, extra: IClientOptions = {}): Promise<TestClient> {
    const c = await connectThing(url, thing, { protocolVersion: 5, ...extra });
    clients.push(c);
    return c;
  }

  /**
   * Connects as `open` does, but listens for messages before the CONNACK: a resumed session's
   * queue arrives right behind it. Resolves with the client and the CONNACK.
   */
  async function resume(
    thing: ThingView,
    extra: IClientOptions,
  ): Promise<{ c: TestClient; ack: IConnackPacket }> {
    const raw = mqtt.connect(url, {
      protocolVersion: 5,
      username: thing.id,
      password: thing.key,
      reconnectPeriod: 0,
      ...extra,
    });
    const c = new TestClient(raw);
    clients.push(c);
    const ack = await new Promise<IConnackPacket>((resolve) => raw.once('connect', resolve));
    return { c, ack };
  }

  const group = (n: number) => connectedGroup(request, token, n);

  /** The CONNACK of a v5 CONNECT, whatever it says, with the connection then ended. */
  function connack(options: IClientOptions): Promise<IConnackPacket> {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...options,
      });
      c.on('error', () => {});
      c.on('packetreceive', (p) => {
        if (p.cmd === 'connack') {
          c.end(true);
          resolve(p as IConnackPacket);
        }
      });
      c.on('close', () => reject(new Error('closed without a CONNACK')));
    });
  }

  /** The DISCONNECT the server sends a client, or null if it closes without one within `ms`. */
  function disconnectOf(c: MqttClient, ms = 3000): Promise<IDisconnectPacket | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      c.once('disconnect', (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
  }

  describe('CONNECT', () => {
    it('CONNACK advertises what Tethys supports', async () => {
      const { things } = await group(1);
      const ack = await connack({ username: things[0]!.id, password: things[0]!.key, clientId: unique('c') });
      assert.equal(ack.reasonCode, 0);
      assert.equal(ack.properties?.retainAvailable, false);
      assert.ok((ack.properties?.maximumPacketSize ?? 0) > 1_000_000);
      assert.equal(ack.properties?.topicAliasMaximum, 64);
      assert.equal(ack.properties?.sharedSubscriptionAvailable, true);
      assert.equal(ack.properties?.wildcardSubscriptionAvailable, true);
      assert.equal(ack.properties?.subscriptionIdentifiersAvailable, false);
    });

    it('0x86 for a wrong key, 0x87 for a certificate-less login without a key', async () => {
      const { things } = await group(1);
      const wrong = await connack({ username: things[0]!.id, password: 'nope', clientId: unique('c') });
      assert.equal(wrong.reasonCode, 0x86);
      const none = await connack({ username: things[0]!.id, clientId: unique('c') });
      assert.equal(none.reasonCode, 0x86);
    });

    it('an empty client id is assigned one', async () => {
      const { things } = await group(1);
      const ack = await connack({ username: things[0]!.id, password: things[0]!.key, clientId: '' });
      assert.equal(ack.reasonCode, 0);
      assert.match(ack.properties?.assignedClientIdentifier ?? '', /^tethys-/);
    });

    it('0x9F once a thing has been guessed at too often from an address', async () => {
      const { things } = await group(1);
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await connack({ username: things[0]!.id, password: `bad-${i}`, clientId: unique('g') }))
            .reasonCode,
          0x86,
        );
      }
      const held = await connack({
        username: things[0]!.id,
        password: things[0]!.key,
        clientId: unique('g'),
      });
      assert.equal(held.reasonCode, 0x9f);
    });
  });

  describe('refusals keep the connection and say why', () => {
    it('PUBACK 0x87 for a channel the thing is not connected to, 0x90 for a topic outside channels; then a publish works', async () => {
      const { channel, things } = await group(2);
      const other = await createChannel(request, token, { name: 'other' });
      const listener = await open(things[1]!);
      assert.equal(await listener.subscribe(topic(channel)), 0);
      const pub = await open(things[0]!);
      await assert.rejects(
        pub.publish(topic(other.id), 'nope', 1),
        (err: Error & { code?: number }) => err.code === 0x87,
      );
      await assert.rejects(
        pub.publish('elsewhere/x', 'nope', 1),
        (err: Error & { code?: number }) => err.code === 0x90,
      );
      assert.equal(pub.closed, false);
      await pub.publish(topic(channel), 'yes', 1);
      await listener.waitFor((m) => m.payload.toString() === 'yes');
      assert.equal(listener.received('nope').length, 0);
    });

    it('SUBACK carries a reason per filter: granted, 0x87 not authorized, 0x8F invalid', async () => {
      const { channel, things } = await group(1);
      const other = await createChannel(request, token, { name: 'other' });
      const c = await open(things[0]!);
      const granted = await new Promise<number[]>((resolve, reject) => {
        c.client.subscribe(
          {
            [topic(channel, '#')]: { qos: 1 },
            [topic(other.id)]: { qos: 0 },
            'channels/+/messages': { qos: 0 },
          },
          (err, _g, packet) => (packet ? resolve(packet.granted as number[]) : reject(err)),
        );
      });
      assert.deepEqual(granted, [1, 0x87, 0x8f]);
    });

    it('a packet over the limit: DISCONNECT 0x95', async () => {
      const small = await startServer({ TETHYS_MQTT_MAX_PAYLOAD: '1024' });
      try {
        const r = client(small.url);
        const t = (await userToken(r)).token;
        const [thing] = await createThings(r, t, [{ name: 'big' }]);
        const ch = await createChannel(r, t, { name: 'c' });
        await connect(r, t, [ch.id], [thing!.id]);
        const c = await mqtt.connectAsync(mqttUrl(small.app), {
          protocolVersion: 5,
          username: thing!.id,
          password: thing!.key,
          reconnectPeriod: 0,
        });
        c.on('error', () => {});
        const disconnect = disconnectOf(c);
        c.publish(topic(ch.id), Buffer.alloc(8192, 1), { qos: 0 });
        assert.equal((await disconnect)?.reasonCode, 0x95);
        c.end(true);
      } finally {
        await small.close();
      }
    });
  });

  describe('the server ends a session with a reason', () => {
    it('0x87 when the thing is disconnected from the channel, its key changes or it is deleted; 0x8E when taken over', async () => {
      const { channel, things } = await group(4);
      const opts = (t: ThingView) => ({
        username: t.id,
        password: t.key,
        protocolVersion: 5 as const,
        reconnectPeriod: 0,
      });
      const a = await mqtt.connectAsync(url, opts(things[0]!));
      const b = await mqtt.connectAsync(url, opts(things[1]!));
      const d = await mqtt.connectAsync(url, opts(things[2]!));
      const id = unique('takeover');
      const first = await mqtt.connectAsync(url, { ...opts(things[3]!), clientId: id });
      for (const c of [a, b, d, first]) {
        c.on('error', () => {});
        raw.push(c);
      }
      const da = disconnectOf(a);
      assert.equal(
        (await request('DELETE', `/channels/${channel}/things/${things[0]!.id}`, { token })).status,
        204,
      );
      const pa = await da;
      assert.equal(pa?.reasonCode, 0x87);
      assert.match(pa?.properties?.reasonString ?? '', /disconnected/);
      const db = disconnectOf(b);
      assert.equal(
        (
          await request('PATCH', `/things/${things[1]!.id}/key`, {
            token,
            body: { key: crypto.randomUUID() },
          })
        ).status,
        200,
      );
      assert.equal((await db)?.reasonCode, 0x87);
      const dd = disconnectOf(d);
      assert.equal((await request('DELETE', `/things/${things[2]!.id}`, { token })).status, 204);
      assert.equal((await dd)?.reasonCode, 0x87);
      const dt = disconnectOf(first);
      const second = await mqtt.connectAsync(url, { ...opts(things[3]!), clientId: id });
      raw.push(second);
      assert.equal((await dt)?.reasonCode, 0x8e);
    });

    it('0x8B when the server shuts down', async () => {
      const other = await startServer();
      const r = client(other.url);
      const t = (await userToken(r)).token;
      const [thing] = await createThings(r, t, [{ name: 'x' }]);
      const c = await mqtt.connectAsync(mqttUrl(other.app), {
        protocolVersion: 5,
        username: thing!.id,
        password: thing!.key,
        reconnectPeriod: 0,
      });
      c.on('error', () => {});
      const d = disconnectOf(c);
      await other.close();
      assert.equal((await d)?.reasonCode, 0x8b);
      c.end(true);
    });
  });

  describe('properties', () => {
    it('user properties, content type and payload format reach MQTT 5 subscribers; MQTT 3.1.1 subscribers get the message', async () => {
      const { channel, things } = await group(3);
      const v5 = await open(things[0]!);
      const v4 = await connectThing(url, things[1]!);
      clients.push(v4);
      await v5.subscribe(topic(channel));
      await v4.subscribe(topic(channel));
      const pub = await open(things[2]!);
      await new Promise<void>((resolve, reject) =>
        pub.client.publish(
          topic(channel),
          '{"t":21}',
          {
            qos: 1,
            properties: {
              contentType: 'application/json',
              payloadFormatIndicator: true,
              userProperties: { site: 'plant-a', line: ['3', '4'] },
            },
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const got = await v5.waitFor((m) => m.payload.toString() === '{"t":21}');
      assert.equal(got.packet.properties?.contentType, 'application/json');
      assert.equal(got.packet.properties?.payloadFormatIndicator, true);
      assert.deepEqual({ ...got.packet.properties?.userProperties }, { site: 'plant-a', line: ['3', '4'] });
      const plain = await v4.waitFor((m) => m.payload.toString() === '{"t":21}');
      assert.equal(plain.packet.properties, undefined);
    });

    it('topic aliases: a publish by alias reaches the aliased topic', async () => {
      const { channel, things } = await group(2);
      const sub = await open(things[0]!);
      await sub.subscribe(topic(channel, '#'));
      const pub = await open(things[1]!);
      await pub.client.publishAsync(topic(channel, 'a'), 'one', { qos: 1, properties: { topicAlias: 5 } });
      await pub.client.publishAsync('', 'two', { qos: 1, properties: { topicAlias: 5 } });
      const two = await sub.waitFor((m) => m.payload.toString() === 'two');
      assert.equal(two.topic, topic(channel, 'a'));
    });

    it('no-local: a subscription with it does not get its own messages; one without does', async () => {
      const { channel, things } = await group(1);
      const c = await open(things[0]!);
      await new Promise<void>((resolve) =>
        c.client.subscribe(topic(channel, 'nl'), { qos: 0, nl: true }, () => resolve()),
      );
      await c.subscribe(topic(channel, 'all'));
      await c.publish(topic(channel, 'nl'), 'mine', 1);
      await c.publish(topic(channel, 'all'), 'mine-too', 1);
      await c.waitFor((m) => m.payload.toString() === 'mine-too');
      await settle(c);
      assert.equal(c.received('mine').length, 0);
    });

    it('QoS 2 in: PUBREC and PUBCOMP, delivered once', async () => {
      const { channel, things } = await group(2);
      const sub = await open(things[0]!);
      await sub.subscribe(topic(channel), 1);
      const pub = await open(things[1]!);
      await new Promise<void>((resolve, reject) =>
        pub.client.publish(topic(channel), 'exactly-once', { qos: 2 }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      await sub.waitFor((m) => m.payload.toString() === 'exactly-once');
      await settle(sub);
      assert.equal(sub.received('exactly-once').length, 1);
    });
  });

  describe('sessions', () => {
    it('a session with an expiry keeps its subscriptions and up to the queue bound (the oldest go), and sessionPresent says so', async () => {
      const { channel, things } = await group(2);
      const id = unique('persistent');
      const extra = { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } };
      const first = await open(things[0]!, extra);
      await first.subscribe(topic(channel), 1);
      await first.end();
      const pub = await open(things[1]!);
      for (let i = 1; i <= 5; i++) await pub.publish(topic(channel), `queued-${i}`, 1);
      const { c: again, ack } = await resume(things[0]!, extra);
      assert.equal(ack.sessionPresent, true);
      await again.waitFor((m) => m.payload.toString() === 'queued-5');
      await settle(again);
      assert.deepEqual(
        again.messages.map((m) => m.payload.toString()),
        ['queued-3', 'queued-4', 'queued-5'],
        'the queue bound (3) keeps the newest',
      );
    });

    it('a session without an expiry ends with its connection', async () => {
      const { things } = await group(1);
      const id = unique('gone');
      const first = await open(things[0]!, {
        clientId: id,
        clean: false,
        properties: { sessionExpiryInterval: 0 },
      });
      await first.end();
      const ack = await connack({
        username: things[0]!.id,
        password: things[0]!.key,
        clientId: id,
        clean: false,
      });
      assert.equal(ack.sessionPresent, false);
    });

    it('message expiry: a queued message past its expiry is not delivered', async () => {
      const { channel, things } = await group(2);
      const id = unique('expiry');
      const extra = { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } };
      const first = await open(things[0]!, extra);
      await first.subscribe(topic(channel), 1);
      await first.end();
      const pub = await open(things[1]!);
      const published = Date.now();
      await pub.client.publishAsync(topic(channel), 'short-lived', {
        qos: 1,
        properties: { messageExpiryInterval: 1 },
      });
      await pub.client.publishAsync(topic(channel), 'long-lived', {
        qos: 1,
        properties: { messageExpiryInterval: 60 },
      });
      // The subject is time: past the 1 s expiry, counted in whole seconds (so 2 s).
      await clockPast(published + 2000);
      const { c: again } = await resume(things[0]!, extra);
      const kept = await again.waitFor((m) => m.payload.toString() === 'long-lived');
      assert.ok((kept.packet.properties?.messageExpiryInterval ?? 0) <= 58);
      await settle(again);
      assert.equal(again.received('short-lived').length, 0);
    });

    it('a will with a delay is published after it, unless the client is back first', async () => {
      const { channel, things } = await group(2);
      const watcher = await open(things[0]!);
      await watcher.subscribe(topic(channel, 'status'));
      const willOf = (payload: string) => ({
        clientId: unique('w'),
        properties: { sessionExpiryInterval: 30 },
        will: {
          topic: topic(channel, 'status'),
          payload: Buffer.from(payload),
          qos: 0 as const,
          retain: false,
          properties: { willDelayInterval: 1 },
        },
      });
      // Dropped without DISCONNECT: the will comes after its delay.
      const dropped = await open(things[1]!, willOf('gone'));
      const cut = Date.now();
      (dropped.client as unknown as { stream: net.Socket }).stream.destroy();
      await watcher.waitFor((m) => m.payload.toString() === 'gone', 5000);
      assert.ok(Date.now() - cut >= 900, `will after ${Date.now() - cut} ms`);
      // Back within the delay: no will.
      const options = willOf('never');
      const back = await open(things[1]!, options);
      (back.client as unknown as { stream: net.Socket }).stream.destroy();
      await open(things[1]!, {
        clientId: options.clientId,
        clean: false,
        properties: { sessionExpiryInterval: 30 },
      });
      // Fence on the will timers: a client dropped now with the same 1 s delay has its will
      // published after the one above would have been (timers of one length fire in the
      // order they were set, and both wills take the same path to the watcher).
      const later = await open(things[1]!, willOf('after-never'));
      (later.client as unknown as { stream: net.Socket }).stream.destroy();
      await watcher.waitFor((m) => m.payload.toString() === 'after-never', 5000);
      assert.equal(watcher.received('never').length, 0);
    });

    it('DISCONNECT with 0x04 publishes the will; a plain DISCONNECT does not', async () => {
      const { channel, things } = await group(3);
      const watcher = await open(things[0]!);
      await watcher.subscribe(topic(channel, 'bye'));
      const will = (payload: string) => ({
        will: { topic: topic(channel, 'bye'), payload: Buffer.from(payload), qos: 0 as const, retain: false },
      });
      const connections = async () =>
        Number(/^tethys_mqtt_connections (\d+)/m.exec((await request('GET', '/metrics')).text)?.[1]);
      const asked = await open(things[1]!, will('asked'));
      const plain = await open(things[2]!, will('plain'));
      const open2 = await connections();
      await new Promise<void>((resolve) => plain.client.end(false, {}, () => resolve()));
      await new Promise<void>((resolve) => asked.client.end(false, { reasonCode: 4 }, () => resolve()));
      // Both sessions ended on the server: the plain DISCONNECT was read, and its will dropped with it.
      await eventually('both sessions ended', async () => (await connections()) === open2 - 2);
      await watcher.waitFor((m) => m.payload.toString() === 'asked');
      await settle(watcher);
      assert.equal(watcher.received('plain').length, 0);
    });
  });

  describe('shared subscriptions', () => {
    it('$share/<group>/… spreads a channel over its members; a plain subscriber gets everything', async () => {
      const { channel, things } = await group(4);
      const members = [await open(things[0]!), await open(things[1]!)];
      for (const m of members) assert.equal(await m.subscribe(`$share/workers/${topic(channel, '#')}`, 1), 1);
      const all = await open(things[2]!);
      await all.subscribe(topic(channel, '#'));
      const pub = await open(things[3]!);
      for (let i = 0; i < 20; i++) await pub.publish(topic(channel, 'job'), `job-${i}`, 1);
      await all.waitFor((m) => m.payload.toString() === 'job-19');
      await eventually(
        'every job handed out',
        () => members.reduce((n, m) => n + m.messages.length, 0) >= 20,
      );
      await settle(...members);
      const counts = members.map((m) => m.messages.length);
      assert.equal(counts[0]! + counts[1]!, 20, `each job once: ${counts}`);
      assert.ok(counts[0]! > 0 && counts[1]! > 0, `both members served: ${counts}`);
    });

    it('a member not connected to the channel is refused at SUBSCRIBE', async () => {
      const { channel } = await group(1);
      const [stranger] = await createThings(request, token, [{ name: 'stranger' }]);
      const c = await open(stranger!);
      assert.equal(await c.subscribe(`$share/g/${topic(channel)}`), 0x87);
    });
  });
});

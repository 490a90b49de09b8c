import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { before, describe, it } from 'node:test';
import { connect, createChannel, createThings, type ThingView } from './helpers/entities.js';
import { connectThing, mqttUrl, settle, sleep, type TestClient } from './helpers/mqtt.js';
import { dialect, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

const MAX_PAYLOAD = 64 * 1024;

// MQTT 3.1.1 packets written by hand, so nothing on the client side refuses to send them.

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

const str = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

const packet = (first: number, body: Buffer) =>
  Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);

function connectPacket(username: string, password: string, clientId = '', keepalive = 60): Buffer {
  const head = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, 0x80 | 0x40 | 0x02, keepalive >> 8, keepalive & 0xff]),
  ]);
  return packet(0x10, Buffer.concat([head, str(clientId), str(username), str(password)]));
}

const subscribePacket = (id: number, topic: string) =>
  packet(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), str(topic), Buffer.from([0])]));

const publishPacket = (topic: string, payload: string | Buffer) =>
  packet(0x30, Buffer.concat([str(topic), Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]));

/**
 * A raw TCP connection to the broker: what it answered and when it closed.
 */
class RawConnection {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  closedAt: number | null = null;
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]).subarray(-4096);
    });
    this.socket.on('error', () => {});
    this.opened = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => {
        this.closedAt = Date.now();
        resolve();
      }),
    );
  }

  write(data: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** True when the server closed the connection within `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Hostile or broken MQTT input: garbage bytes, oversize packets, invalid topics, and a
 * flood of wrong passwords. Each closes or refuses only the offending connection; the
 * broker stays up, a legitimate subscriber keeps receiving, HTTP keeps answering.
 */
describe(`MQTT broker under bad input (${dialect})`, { timeout: 90_000 }, () => {
  const fixture = withServer(
    { TETHYS_MQTT_MAX_PAYLOAD: String(MAX_PAYLOAD) },
    {
      beforeClose: async () => {
        for (const r of raws) r.destroy();
        await sub?.end();
        await pub?.end();
      },
    },
  );
  const { request } = fixture;
  let token: string;
  let port: number;
  let channel: string;
  let things: ThingView[];
  let sub: TestClient;
  let pub: TestClient;
  const raws: RawConnection[] = [];

  before(async () => {
    token = (await userToken(request)).token;
    port = fixture.server.app.mqtt.ports.mqtt!;
    things = await createThings(request, token, [{ name: 'sub' }, { name: 'pub' }, { name: 'spare' }]);
    channel = (await createChannel(request, token, { name: 'c' })).id;
    await connect(
      request,
      token,
      [channel],
      things.map((t) => t.id),
    );
    sub = await connectThing(mqttUrl(fixture.server.app), things[0]!);
    pub = await connectThing(mqttUrl(fixture.server.app), things[1]!);
    assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
  });

  function raw(): RawConnection {
    const r = new RawConnection(port);
    raws.push(r);
    return r;
  }

  /** The legitimate pair still works: a fresh message goes from pub to sub. */
  async function stillDelivers(): Promise<void> {
    const payload = `alive-${crypto.randomBytes(4).toString('hex')}`;
    await pub.publish(`channels/${channel}/messages/alive`, payload, 1);
    await sub.waitFor((m) => m.payload.toString() === payload, 5000);
    assert.equal(sub.closed, false);
    assert.equal(pub.closed, false);
  }

  async function httpAnswers(): Promise<void> {
    const res = await fetch(`${fixture.server.url}/version`);
    assert.equal(res.status, 200);
    await res.text();
  }

  describe('malformed packets close only their connection', () => {
    const cases: [string, () => Buffer][] = [
      // More than the largest packet the broker takes (TETHYS_MQTT_MAX_PAYLOAD + 1 KiB): whatever
      // length the first random header announces, that packet is refused or arrives whole.
      // (With 4 KiB, a header announcing 5–65 KiB left the broker rightly waiting for the rest.)
      ['random bytes', () => crypto.randomBytes(4 * MAX_PAYLOAD)],
      ['an HTTP request', () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
      ['a PUBLISH before CONNECT', () => publishPacket('channels/x/messages', 'early')],
      ['a remaining length of five bytes', () => Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0])],
      [
        'a CONNECT with an unknown protocol name',
        () => packet(0x10, Buffer.concat([str('MQXX'), Buffer.from([4, 2, 0, 60]), str('')])),
      ],
      [
        'a CONNECT with protocol level 9',
        () => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([9, 2, 0, 60]), str('')])),
      ],
      [
        'a CONNECT whose strings overrun the packet',
        () => packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60, 0xff, 0xff])])),
      ],
      ['a reserved packet type', () => Buffer.from([0xf0, 0x00])],
    ];
    for (const [label, bytes] of cases) {
      it(label, async () => {
        const r = raw();
        await r.opened;
        await r.write(bytes());
        assert.ok(await r.closedWithin(3000), `${label}: connection closed`);
        // Nothing but possibly a refusing CONNACK came back.
        assert.ok(
          r.received.length === 0 || r.received[0] === 0x20,
          `${label}: answered ${r.received.toString('hex')}`,
        );
      });
    }

    it('a second CONNECT on an open session closes it', async () => {
      const r = raw();
      await r.opened;
      await r.write(
        connectPacket(things[2]!.id, things[2]!.key, `dup-${crypto.randomBytes(3).toString('hex')}`),
      );
      await eventually('the CONNACK', () => r.received.length >= 4 || r.closedAt !== null);
      assert.deepEqual([...r.received.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'first CONNECT accepted');
      await r.write(connectPacket(things[2]!.id, things[2]!.key));
      assert.ok(await r.closedWithin(3000));
    });

    it('CONNECT, SUBSCRIBE and PINGREQ in one write are all answered, CONNACK first', async () => {
      const r = raw();
      await r.opened;
      const t = things[2]!;
      await r.write(
        Buffer.concat([
          connectPacket(t.id, t.key, `burst-${crypto.randomBytes(3).toString('hex')}`),
          subscribePacket(7, `channels/${channel}/messages`),
          Buffer.from([0xc0, 0x00]),
        ]),
      );
      // CONNACK (4 bytes), SUBACK (5) and PINGRESP (2).
      await eventually('three answers', () => r.received.length >= 11 || r.closedAt !== null);
      const bytes = [...r.received];
      assert.deepEqual(bytes.slice(0, 4), [0x20, 0x02, 0x00, 0x00], 'CONNACK 0 first');
      // MQTT orders only PUBACKs; the SUBACK waits for the access check, PINGRESP does not.
      const rest = Buffer.from(bytes.slice(4)).toString('hex');
      const suback = '9003000700';
      const pingresp = 'd000';
      assert.ok(
        rest === suback + pingresp || rest === pingresp + suback,
        `SUBACK granting QoS 0 and PINGRESP, got ${rest}`,
      );
      assert.equal(await r.closedWithin(100), false);
      r.destroy();
    });

    it('a client silent past 1.5 × its keep-alive is disconnected; one that pings is not', async () => {
      const t = things[2]!;
      const silent = raw();
      const pinging = raw();
      await Promise.all([silent.opened, pinging.opened]);
      await silent.write(connectPacket(t.id, t.key, `silent-${crypto.randomBytes(3).toString('hex')}`, 1));
      await pinging.write(connectPacket(t.id, t.key, `pinging-${crypto.randomBytes(3).toString('hex')}`, 1));
      const timer = setInterval(() => void pinging.write(Buffer.from([0xc0, 0x00])), 500);
      try {
        assert.ok(await silent.closedWithin(3000), 'the silent client is closed');
        assert.equal(await pinging.closedWithin(500), false, 'the pinging client stays');
      } finally {
        clearInterval(timer);
        pinging.destroy();
      }
    });

    it('a refused CONNECT with a SUBSCRIBE behind it: CONNACK 4, closed, no SUBACK', async () => {
      const r = raw();
      await r.opened;
      const t = things[2]!;
      await r.write(
        Buffer.concat([connectPacket(t.id, 'wrong-key'), subscribePacket(8, `channels/${channel}/messages`)]),
      );
      assert.ok(await r.closedWithin(3000));
      assert.deepEqual([...r.received], [0x20, 0x02, 0x00, 0x04]);
    });

    it('the broker is still up', async () => {
      await stillDelivers();
      await httpAnswers();
    });
  });

  describe('oversize packets', () => {
    it('a CONNECT announcing 300 MB is closed at once, before it is buffered', async () => {
      const before = process.memoryUsage().rss;
      const r = raw();
      await r.opened;
      const started = Date.now();
      await r.write(Buffer.concat([Buffer.from([0x10]), remainingLength(300 * 1024 * 1024)]));
      // Keep sending until the server hangs up; it must not wait for 300 MB.
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      let sent = 0;
      while (r.closedAt === null && sent < 64 * 1024 * 1024 && Date.now() - started < 3000) {
        await Promise.race([r.write(chunk), r.closed]);
        sent += chunk.length;
      }
      assert.ok(await r.closedWithin(1000), 'closed');
      assert.ok(r.closedAt! - started < 2000, `closed after ${r.closedAt! - started} ms`);
      const grown = process.memoryUsage().rss - before;
      assert.ok(grown < 100 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1024 / 1024)} MB`);
    });

    it('an authenticated PUBLISH over TETHYS_MQTT_MAX_PAYLOAD closes that connection and reaches nobody', async () => {
      const big = await connectThing(mqttUrl(fixture.server.app), things[2]!);
      const payload = Buffer.alloc(MAX_PAYLOAD + 2048, 0x42);
      big.client.publish(`channels/${channel}/messages/big`, payload, { qos: 0 });
      assert.ok(await big.closedWithin(3000), 'oversize publisher disconnected');
      await settle(sub);
      assert.equal(sub.messages.filter((m) => m.topic.endsWith('/big')).length, 0);
      // A payload at the limit still goes through.
      const atLimit = await connectThing(mqttUrl(fixture.server.app), things[2]!);
      const ok = crypto.randomBytes(MAX_PAYLOAD);
      await atLimit.publish(`channels/${channel}/messages/at-limit`, ok, 1);
      const got = await sub.waitFor((m) => m.topic.endsWith('/at-limit'));
      assert.ok(got.payload.equals(ok));
      await atLimit.end();
      await stillDelivers();
    });
  });

  describe('invalid topics', () => {
    it('subscriptions outside one channel are refused (128)', async () => {
      const r = raw();
      await r.opened;
      await r.write(
        connectPacket(things[2]!.id, things[2]!.key, `subs-${crypto.randomBytes(3).toString('hex')}`),
      );
      const topics = [
        '#',
        '+',
        '+/+/+',
        'channels/#',
        'channels/+/messages',
        'channels/+/messages/#',
        `channels/${channel}/+`,
        `channels/${channel}/#`,
        `channels/${channel}x/messages`,
        `channels/${channel}/messagesx`,
        '$SYS/x',
        '$SYS/#',
        '$tethys/dropped',
      ];
      // One SUBSCRIBE a topic, written by hand: mqtt.js would refuse to send some of these.
      for (let i = 0; i < topics.length; i++) await r.write(subscribePacket(i + 1, topics[i]!));
      await r.write(subscribePacket(100, `channels/${channel}/messages/#`));
      const subacks = () => {
        const found = new Map<number, number>();
        let buf = r.received.subarray(4); // after the CONNACK
        while (buf.length >= 5 && buf[0] === 0x90) {
          found.set(buf.readUInt16BE(2), buf[4]!);
          buf = buf.subarray(2 + buf[1]!);
        }
        return found;
      };
      await eventually(
        'a SUBACK for each or a close',
        () => subacks().size > topics.length || r.closedAt !== null,
      );
      assert.deepEqual([...r.received.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted');
      const got = subacks();
      for (let i = 0; i < topics.length; i++) assert.equal(got.get(i + 1), 128, topics[i]);
      // The same connection still gets its own channel.
      assert.equal(got.get(100), 0);
      assert.equal(r.closedAt, null);
    });

    it('malformed filters are refused or close that connection', async () => {
      for (const topic of [
        `channels/${channel}/messages/#/x`,
        `channels/${channel}/messages/a#`,
        `channels/${channel}/messages/a+`,
        '',
      ]) {
        const r = raw();
        await r.opened;
        await r.write(
          connectPacket(things[2]!.id, things[2]!.key, `bad-${crypto.randomBytes(3).toString('hex')}`),
        );
        await r.write(subscribePacket(7, topic));
        await eventually('the SUBACK or a close', () => r.received.length >= 9 || r.closedAt !== null, {
          timeoutMs: 3000,
        });
        const suback = r.received.subarray(4);
        const refused = suback.length >= 5 && suback[0] === 0x90 && suback[4] === 128;
        assert.ok(refused || r.closedAt !== null, `${JSON.stringify(topic)}: ${r.received.toString('hex')}`);
        r.destroy();
      }
      await stillDelivers();
    });

    it('publishes to invalid topics reach nobody; the broker stays up', async () => {
      const r = raw();
      await r.opened;
      await r.write(
        connectPacket(things[2]!.id, things[2]!.key, `raw-${crypto.randomBytes(3).toString('hex')}`),
      );
      await eventually('the CONNACK', () => r.received.length >= 4);
      for (const topic of [
        '$SYS/x',
        '$tethys/dropped',
        `channels/${channel}`,
        `channels/${channel}/messages/a*b`,
        `channels/${channel}/messages/x>`,
        'x',
      ]) {
        await r.write(publishPacket(topic, 'misplaced'));
      }
      // Wildcards in a PUBLISH topic are a protocol error: the broker may close the connection.
      await r.write(publishPacket(`channels/${channel}/messages/+`, 'misplaced'));
      await r.write(publishPacket('#', 'misplaced'));
      // Fence: a connection's packets are handled in order; once a later valid publish from it
      // arrives, or the broker has closed it, the ones before were handled.
      const marker = sub.waitFor((m) => m.payload.toString() === 'fence-misplaced');
      marker.catch(() => {});
      await r.write(publishPacket(`channels/${channel}/messages/fence`, 'fence-misplaced'));
      await Promise.race([r.closed, marker]);
      await settle(sub);
      assert.equal(sub.received('misplaced').length, 0);
      await stillDelivers();
    });
  });

  it('2,000 connects with wrong passwords: all refused, the subscriber keeps receiving, HTTP answers', async () => {
    const total = 2000;
    const concurrency = 20;
    const codes = new Map<string, number>();
    let stop = false;
    let sent = 0;
    // A steady stream from the legitimate publisher while the flood runs.
    const stream = (async () => {
      while (!stop) {
        await pub.publish(`channels/${channel}/messages/steady`, `steady-${sent++}`, 1);
        // Paces the load during the flood: not synchronisation.
        await sleep(25);
      }
    })();
    const baseline = fixture.server.app.mqtt.connectedClients;

    let next = 0;
    const attempt = async (i: number) => {
      const r = new RawConnection(port);
      await Promise.race([r.opened, r.closed]);
      const username = i % 2 === 0 ? things[0]!.id : crypto.randomUUID();
      await r.write(connectPacket(username, `wrong-${i}`, `flood-${i}`));
      const closed = await r.closedWithin(10_000);
      const code =
        r.received[0] === 0x20 && r.received.length >= 4 ? String(r.received[3]) : closed ? 'closed' : 'open';
      codes.set(code, (codes.get(code) ?? 0) + 1);
      r.destroy();
    };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) await attempt(next++);
      }),
    );
    const elapsed = Date.now() - started;
    stop = true;
    await stream;
    await httpAnswers();

    const refused = (codes.get('4') ?? 0) + (codes.get('5') ?? 0);
    assert.equal(refused, total, `CONNACK codes: ${JSON.stringify(Object.fromEntries(codes))}`);
    // Everything the publisher sent during the flood arrived, in order.
    await settle(pub, sub);
    const steady = sub.messages.filter((m) => m.topic.endsWith('/steady')).map((m) => m.payload.toString());
    assert.equal(steady.length, sent, `received ${steady.length} of ${sent} (flood took ${elapsed} ms)`);
    assert.deepEqual(
      steady,
      Array.from({ length: sent }, (_, i) => `steady-${i}`),
    );
    assert.equal(sub.closed, false);
    // No refused connection lingers in the broker.
    assert.equal(fixture.server.app.mqtt.connectedClients, baseline);
    await stillDelivers();
  });
});

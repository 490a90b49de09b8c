import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { decode, encode } from '../src/messaging/mqtt/codec.js';
import { Framer } from '../src/messaging/mqtt/framer.js';

/**
 * What the broker relies on in mqtt-packet (pinned in package-lock.json), checked so
 * that an upgrade changing any of it fails here rather than in a device's session:
 * the exact bytes of the packets it writes, that its parser emits synchronously and
 * leaves nothing behind after a whole packet, and every packet shape it reads, in MQTT
 * 3.1, 3.1.1 and 5.0.
 */

const hex = (b: Buffer) => b.toString('hex');

describe('mqtt-packet as the broker uses it', () => {
  it('writes CONNACK, PUBLISH, PUBACK, SUBACK, DISCONNECT to the byte (3.1.1 and 5)', () => {
    assert.equal(hex(encode({ cmd: 'connack', returnCode: 5, sessionPresent: false }, 4)), '20020005');
    assert.equal(hex(encode({ cmd: 'connack', returnCode: 0, sessionPresent: true }, 4)), '20020100');
    assert.equal(hex(encode({ cmd: 'connack', reasonCode: 0x86, sessionPresent: false }, 5)), '2003008600');
    assert.equal(
      hex(
        encode(
          { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 0, dup: false, retain: false },
          4,
        ),
      ),
      '300700036 12f6268 69'.replace(/ /g, ''),
    );
    assert.equal(
      hex(
        encode(
          {
            cmd: 'publish',
            topic: 'a',
            payload: Buffer.from('x'),
            qos: 1,
            messageId: 7,
            dup: true,
            retain: false,
          },
          4,
        ),
      ),
      '3a0600016100077 8'.replace(/ /g, ''),
    );
    assert.equal(hex(encode({ cmd: 'puback', messageId: 7 }, 4)), '40020007');
    assert.equal(hex(encode({ cmd: 'puback', messageId: 7, reasonCode: 0x87 }, 5)), '400400078700');
    assert.equal(
      hex(encode({ cmd: 'suback', messageId: 3, granted: [0, 1, 0x80] }, 4)),
      '9005000300 0180'.replace(/ /g, ''),
    );
    assert.equal(hex(encode({ cmd: 'suback', messageId: 3, granted: [0x87] }, 5)), '900400030087');
    assert.equal(hex(encode({ cmd: 'disconnect', reasonCode: 0x8b }, 5)), 'e0028b00');
    assert.equal(hex(encode({ cmd: 'pingresp' }, 4)), 'd000');
  });

  it('writes MQTT 5 PUBLISH properties a subscriber receives', () => {
    const bytes = encode(
      {
        cmd: 'publish',
        topic: 't',
        payload: Buffer.from('p'),
        qos: 0,
        dup: false,
        retain: false,
        properties: {
          contentType: 'text/plain',
          payloadFormatIndicator: true,
          messageExpiryInterval: 30,
          userProperties: { site: ['a', 'b'] },
        },
      },
      5,
    );
    const back = decode(bytes, 5) as Extract<Packet, { cmd: 'publish' }>;
    assert.equal(back.properties?.contentType, 'text/plain');
    assert.equal(back.properties?.payloadFormatIndicator, true);
    assert.equal(back.properties?.messageExpiryInterval, 30);
    assert.deepEqual({ ...back.properties?.userProperties }, { site: ['a', 'b'] });
  });

  it('reads every packet a client sends, in each version', () => {
    const connect311 = mqttPacket.generate({
      cmd: 'connect',
      protocolVersion: 4,
      protocolId: 'MQTT',
      clientId: 'c1',
      clean: true,
      keepalive: 30,
      username: 'u',
      password: Buffer.from('p'),
      will: { topic: 'w', payload: Buffer.from('bye'), qos: 1, retain: false },
    });
    const c = decode(connect311, 4) as Extract<Packet, { cmd: 'connect' }>;
    assert.deepEqual(
      [c.protocolVersion, c.clientId, c.username, c.password?.toString(), c.will?.topic],
      [4, 'c1', 'u', 'p', 'w'],
    );

    const connect31 = mqttPacket.generate({
      cmd: 'connect',
      protocolVersion: 3,
      protocolId: 'MQIsdp',
      clientId: 'old',
      clean: true,
      keepalive: 0,
    });
    assert.equal((decode(connect31, 4) as Extract<Packet, { cmd: 'connect' }>).protocolVersion, 3);

    const connect5 = mqttPacket.generate(
      {
        cmd: 'connect',
        protocolVersion: 5,
        protocolId: 'MQTT',
        clientId: 'c5',
        clean: false,
        keepalive: 10,
        properties: { sessionExpiryInterval: 300, receiveMaximum: 10, maximumPacketSize: 4096 },
        will: {
          topic: 'w',
          payload: Buffer.from('x'),
          qos: 0,
          retain: false,
          properties: { willDelayInterval: 5 },
        },
      },
      { protocolVersion: 5 },
    );
    const c5 = decode(connect5, 4) as Extract<Packet, { cmd: 'connect' }>;
    assert.equal(c5.protocolVersion, 5);
    assert.equal(c5.properties?.sessionExpiryInterval, 300);
    assert.equal(c5.will?.properties?.willDelayInterval, 5);

    const sub5 = mqttPacket.generate(
      {
        cmd: 'subscribe',
        messageId: 9,
        subscriptions: [
          { topic: '$share/g/a/#', qos: 1, nl: false, rap: false, rh: 0 },
          { topic: 'b', qos: 0, nl: true, rap: false, rh: 0 },
        ],
      },
      { protocolVersion: 5 },
    );
    const s = decode(sub5, 5) as Extract<Packet, { cmd: 'subscribe' }>;
    assert.deepEqual(
      s.subscriptions.map((x) => [x.topic, x.qos, Boolean(x.nl)]),
      [
        ['$share/g/a/#', 1, false],
        ['b', 0, true],
      ],
    );
    const pub5 = mqttPacket.generate(
      {
        cmd: 'publish',
        topic: '',
        payload: Buffer.from('z'),
        qos: 2,
        messageId: 4,
        dup: false,
        retain: false,
        properties: { topicAlias: 3 },
      },
      { protocolVersion: 5 },
    );
    const p = decode(pub5, 5) as Extract<Packet, { cmd: 'publish' }>;
    assert.deepEqual([p.topic, p.qos, p.messageId, p.properties?.topicAlias], ['', 2, 4, 3]);
    const disc = decode(mqttPacket.generate({ cmd: 'disconnect', reasonCode: 4 }, { protocolVersion: 5 }), 5);
    assert.equal((disc as Extract<Packet, { cmd: 'disconnect' }>).reasonCode, 4);
  });

  it('one shared parser: a whole packet leaves nothing behind; a bad one is thrown and does not poison the next', () => {
    const ping = Buffer.from([0xc0, 0x00]);
    for (let i = 0; i < 3; i++) assert.equal(decode(ping, 4).cmd, 'pingreq');
    assert.throws(() => decode(Buffer.from([0x80, 0x02, 0x00, 0x01]), 4)); // SUBSCRIBE with reserved flags wrong
    // CONNECT naming another protocol.
    assert.throws(() => decode(Buffer.from([0x10, 0x06, 0x00, 0x04, 0x58, 0x59, 0x5a, 0x57]), 4));
    assert.equal(decode(ping, 4).cmd, 'pingreq');
    // Emitted synchronously, within parse().
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let seen = false;
    parser.on('packet', () => {
      seen = true;
    });
    parser.parse(ping);
    assert.equal(seen, true);
  });
});

describe('Framer', () => {
  it('cuts packets split anywhere and joined any way', () => {
    const packets = [
      Buffer.from([0xc0, 0x00]),
      encode(
        { cmd: 'publish', topic: 'x/y', payload: Buffer.alloc(300, 7), qos: 0, dup: false, retain: false },
        4,
      ),
      Buffer.from([0xe0, 0x00]),
    ];
    const stream = Buffer.concat(packets);
    for (let cut = 1; cut < stream.length; cut += 7) {
      const framer = new Framer(10_000);
      const got: Buffer[] = [];
      assert.equal(
        framer.push(stream.subarray(0, cut), (p) => got.push(Buffer.from(p)) > 0),
        null,
      );
      assert.equal(
        framer.push(stream.subarray(cut), (p) => got.push(Buffer.from(p)) > 0),
        null,
      );
      assert.deepEqual(got, packets);
    }
    // Byte by byte.
    const framer = new Framer(10_000);
    const got: Buffer[] = [];
    for (const byte of stream) framer.push(Buffer.from([byte]), (p) => got.push(Buffer.from(p)) > 0);
    assert.deepEqual(got, packets);
  });

  it('refuses an announced size over the limit before the body arrives, and a five-byte length', () => {
    const framer = new Framer(1000);
    // PUBLISH announcing 300 MB: refused from its header alone.
    assert.equal(
      framer.push(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x01]), () => true),
      'too-large',
    );
    assert.equal(
      new Framer(1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => true),
      'malformed',
    );
  });
});

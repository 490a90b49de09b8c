import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { encodedPublish, plainBufferLists } from '../src/messaging/aedes-tuning.js';

describe('QoS 0 deliveries share their bytes', () => {
  const topic = 'channels/6f0d0c2c-9c4e-4c1e-8d5e-1f2a3b4c5d6e/messages/room';
  const reference = (t: string, payload: Buffer, retain = false) =>
    mqttPacket.generate({ cmd: 'publish', topic: t, payload, qos: 0, retain, dup: false });

  it('makes the bytes once for all the copies aedes hands its subscribers', () => {
    const payload = Buffer.from('[{"n":"t","v":21.5}]');
    // aedes gives each subscriber its own packet object around the same payload.
    const copies = Array.from({ length: 10 }, (_, i) => ({ topic, payload, retain: false, messageId: i }));
    const first = encodedPublish(copies[0]!);
    assert.deepEqual(first, reference(topic, payload));
    for (const copy of copies) assert.equal(encodedPublish(copy), first, 'the same buffer, not a new one');
  });

  it('never hands one message the bytes of another', () => {
    const payload = Buffer.from('shared');
    const a = encodedPublish({ topic, payload });
    const other = `${topic}/other`;
    const b = encodedPublish({ topic: other, payload });
    assert.deepEqual(b, reference(other, payload));
    assert.deepEqual(encodedPublish({ topic, payload, retain: true }), reference(topic, payload, true));
    const equalButNew = Buffer.from('shared');
    const c = encodedPublish({ topic, payload: equalButNew });
    assert.deepEqual(c, a);
    assert.deepEqual(encodedPublish({ topic }), reference(topic, Buffer.alloc(0)));
  });
});

describe('MQTT parsers buffer input in a plain list', () => {
  it('parses packets split anywhere, and again after a malformed one, with no stream in between', () => {
    plainBufferLists();
    const parser = mqttPacket.parser();
    const list = () => (parser as unknown as { _list: unknown })._list;
    assert.equal(
      typeof (list() as { pipe?: unknown }).pipe,
      'undefined',
      'no BufferListStream from the constructor',
    );
    const packets: { cmd: string; topic?: string; payload?: Buffer }[] = [];
    const errors: string[] = [];
    parser.on('packet', (p) => packets.push(p));
    parser.on('error', (e) => errors.push(e.message));
    const payload = Buffer.from('x'.repeat(300));
    const bytes = Buffer.concat([
      mqttPacket.generate({ cmd: 'pingreq' }),
      mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload, qos: 0, retain: false, dup: false }),
    ]);
    for (let i = 0; i < bytes.length; i += 7) parser.parse(bytes.subarray(i, i + 7));
    assert.deepEqual(
      packets.map((p) => p.cmd),
      ['pingreq', 'publish'],
    );
    assert.equal(packets[1]!.topic, 'a/b');
    assert.deepEqual(packets[1]!.payload, payload);
    // A reserved packet type is an error; the parser starts over with a plain list.
    parser.parse(Buffer.from([0xf0, 0x00]));
    assert.equal(errors.length, 1);
    parser.parse(mqttPacket.generate({ cmd: 'pingresp' }));
    assert.equal(
      typeof (list() as { pipe?: unknown }).pipe,
      'undefined',
      'no BufferListStream after the reset',
    );
    assert.deepEqual(
      packets.map((p) => p.cmd),
      ['pingreq', 'publish', 'pingresp'],
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { encodedPublish } from '../src/messaging/aedes-tuning.js';

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

import { Transform, type TransformCallback } from 'node:stream';

/**
 * Reads MQTT fixed headers as bytes pass through and fails the stream when a packet
 * announces more than `max` bytes, before the broker's parser buffers it: an oversize
 * or malformed length closes that connection and nothing else.
 */
export class MqttFrameGuard extends Transform {
  /** Bytes of the current packet's body still to pass. */
  private remaining = 0;
  private header: number[] = [];

  constructor(private max: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i++]!);
      if (this.header.length === 1) continue;
      const lengthBytes = this.header.slice(1);
      const last = lengthBytes[lengthBytes.length - 1]!;
      if (last & 0x80) {
        if (lengthBytes.length >= 4) return done(new Error('malformed MQTT remaining length'));
        continue;
      }
      let length = 0;
      for (let k = lengthBytes.length - 1; k >= 0; k--) length = length * 128 + (lengthBytes[k]! & 0x7f);
      if (length > this.max) return done(new Error(`MQTT packet of ${length} bytes is over the ${this.max}-byte limit`));
      this.remaining = length;
      this.header = [];
    }
    done(null, chunk);
  }
}

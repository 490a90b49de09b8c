/**
 * A message as Mainflux carries it on its bus (`messaging.Message`, protobuf):
 * channel, subtopic, publisher (thing id), protocol, payload, created (unix ns).
 * Encoded as that protobuf so Mainflux-style consumers (writers, rules) can read it.
 */
export interface Message {
  channel: string;
  subtopic: string;
  publisher: string;
  protocol: string;
  payload: Buffer;
  /** Unix time in nanoseconds. */
  created: bigint;
  /** The QoS it was published with over MQTT (HTTP: 0); carried beside the envelope on the bus. */
  qos?: 0 | 1 | 2;
  /** MQTT 5 properties forwarded to MQTT 5 subscribers; carried beside the envelope on the bus. */
  properties?: MessageProperties;
}

/** What an MQTT 5 publisher may attach to a message and its MQTT 5 subscribers receive. */
export interface MessageProperties {
  contentType?: string;
  payloadFormatIndicator?: boolean;
  /** In order, repeated names allowed. */
  userProperties?: [string, string][];
  /** When it expires (ms since the epoch), from the message expiry interval. */
  expiresAt?: number;
  responseTopic?: string;
  correlationData?: Buffer;
}

function varint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
}

function field(out: number[], chunks: Buffer[], tag: number, bytes: Buffer): void {
  if (bytes.length === 0) return;
  out.push((tag << 3) | 2);
  varint(out, BigInt(bytes.length));
  chunks.push(Buffer.from(out.splice(0)), bytes);
}

export function encodeMessage(m: Message): Buffer {
  const head: number[] = [];
  const chunks: Buffer[] = [];
  field(head, chunks, 1, Buffer.from(m.channel));
  field(head, chunks, 2, Buffer.from(m.subtopic));
  field(head, chunks, 3, Buffer.from(m.publisher));
  field(head, chunks, 4, Buffer.from(m.protocol));
  field(head, chunks, 5, m.payload);
  if (m.created !== 0n) {
    head.push((6 << 3) | 0);
    varint(head, m.created);
  }
  chunks.push(Buffer.from(head));
  return Buffer.concat(chunks);
}

export function decodeMessage(buf: Buffer): Message {
  const m: Message = {
    channel: '',
    subtopic: '',
    publisher: '',
    protocol: '',
    payload: Buffer.alloc(0),
    created: 0n,
  };
  let i = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated message');
      const b = buf[i++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const tag = key >> 3;
    const wire = key & 7;
    if (wire === 0) {
      const v = readVarint();
      if (tag === 6) m.created = BigInt.asIntN(64, v);
    } else if (wire === 2) {
      const len = Number(readVarint());
      const bytes = buf.subarray(i, i + len);
      i += len;
      if (tag === 1) m.channel = bytes.toString();
      else if (tag === 2) m.subtopic = bytes.toString();
      else if (tag === 3) m.publisher = bytes.toString();
      else if (tag === 4) m.protocol = bytes.toString();
      else if (tag === 5) m.payload = Buffer.from(bytes);
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return m;
}

/** Bus subject of a message: `channels.<id>[.<subtopic>]`. */
export function subjectOf(channel: string, subtopic: string): string {
  return subtopic ? `channels.${channel}.${subtopic}` : `channels.${channel}`;
}

/** MQTT topic of a message: `channels/<id>/messages[/<subtopic with / for .>]`. */
export function topicOf(channel: string, subtopic: string): string {
  return subtopic
    ? `channels/${channel}/messages/${subtopic.replace(/\./g, '/')}`
    : `channels/${channel}/messages`;
}

export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { MessageSchema } from '../gen/messaging/message_pb.js';

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

/** Buffer over the same bytes (no copy). */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The envelope's protobuf (proto/messaging/message.proto), written by @bufbuild/protobuf. */
export function encodeMessage(m: Message): Buffer {
  const envelope = create(MessageSchema, {
    channel: m.channel,
    subtopic: m.subtopic,
    publisher: m.publisher,
    protocol: m.protocol,
    payload: m.payload,
    created: m.created,
  });
  return asBuffer(toBinary(MessageSchema, envelope));
}

/** Reads the envelope; throws on bytes that are not one. The payload is a view of `buf`. */
export function decodeMessage(buf: Uint8Array): Message {
  const e = fromBinary(MessageSchema, buf);
  return {
    channel: e.channel,
    subtopic: e.subtopic,
    publisher: e.publisher,
    protocol: e.protocol,
    payload: asBuffer(e.payload),
    created: e.created,
  };
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

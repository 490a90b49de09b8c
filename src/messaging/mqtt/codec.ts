import mqttPacket, { type Packet, type Parser } from 'mqtt-packet';

/**
 * MQTT packets to and from bytes with mqtt-packet, the field's own codec (MQTT 3.1,
 * 3.1.1 and 5.0). The framer hands over whole packets only, so one parser per
 * protocol version serves every connection: a parse consumes exactly one packet and
 * leaves the parser as it found it. mqtt-packet's parser emits synchronously, which
 * `test/mqtt-codec.test.ts` checks together with every packet shape the broker uses,
 * so an upgrade that changes either fails loudly.
 */
export type ProtocolVersion = 3 | 4 | 5;

interface SharedParser {
  parser: Parser;
  packet: Packet | null;
  error: Error | null;
}

const parsers = new Map<ProtocolVersion, SharedParser>();

function sharedParser(version: ProtocolVersion): SharedParser {
  let shared = parsers.get(version);
  if (!shared) {
    const parser = mqttPacket.parser({ protocolVersion: version });
    const state: SharedParser = { parser, packet: null, error: null };
    parser.on('packet', (packet: Packet) => {
      state.packet = packet;
    });
    parser.on('error', (err: Error) => {
      state.error = err;
    });
    shared = state;
    parsers.set(version, shared);
  }
  return shared;
}

/**
 * One whole packet (from the framer). `version` is the connection's protocol version;
 * a CONNECT carries its own, so the first packet of a connection is read as 3.1.1.
 * Throws when the bytes are not a valid packet of that version.
 */
export function decode(bytes: Buffer, version: ProtocolVersion): Packet {
  const shared = sharedParser(version);
  shared.packet = null;
  shared.error = null;
  const left = shared.parser.parse(bytes);
  const { packet, error } = shared;
  shared.packet = null;
  shared.error = null;
  if (error || !packet || left !== 0) {
    // Leave nothing behind for the next connection's packet.
    parsers.delete(version);
    throw error ?? new Error(left !== 0 ? 'trailing bytes after a packet' : 'incomplete packet');
  }
  return packet;
}

export function encode(packet: Packet, version: ProtocolVersion): Buffer {
  return mqttPacket.generate(packet, { protocolVersion: version });
}

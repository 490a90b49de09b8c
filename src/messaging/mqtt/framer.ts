/**
 * Cuts a connection's bytes into whole MQTT packets: the fixed header's first byte,
 * the remaining length (1-4 bytes, 7 bits each), then that many bytes. A packet whose
 * announced size is over the limit is refused as soon as its length is read, before
 * any of it is buffered; a length longer than four bytes is malformed.
 *
 * Owning the framing lets the codec decode only whole packets (one shared parser for
 * every connection, no per-connection buffer list) and lets the broker enforce the size
 * limit without reaching into the parser.
 */
export type FrameError = 'too-large' | 'malformed';

export class Framer {
  /** Bytes of an incomplete packet, in arrival order. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the packet being received once its header is read, else -1. */
  private expected = -1;

  constructor(private maxPacket: number) {}

  /** The size limit in bytes (the whole packet, header included). */
  get limit(): number {
    return this.maxPacket;
  }

  /**
   * Feeds bytes; calls `onPacket` with each complete packet in order (a view of the
   * input, valid as long as the caller keeps it). Stops early when `onPacket` returns
   * false. Returns an error when the stream cannot be framed any further.
   */
  push(chunk: Buffer, onPacket: (packet: Buffer) => boolean): FrameError | null {
    let buf: Buffer;
    if (this.buffered === 0) {
      buf = chunk;
    } else {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      // Still short of the packet announced: wait without copying.
      if (this.expected !== -1 && this.buffered < this.expected) return null;
      buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    this.expected = -1;
    let offset = 0;
    while (offset < buf.length) {
      if (!validFirstByte(buf[offset]!)) return 'malformed';
      const size = packetSize(buf, offset);
      if (size === MALFORMED) return 'malformed';
      if (size > this.maxPacket) return 'too-large';
      if (size === INCOMPLETE_HEADER || buf.length - offset < size) {
        if (size !== INCOMPLETE_HEADER) this.expected = size;
        break;
      }
      const packet = buf.subarray(offset, offset + size);
      offset += size;
      if (!onPacket(packet)) {
        offset = buf.length;
        break;
      }
    }
    if (offset < buf.length) {
      // Keep only the rest (a copy when it is a small part of a large chunk).
      const rest = buf.subarray(offset);
      const kept = rest.length < buf.length / 4 ? Buffer.from(rest) : rest;
      this.chunks = [kept];
      this.buffered = kept.length;
    }
    return null;
  }
}

/**
 * A packet type and flags MQTT allows (3.1.1 §2.2, 5.0 §2.1.3): type 0 is reserved;
 * PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010, PUBLISH any but QoS 3, every
 * other type 0000. Checked before waiting for the rest, so bytes that are not MQTT
 * (an HTTP request, say) end the connection at once.
 */
function validFirstByte(byte: number): boolean {
  const type = byte >> 4;
  const flags = byte & 0x0f;
  if (type === 0) return false;
  if (type === 3) return (flags & 0x06) !== 0x06;
  if (type === 6 || type === 8 || type === 10) return flags === 0x02;
  return flags === 0;
}

const INCOMPLETE_HEADER = -1;
const MALFORMED = -2;

/** The whole size of the packet starting at `offset`, or INCOMPLETE_HEADER / MALFORMED. */
function packetSize(buf: Buffer, offset: number): number {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const at = offset + i;
    if (at >= buf.length) return INCOMPLETE_HEADER;
    const byte = buf[at]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return 1 + i + length;
    multiplier *= 128;
  }
  return MALFORMED;
}

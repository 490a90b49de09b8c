/**
 * A minimal MQTT 3.1.1 subscriber over WebSocket: CONNECT, SUBSCRIBE (QoS 0), PUBLISH
 * in, PINGREQ to keep the session alive. The live view needs nothing more, and this is
 * about 3 kB against the 340 kB browser build of mqtt.js.
 */

export interface MqttMessage {
  topic: string;
  payload: Uint8Array;
  receivedAt: Date;
}

export interface MqttOptions {
  url: string;
  username: string;
  password: string;
  topics: string[];
  keepAliveSeconds?: number;
  onMessage(message: MqttMessage): void;
  /** Subscribed and receiving. */
  onReady(): void;
  /** The connection is over; `reason` says why in words (empty after close()). */
  onClose(reason: string): void;
}

const CONNACK_REASONS: Record<number, string> = {
  1: 'the broker refused the protocol version',
  2: 'the broker refused the client id',
  3: 'the broker is unavailable',
  4: 'bad user name or password (the thing id and key were refused)',
  5: 'not authorized',
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 2);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function packet(type: number, parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((a, p) => a + p.length, 0);
  const header = [type, ...remainingLength(length)];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let at = header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function connectPacket(
  clientId: string,
  username: string,
  password: string,
  keepAlive: number,
): Uint8Array {
  // Protocol "MQTT", level 4, flags: user name, password, clean session.
  const variable = new Uint8Array([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, keepAlive >> 8, keepAlive & 0xff]);
  return packet(0x10, [variable, utf8(clientId), utf8(username), utf8(password)]);
}

export function subscribePacket(packetId: number, topics: string[]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([packetId >> 8, packetId & 0xff])];
  for (const t of topics) parts.push(utf8(t), new Uint8Array([0]));
  return packet(0x82, parts);
}

/** Splits a byte stream into MQTT packets: [first byte, body]. Keeps an incomplete tail. */
export class PacketReader {
  private buffer = new Uint8Array(0);

  push(chunk: Uint8Array): { type: number; flags: number; body: Uint8Array }[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const out: { type: number; flags: number; body: Uint8Array }[] = [];
    for (;;) {
      if (this.buffer.length < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      let complete = false;
      while (i < this.buffer.length && i <= 4) {
        const byte = this.buffer[i]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        i++;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || this.buffer.length < i + length) break;
      const first = this.buffer[0]!;
      out.push({ type: first >> 4, flags: first & 0x0f, body: this.buffer.slice(i, i + length) });
      this.buffer = this.buffer.slice(i + length);
    }
    return out;
  }
}

export function parsePublish(flags: number, body: Uint8Array): { topic: string; payload: Uint8Array } {
  const topicLength = (body[0]! << 8) | body[1]!;
  const topic = decoder.decode(body.subarray(2, 2 + topicLength));
  const qos = (flags >> 1) & 3;
  const start = 2 + topicLength + (qos > 0 ? 2 : 0);
  return { topic, payload: body.slice(start) };
}

export class MqttSubscriber {
  private ws: WebSocket | null = null;
  private reader = new PacketReader();
  private ping: ReturnType<typeof setInterval> | null = null;
  private closedByUs = false;
  private reason = '';

  constructor(private options: MqttOptions) {}

  start(): void {
    const o = this.options;
    const keepAlive = o.keepAliveSeconds ?? 30;
    let ws: WebSocket;
    try {
      ws = new WebSocket(o.url, ['mqtt']);
    } catch (err) {
      o.onClose(`could not open ${o.url}: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      const clientId = `tethys-console-${Math.random().toString(36).slice(2, 10)}`;
      ws.send(connectPacket(clientId, o.username, o.password, keepAlive));
    };
    ws.onmessage = (event) => {
      const data = new Uint8Array(event.data as ArrayBuffer);
      for (const p of this.reader.push(data)) this.handle(p.type, p.flags, p.body, keepAlive);
    };
    ws.onerror = () => {
      if (!this.reason) this.reason = `the WebSocket connection to ${o.url} failed`;
    };
    ws.onclose = (event) => {
      this.stopPing();
      this.ws = null;
      if (this.closedByUs) o.onClose('');
      else o.onClose(this.reason || `the broker closed the connection (WebSocket code ${event.code})`);
    };
  }

  private handle(type: number, flags: number, body: Uint8Array, keepAlive: number): void {
    const o = this.options;
    switch (type) {
      case 2: {
        // CONNACK
        const code = body[1] ?? 0;
        if (code !== 0) {
          this.reason = `the broker refused the connection: ${CONNACK_REASONS[code] ?? `code ${code}`}`;
          this.ws?.close();
          return;
        }
        this.ws?.send(subscribePacket(1, o.topics));
        this.ping = setInterval(() => this.ws?.send(new Uint8Array([0xc0, 0])), (keepAlive * 1000) / 2);
        return;
      }
      case 9: {
        // SUBACK: 0x80 for a refused subscription.
        const codes = Array.from(body.subarray(2));
        if (codes.some((c) => c === 0x80)) {
          this.reason =
            'the broker refused the subscription: the console thing is not connected to this channel';
          this.ws?.close();
          return;
        }
        o.onReady();
        return;
      }
      case 3: {
        const { topic, payload } = parsePublish(flags, body);
        o.onMessage({ topic, payload, receivedAt: new Date() });
        return;
      }
      default:
        return; // PINGRESP and anything else: nothing to do.
    }
  }

  private stopPing(): void {
    if (this.ping) clearInterval(this.ping);
    this.ping = null;
  }

  close(): void {
    this.closedByUs = true;
    this.stopPing();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(new Uint8Array([0xe0, 0]));
    this.ws?.close();
  }
}

/** ws(s)://<this host>/mqtt: the server takes MQTT over WebSocket on its HTTP port. */
export function brokerUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;
}

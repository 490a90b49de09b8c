import net from 'node:net';

/**
 * A minimal MQTT 3.1.1 and 5 client for the load: CONNECT, SUBSCRIBE, PUBLISH (QoS 0 and 1),
 * DISCONNECT, and a frame reader that only looks at what the scenario needs. Publishers
 * write pre-encoded packets (a whole window in one write) and subscribers count PUBLISH
 * frames without decoding them, so the generator, which shares two cores with the
 * server and the database, spends as little CPU per message as it can. (mqtt.js builds
 * and parses every packet as an object and keeps its own outgoing queue, which hides
 * when the broker actually read a message.)
 */

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

function lengthPrefixed(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);
}

/** MQTT protocol level: 4 is 3.1.1, 5 is 5.0 (whose packets carry a properties length, 0 here). */
export type MqttVersion = 4 | 5;

const NO_PROPERTIES = Buffer.from([0]);

export function connectPacket(o: {
  clientId: string;
  username?: string;
  password?: string;
  keepalive: number;
  version?: MqttVersion;
}): Buffer {
  const version = o.version ?? 4;
  let flags = 0x02; // clean session
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const header = Buffer.from([
    0,
    4,
    0x4d,
    0x51,
    0x54,
    0x54,
    version,
    flags,
    o.keepalive >> 8,
    o.keepalive & 0xff,
  ]);
  const parts =
    version === 5
      ? [header, NO_PROPERTIES, lengthPrefixed(o.clientId)]
      : [header, lengthPrefixed(o.clientId)];
  if (o.username !== undefined) parts.push(lengthPrefixed(o.username));
  if (o.password !== undefined) parts.push(lengthPrefixed(o.password));
  return packet(0x10, Buffer.concat(parts));
}

/** A PUBLISH; with QoS 1 its packet id sits in the two bytes `idOffset` names. */
export function publishPacket(
  topic: string,
  payload: Buffer,
  qos: 0 | 1 = 0,
  id = 1,
  version: MqttVersion = 4,
): { bytes: Buffer; idOffset: number } {
  const topicBytes = lengthPrefixed(topic);
  const idBytes = qos ? Buffer.from([id >> 8, id & 0xff]) : Buffer.alloc(0);
  const props = version === 5 ? NO_PROPERTIES : Buffer.alloc(0);
  const body = Buffer.concat([topicBytes, idBytes, props, payload]);
  const bytes = packet(0x30 | (qos << 1), body);
  const headerLength = bytes.length - body.length;
  return { bytes, idOffset: qos ? headerLength + topicBytes.length : -1 };
}

export function subscribePacket(id: number, topic: string, qos: 0 | 1 = 0, version: MqttVersion = 4): Buffer {
  const props = version === 5 ? NO_PROPERTIES : Buffer.alloc(0);
  return packet(
    0x82,
    Buffer.concat([Buffer.from([id >> 8, id & 0xff]), props, lengthPrefixed(topic), Buffer.from([qos])]),
  );
}

export const DISCONNECT = Buffer.from([0xe0, 0]);
const PINGREQ = Buffer.from([0xc0, 0]);

export class MqttError extends Error {}

export interface OpenOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; the client pings at half of it. 0: no keep-alive. */
  keepalive?: number;
  timeoutMs?: number;
  version?: MqttVersion;
  /** Local address to connect from (127.0.0.x), when one address runs out of ports. */
  localAddress?: string;
}

/** One MQTT connection over TCP. */
export class MqttConnection {
  /** PUBLISH frames received. */
  received = 0;
  /** Called with the payload of every PUBLISH received, when set (latency scenarios). */
  onPublish?: (payload: Buffer) => void;
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  isClosed = false;
  private pending: Buffer | null = null;
  private waiters = new Map<number, { resolve: (code: number) => void; reject: (e: Error) => void }>();
  private connack?: { resolve: (code: number) => void; reject: (e: Error) => void };
  private nextId = 1;
  private pinger?: NodeJS.Timeout;

  private constructor(
    readonly socket: net.Socket,
    readonly version: MqttVersion,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        clearInterval(this.pinger);
        // Only when someone waits: an Error's stack costs more than the rest of a close.
        if (this.connack || this.waiters.size > 0) {
          const err = new MqttError('connection closed');
          this.connack?.reject(err);
          for (const w of this.waiters.values()) w.reject(err);
          this.waiters.clear();
        }
        resolve();
      });
    });
  }

  /**
   * Opens a TCP connection and sends CONNECT. Resolves with the connection and the time
   * from writing CONNECT to reading CONNACK (ms); rejects when refused, closed or late.
   */
  static open(o: OpenOptions): Promise<{ conn: MqttConnection; connectMs: number }> {
    const timeoutMs = o.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: o.host,
        port: o.port,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      });
      const conn = new MqttConnection(socket, o.version ?? 4);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MqttError(`no CONNACK within ${timeoutMs} ms`));
      }, timeoutMs);
      let sentAt = 0;
      conn.connack = {
        resolve: (code) => {
          clearTimeout(timer);
          const connectMs = performance.now() - sentAt;
          conn.connack = undefined;
          if (code !== 0) {
            socket.destroy();
            reject(new MqttError(`CONNACK return code ${code}`));
            return;
          }
          const keepalive = o.keepalive ?? 60;
          if (keepalive > 0) {
            conn.pinger = setInterval(() => conn.write(PINGREQ), (keepalive * 1000) / 2);
            conn.pinger.unref();
          }
          resolve({ conn, connectMs });
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        sentAt = performance.now();
        socket.write(
          connectPacket({
            clientId: o.clientId,
            username: o.username,
            password: o.password,
            keepalive: o.keepalive ?? 60,
            version: o.version ?? 4,
          }),
        );
      });
    });
  }

  write(bytes: Buffer): boolean {
    if (this.isClosed) return false;
    return this.socket.write(bytes);
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  private waitFor(id: number, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) {
        reject(new MqttError('connection closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new MqttError(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, {
        resolve: (code) => {
          clearTimeout(timer);
          resolve(code);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /** Subscribes at QoS 0; rejects when the broker refuses (SUBACK 0x80). */
  async subscribe(topic: string, timeoutMs = 10_000): Promise<void> {
    const id = this.allocateId();
    const acked = this.waitFor(id, timeoutMs, 'SUBACK');
    this.write(subscribePacket(id, topic, 0, this.version));
    const granted = await acked;
    if (granted >= 0x80) throw new MqttError(`subscription to ${topic} refused (${granted})`);
  }

  /**
   * Writes `bytes` (QoS 0 publishes, say) followed by a QoS 1 publish taken from
   * `fence`, with a fresh packet id patched in, and resolves at its PUBACK: the broker
   * reads a connection's bytes in order, so the PUBACK proves that it read everything
   * written before the fence. `fence.bytes` may be the tail of `bytes` (one write).
   */
  fenced(bytes: Buffer, fenceIdOffset: number, timeoutMs: number): Promise<number> {
    const id = this.allocateId();
    bytes.writeUInt16BE(id, fenceIdOffset);
    const acked = this.waitFor(id, timeoutMs, 'PUBACK');
    this.write(bytes);
    return acked;
  }

  /** Sends DISCONNECT and waits (bounded) for the broker to close; then destroys the socket. */
  async disconnect(timeoutMs = 2000): Promise<void> {
    if (this.isClosed) return;
    this.write(DISCONNECT);
    const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
    await this.closed;
    clearTimeout(timer);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let i = 0;
    const end = buf.length;
    while (end - i >= 2) {
      let length = 0;
      let multiplier = 1;
      let j = i + 1;
      let complete = false;
      while (j < end && j - i <= 4) {
        const b = buf[j++]!;
        length += (b & 0x7f) * multiplier;
        multiplier *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || j + length > end) break;
      this.frame(buf[i]!, buf, j, j + length);
      i = j + length;
    }
    this.pending = i < end ? Buffer.from(buf.subarray(i)) : null;
  }

  private frame(first: number, buf: Buffer, start: number, end: number): void {
    switch (first >> 4) {
      case 3: {
        this.received++;
        if (this.onPublish) {
          const topicLength = buf.readUInt16BE(start);
          const qos = (first >> 1) & 3;
          let at = start + 2 + topicLength + (qos ? 2 : 0);
          if (this.version === 5) {
            const [length, bytes] = varint(buf, at);
            at += bytes + length;
          }
          this.onPublish(buf.subarray(at, end));
        }
        return;
      }
      case 2:
        this.connack?.resolve(buf[start + 1]!);
        return;
      case 4: {
        // PUBACK: MQTT 5 may add a reason code (absent: success).
        const id = buf.readUInt16BE(start);
        const w = this.waiters.get(id);
        this.waiters.delete(id);
        w?.resolve(end - start > 2 ? buf[start + 2]! : 0);
        return;
      }
      case 9: {
        const id = buf.readUInt16BE(start);
        const w = this.waiters.get(id);
        this.waiters.delete(id);
        let at = start + 2;
        if (this.version === 5) {
          const [length, bytes] = varint(buf, at);
          at += bytes + length;
        }
        w?.resolve(buf[at]!);
        return;
      }
      default:
        return;
    }
  }
}

/** A variable byte integer at `at`: its value and how many bytes it took. */
function varint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    const b = buf[at + i]!;
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return [value, i + 1];
    multiplier *= 128;
  }
  return [value, 4];
}

/** Runs `task` for each item with at most `limit` in flight; resolves when all settled. */
export async function inPool<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until `count()` reaches `expected` or stops moving for `quietMs`, at most
 * `maxMs`. Returns how long it waited (ms).
 */
export async function settleCount(
  count: () => number,
  expected: number,
  options: { quietMs?: number; maxMs?: number } = {},
): Promise<number> {
  const started = performance.now();
  const quietMs = options.quietMs ?? 1000;
  const maxMs = options.maxMs ?? 15_000;
  let last = count();
  let lastChange = performance.now();
  while (count() < expected && performance.now() - started < maxMs) {
    await sleep(50);
    const now = count();
    if (now !== last) {
      last = now;
      lastChange = performance.now();
    } else if (performance.now() - lastChange >= quietMs) break;
  }
  return performance.now() - started;
}

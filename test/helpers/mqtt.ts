import crypto from 'node:crypto';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { App } from '../../src/app.js';
import { eventually } from './wait.js';

/** mqtt.js 5 clients for the messaging tests: what arrived, what was granted, when it closed. */

export interface Received {
  topic: string;
  payload: Buffer;
  /** The PUBLISH as received (QoS, MQTT 5 properties). */
  packet: IPublishPacket;
}

export const mqttUrl = (app: App) => `mqtt://127.0.0.1:${app.mqtt.ports.mqtt}`;

/** The payload prefix of fence markers (see fence). */
const FENCE = 'tethys-test-fence:';

/** A connected client that records every message it receives and whether it was closed. */
export class TestClient {
  readonly messages: Received[] = [];
  /** Fence markers received (kept out of `messages`). */
  readonly fences = new Set<string>();
  closed = false;
  private waiters = new Set<() => void>();
  readonly closedPromise: Promise<void>;

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString();
      if (text.startsWith(FENCE)) this.fences.add(text);
      else this.messages.push({ topic, payload: Buffer.from(payload), packet });
      for (const w of this.waiters) w();
    });
    this.closedPromise = new Promise((resolve) =>
      client.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
    // Errors after connecting (a closed socket) are expected in these tests.
    client.on('error', () => {});
  }

  /** The SUBACK return code of one subscription: its QoS, or 128 when refused. */
  subscribe(topic: string, qos: 0 | 1 = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.client.subscribe(topic, { qos }, (err, _granted, packet) => {
        const code = packet?.granted?.[0];
        if (typeof code === 'number') resolve(code);
        else reject(err ?? new Error(`no SUBACK for ${topic}`));
      });
    });
  }

  /** Publishes; with QoS 1 it resolves on PUBACK (a dropped message is still acknowledged). */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 0): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The first received message (from now on, or already received) matching `match`. */
  waitFor(match: (m: Received) => boolean, timeoutMs = 5000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (!found) return false;
        clearTimeout(timer);
        this.waiters.delete(onMessage);
        resolve(found);
        return true;
      };
      const onMessage = () => {
        check();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(onMessage);
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.topic))}`,
          ),
        );
      }, timeoutMs);
      if (!check()) this.waiters.add(onMessage);
    });
  }

  /** Messages whose payload is `payload` (as text). */
  received(payload: string): Received[] {
    return this.messages.filter((m) => m.payload.toString() === payload);
  }

  /** Resolves true when the server closes the connection within `ms`, else false. */
  async closedWithin(ms: number): Promise<boolean> {
    if (this.closed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.closedPromise.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** A round trip to the broker (PINGREQ/PINGRESP is not exposed; a QoS 1 publish to a dropped topic is). */
  async roundTrip(): Promise<void> {
    await this.publish('channels/00000000-0000-4000-8000-000000000000/messages/ping', '', 1);
  }

  async end(): Promise<void> {
    if (this.closed) return;
    await this.client.endAsync(true).catch(() => {});
  }
}

const base: IClientOptions = { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, clean: true };

/**
 * Connects as a thing (username = id, password = key); rejects when the CONNACK refuses.
 * Messages are recorded from the first packet on: a resumed session's queue arrives
 * right behind the CONNACK.
 */
export async function connectThing(
  url: string,
  thing: { id: string; key: string },
  extra: IClientOptions = {},
): Promise<TestClient> {
  const client = mqtt.connect(url, { ...base, username: thing.id, password: thing.key, ...extra });
  const c = new TestClient(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => reject(err));
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return c;
}

/**
 * The CONNACK return code for these credentials (0 = accepted), or `closed` when the
 * connection ends without one. The connection is ended either way.
 */
export function connackCode(url: string, options: IClientOptions): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...base, ...options });
    let settled = false;
    const finish = (code: number | 'closed') => {
      if (settled) return;
      settled = true;
      client.end(true);
      resolve(code);
    };
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack') finish(packet.returnCode ?? packet.reasonCode ?? 0);
    });
    client.on('error', () => {});
    client.on('close', () => finish('closed'));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fence on one instance: each client's round trip first (its earlier packets are handled
 * in order, and what they deliver here is written before the PUBACK), then a second round
 * trip each (its PUBACK comes after everything written to that connection before). Once it
 * resolves, whatever those clients sent that would reach one of them has arrived. No sleep.
 */
export async function settle(...clients: TestClient[]): Promise<void> {
  const open = () => clients.filter((c) => !c.closed);
  await Promise.all(open().map((c) => c.roundTrip().catch(() => {})));
  await Promise.all(open().map((c) => c.roundTrip().catch(() => {})));
}

/**
 * Sends a unique marker with `send` and waits until each of `to` has received it (markers
 * stay out of `messages`). One sender's messages on one channel arrive in order, on one
 * instance and across the bus: what it sent there before the marker has arrived by then.
 */
export async function fence(send: (marker: string) => Promise<unknown>, ...to: TestClient[]): Promise<void> {
  const marker = FENCE + crypto.randomUUID();
  await send(marker);
  await eventually(`fence ${marker}`, () => to.every((c) => c.fences.has(marker)), { timeoutMs: 5000 });
}

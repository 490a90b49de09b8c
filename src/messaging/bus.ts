import crypto from 'node:crypto';
import { connect, type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { DomainEvents, EventHub } from '../events.js';
import { decodeMessage, encodeMessage, type Message, subjectOf } from './message.js';

/**
 * What travels between Tethys instances: accepted messages (so a subscriber on any
 * instance gets them) and domain events (so every instance's caches and live sessions
 * follow a change made on another). One instance needs neither: the in-process bus
 * delivers nothing anywhere else.
 */
export interface Bus {
  readonly instanceId: string;
  /**
   * Hands a message to the other instances. Returns a BusError at once when the bus
   * cannot take it (too large, not connected); otherwise a promise that resolves once
   * the bus has it (for NATS: the server answered a PING sent after it), or rejects with
   * a BusError when that is not confirmed (the connection broke, no answer in time).
   */
  publish(message: Message): BusError | Promise<void>;
  onMessage(handler: (message: Message) => void): void;
  /** The largest message payload the bus carries (bytes), or null when it has no limit of its own. */
  payloadLimit(): number | null;
  /** What /health reports: `in-process`, or whether the connection to NATS is up. */
  state(): 'in-process' | 'connected' | 'disconnected';
  close(): Promise<void>;
}

/** The bus refused a message: too large for it, or not connected. */
export class BusError extends Error {
  constructor(
    message: string,
    readonly tooLarge: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusError';
  }
}

export const BUS_UNAVAILABLE = 'message bus unavailable';

const DELIVERED = Promise.resolve();

export class InProcessBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  publish(): Promise<void> {
    return DELIVERED;
  }
  onMessage(): void {}
  state(): 'in-process' {
    return 'in-process';
  }
  payloadLimit(): number | null {
    return null;
  }
  async close(): Promise<void> {}
}

/**
 * Bytes a message takes on NATS besides its payload: the protobuf fields (channel and
 * publisher ids, protocol, time, a subtopic of ordinary length) and the origin header.
 */
const ENVELOPE_ALLOWANCE = 1024;

const ORIGIN = 'Tethys-Origin';
const EVENTS_SUBJECT = 'tethys.events';

/**
 * How long after a reconnect this instance refuses publishes: every instance's client
 * retries every RECONNECT_WAIT_MS (plus up to RECONNECT_JITTER_MS), so once NATS is
 * back the others have resubscribed within that time. A message accepted earlier could
 * reach NATS before another instance's subscription and be lost for its subscribers.
 */
const RECONNECT_WAIT_MS = 250;
const RECONNECT_JITTER_MS = 100;
const RESUBSCRIBE_GRACE_MS = 2 * (RECONNECT_WAIT_MS + RECONNECT_JITTER_MS) + 300;
/** A publish not confirmed by NATS within this time answers 503. */
const CONFIRM_TIMEOUT_MS = 2000;
/** PINGs every PING_INTERVAL_MS; MAX_PINGS_OUT unanswered ones mean a hung server: reconnect. */
const PING_INTERVAL_MS = 2000;
const MAX_PINGS_OUT = 2;

interface Batch {
  messages: { subject: string; data: Uint8Array }[];
  confirmed: Promise<void>;
  resolve(): void;
  reject(err: BusError): void;
}

/**
 * NATS: messages on `channels.<id>[.<subtopic>]` as Mainflux's protobuf (readable by
 * Mainflux-style consumers), domain events as JSON on `tethys.events`. Each carries its
 * instance in a header, and an instance ignores its own.
 *
 * A message is acknowledged to its publisher only once NATS has it: the messages of one
 * loop iteration go out together followed by a PING, and are confirmed by its PONG
 * (NATS handles a connection's commands in order, so the PONG means it routed them).
 * nats.js drops what it holds unsent when a connection breaks and does not say so;
 * while disconnected (and for a moment after reconnecting, see RESUBSCRIBE_GRACE_MS)
 * publishes are refused, and a batch whose PONG does not come is refused too.
 *
 * Invalidations (domain events) sent while the connection was down are lost the same
 * way, here or on the other side: when it is back, this instance and every other one
 * forget their caches and check their live sessions again ('caches.stale').
 */
export class NatsBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  private handlers: ((m: Message) => void)[] = [];
  /** The origin header of every message and event of this instance, and its encoded size. */
  private origin: MsgHdrs;
  private originBytes: number;
  /** Messages accepted in this loop iteration, published together (see publish). */
  private batch: Batch | null = null;
  private connected = true;
  /** Publishes are taken from this time on (after a reconnect: see RESUBSCRIBE_GRACE_MS). */
  private acceptFrom = 0;
  private closing = false;

  private constructor(
    private nc: NatsConnection,
    private events: EventHub,
    private log: Logger,
  ) {
    this.origin = natsHeaders();
    this.origin.set(ORIGIN, this.instanceId);
    // NATS/1.0 header block as nats.js encodes it for HPUB.
    this.originBytes = Buffer.byteLength(`NATS/1.0\r\n${ORIGIN}: ${this.instanceId}\r\n\r\n`);
  }

  static async connect(url: string, events: EventHub, log: Logger): Promise<NatsBus> {
    // noEcho: NATS does not send this connection's own publications back to it.
    const nc = await connect({
      servers: url,
      name: 'tethys',
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      reconnectJitter: RECONNECT_JITTER_MS,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
    });
    const bus = new NatsBus(nc, events, log);
    bus.subscribeMessages();
    bus.bridgeEvents();
    void bus.followStatus();
    log.info({ url }, 'message bus: NATS');
    return bus;
  }

  state(): 'connected' | 'disconnected' {
    return this.available() ? 'connected' : 'disconnected';
  }

  private available(): boolean {
    return this.connected && !this.nc.isClosed() && Date.now() >= this.acceptFrom;
  }

  private async followStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        if (!this.connected) continue;
        this.connected = false;
        this.log.warn(
          { server: status.server },
          'message bus disconnected: publishes answer 503 until it is back',
        );
        this.failBatch();
        // Caches filled from now on may miss changes made elsewhere; forgotten again on reconnect.
        this.staleLocally();
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.acceptFrom = Date.now() + RESUBSCRIBE_GRACE_MS;
        this.log.info({ server: status.server }, 'message bus reconnected');
        this.staleLocally();
        // The others may have missed this instance's invalidations (or NATS did not see them).
        this.sendEvent('caches.stale', {});
      } else if (status.type === 'close') {
        this.connected = false;
        this.failBatch();
      }
    }
  }

  private staleLocally(): void {
    this.events
      .applyRemote('caches.stale', {})
      .catch((err) => this.log.error({ err }, 'forgetting the caches failed'));
  }

  /**
   * Checks now what nats.js would refuse (no connection, a message over the server's
   * max_payload), so the caller can refuse the message; hands it to nats.js once the
   * loop has read its input, with every other message of this iteration: one socket
   * write and one PING for all of them.
   */
  publish(message: Message): BusError | Promise<void> {
    const data = encodeMessage(message);
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data.length + this.originBytes > max) {
      return new BusError(
        `a ${message.payload.length}-byte message is over the message bus limit (nats-server max_payload ${max})`,
        true,
      );
    }
    if (!this.available()) return new BusError(BUS_UNAVAILABLE, false);
    let batch = this.batch;
    if (!batch) {
      let resolve!: () => void;
      let reject!: (err: BusError) => void;
      const confirmed = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Publishers that do not wait (MQTT QoS 0) must not make an unhandled rejection.
      confirmed.catch(() => {});
      batch = { messages: [], confirmed, resolve, reject };
      this.batch = batch;
      setImmediate(() => this.send());
    }
    batch.messages.push({ subject: subjectOf(message.channel, message.subtopic), data });
    return batch.confirmed;
  }

  private send(): void {
    const batch = this.batch;
    this.batch = null;
    if (!batch) return;
    if (!this.available() && !this.closing) {
      batch.reject(new BusError(BUS_UNAVAILABLE, false));
      return;
    }
    try {
      for (const m of batch.messages) this.nc.publish(m.subject, m.data, { headers: this.origin });
    } catch (err) {
      batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err }));
      return;
    }
    const timer = setTimeout(
      () => batch.reject(new BusError(`${BUS_UNAVAILABLE}: no confirmation in time`, false)),
      CONFIRM_TIMEOUT_MS,
    );
    this.nc.flush().then(
      () => {
        clearTimeout(timer);
        batch.resolve();
      },
      (err) => {
        clearTimeout(timer);
        batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err }));
      },
    );
  }

  /** The batch not yet sent when the connection broke: nats.js would drop it unsent. */
  private failBatch(): void {
    const batch = this.batch;
    this.batch = null;
    batch?.reject(new BusError(BUS_UNAVAILABLE, false));
  }

  payloadLimit(): number | null {
    const max = this.nc.info?.max_payload;
    return max ? Math.max(0, max - ENVELOPE_ALLOWANCE) : null;
  }

  onMessage(handler: (message: Message) => void): void {
    this.handlers.push(handler);
  }

  private subscribeMessages(): void {
    this.nc.subscribe('channels.>', {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        let message: Message;
        try {
          message = decodeMessage(Buffer.from(msg.data));
        } catch (e) {
          this.log.warn(
            { subject: msg.subject, err: (e as Error).message },
            'undecodable message on the bus',
          );
          return;
        }
        for (const h of this.handlers) h(message);
      },
    });
  }

  private sendEvent(name: keyof DomainEvents, event: unknown): void {
    try {
      this.nc.publish(EVENTS_SUBJECT, JSON.stringify({ name, event }), { headers: this.origin });
    } catch (err) {
      this.log.error({ err, event: name }, 'could not tell the other instances of a change');
    }
  }

  private bridgeEvents(): void {
    // The change is committed: failing the request now would not undo it. An event
    // lost with a broken connection is covered by 'caches.stale' when it is back.
    this.events.forward = async (name, event) => this.sendEvent(name, event);
    this.nc.subscribe(EVENTS_SUBJECT, {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        try {
          const { name, event } = JSON.parse(Buffer.from(msg.data).toString()) as {
            name: keyof DomainEvents;
            event: never;
          };
          this.events
            .applyRemote(name, event)
            .catch((e) => this.log.error({ err: e }, 'applying a remote event failed'));
        } catch {
          this.log.warn('undecodable event on the bus');
        }
      },
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.send();
    await this.nc.drain().catch(() => {});
  }
}

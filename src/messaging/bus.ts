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
  /** Hands a message to the other instances; throws a BusError when the bus cannot take it. */
  publish(message: Message): void;
  onMessage(handler: (message: Message) => void): void;
  /** The largest message payload the bus carries (bytes), or null when it has no limit of its own. */
  payloadLimit(): number | null;
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

export class InProcessBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  publish(): void {}
  onMessage(): void {}
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
 * NATS: messages on `channels.<id>[.<subtopic>]` as Mainflux's protobuf (readable by
 * Mainflux-style consumers), domain events as JSON on `tethys.events`. Each carries its
 * instance in a header, and an instance ignores its own.
 */
export class NatsBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  private handlers: ((m: Message) => void)[] = [];
  /** The origin header of every message and event of this instance, and its encoded size. */
  private origin: MsgHdrs;
  private originBytes: number;
  /** Messages accepted in this loop iteration, published together (see publish). */
  private pending: { subject: string; data: Uint8Array }[] = [];
  private flushScheduled = false;

  private constructor(
    private nc: NatsConnection,
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
      reconnectTimeWait: 500,
    });
    const bus = new NatsBus(nc, log);
    bus.subscribeMessages();
    bus.bridgeEvents(events);
    log.info({ url }, 'message bus: NATS');
    return bus;
  }

  /**
   * Checks now what nats.js would refuse (a closed connection, a message over the
   * server's max_payload), so the caller can refuse the message; hands it to nats.js
   * once the loop has read its input. nats.js writes what it is given in one turn of
   * the microtask queue as one socket write: per message that was a system call, per
   * loop iteration it is one for all the messages read in it.
   */
  publish(message: Message): void {
    const data = encodeMessage(message);
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data.length + this.originBytes > max) {
      throw new BusError(
        `a ${message.payload.length}-byte message is over the message bus limit (nats-server max_payload ${max})`,
        true,
      );
    }
    if (this.nc.isClosed()) throw new BusError('message bus unavailable', false);
    this.pending.push({ subject: subjectOf(message.channel, message.subtopic), data });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    for (const m of batch) {
      try {
        this.nc.publish(m.subject, m.data, { headers: this.origin });
      } catch (err) {
        // Closed in the same loop iteration: too late to refuse the message.
        this.log.error({ err, subject: m.subject }, 'message not handed to the bus');
      }
    }
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

  private bridgeEvents(events: EventHub): void {
    events.forward = async (name, event) => {
      // The change is committed: failing the request now would not undo it.
      try {
        this.nc.publish(EVENTS_SUBJECT, JSON.stringify({ name, event }), { headers: this.origin });
      } catch (err) {
        this.log.error({ err, event: name }, 'could not tell the other instances of a change');
      }
    };
    this.nc.subscribe(EVENTS_SUBJECT, {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        try {
          const { name, event } = JSON.parse(Buffer.from(msg.data).toString()) as {
            name: keyof DomainEvents;
            event: never;
          };
          events
            .applyRemote(name, event)
            .catch((e) => this.log.error({ err: e }, 'applying a remote event failed'));
        } catch {
          this.log.warn('undecodable event on the bus');
        }
      },
    });
  }

  async close(): Promise<void> {
    this.flush();
    await this.nc.drain().catch(() => {});
  }
}

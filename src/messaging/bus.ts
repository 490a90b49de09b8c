import crypto from 'node:crypto';
import { type NatsConnection, connect, headers as natsHeaders } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { DomainEvents, EventHub } from '../events.js';
import { type Message, decodeMessage, encodeMessage, subjectOf } from './message.js';

/**
 * What travels between Tethys instances: accepted messages (so a subscriber on any
 * instance gets them) and domain events (so every instance's caches and live sessions
 * follow a change made on another). One instance needs neither: the in-process bus
 * delivers nothing anywhere else.
 */
export interface Bus {
  readonly instanceId: string;
  publish(message: Message): void;
  onMessage(handler: (message: Message) => void): void;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  publish(): void {}
  onMessage(): void {}
  async close(): Promise<void> {}
}

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

  private constructor(
    private nc: NatsConnection,
    private log: Logger,
  ) {}

  static async connect(url: string, events: EventHub, log: Logger): Promise<NatsBus> {
    const nc = await connect({ servers: url, name: 'tethys', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const bus = new NatsBus(nc, log);
    bus.subscribeMessages();
    bus.bridgeEvents(events);
    log.info({ url }, 'message bus: NATS');
    return bus;
  }

  private headers() {
    const h = natsHeaders();
    h.set(ORIGIN, this.instanceId);
    return h;
  }

  publish(message: Message): void {
    this.nc.publish(subjectOf(message.channel, message.subtopic), encodeMessage(message), { headers: this.headers() });
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
          this.log.warn({ subject: msg.subject, err: (e as Error).message }, 'undecodable message on the bus');
          return;
        }
        for (const h of this.handlers) h(message);
      },
    });
  }

  private bridgeEvents(events: EventHub): void {
    events.forward = async (name, event) => {
      this.nc.publish(EVENTS_SUBJECT, JSON.stringify({ name, event }), { headers: this.headers() });
    };
    this.nc.subscribe(EVENTS_SUBJECT, {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        try {
          const { name, event } = JSON.parse(Buffer.from(msg.data).toString()) as { name: keyof DomainEvents; event: never };
          events.applyRemote(name, event).catch((e) => this.log.error({ err: e }, 'applying a remote event failed'));
        } catch {
          this.log.warn('undecodable event on the bus');
        }
      },
    });
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => {});
  }
}

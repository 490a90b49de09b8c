import type { Message } from '../message.js';
import type { Connection } from './connection.js';
import type { Subscription, SubscriptionOwner } from './subscriptions.js';

/** A QoS 1 message for a session: waiting to be sent, or sent and not yet acknowledged. */
export interface Pending {
  message: Message;
  /** Sent before (a resend after a reconnect carries DUP). */
  sent: boolean;
}

/** A will as the CONNECT gave it. */
export interface Will {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** MQTT 5: seconds to wait after the connection is lost before publishing it. */
  delaySeconds: number;
  properties?: Message['properties'];
}

/**
 * One client's session: a thing and a client id. It outlives its connection when it
 * is persistent (MQTT 3.1.1 clean session 0, MQTT 5 session expiry > 0), keeping its
 * subscriptions and, up to a bound, the QoS 1 messages that arrived meanwhile. Sessions
 * live in the instance that made them.
 */
export class Session implements SubscriptionOwner {
  connection: Connection | null = null;
  /** By filter as subscribed. */
  readonly subscriptions = new Map<string, Subscription<Session>>();
  /** QoS 1 messages not yet sent (offline, or over the client's receive maximum). */
  queue: Pending[] = [];
  /** QoS 1 messages sent and not yet acknowledged, by packet id. */
  readonly inflight = new Map<number, Pending>();
  /** Seconds the session outlives its connection (0: it ends with it). */
  expirySeconds = 0;
  expiryTimer: NodeJS.Timeout | null = null;
  will: Will | null = null;
  willTimer: NodeJS.Timeout | null = null;
  /** How it authenticated: its key, or its client certificate's serial. */
  credential: { key?: string; serial?: string } = {};
  private nextId = 1;

  constructor(
    readonly thingId: string,
    readonly clientId: string,
  ) {}

  /** The map key of a session: a client id is unique per thing, not across things. */
  static keyOf(thingId: string, clientId: string): string {
    return `${thingId}\u0000${clientId}`;
  }

  get key(): string {
    return Session.keyOf(this.thingId, this.clientId);
  }

  /** A packet id not in flight (1-65535). */
  allocateId(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    throw new Error('no free packet id');
  }

  /** Queues a QoS 1 message; when full, the oldest goes. Returns whether one was dropped. */
  enqueue(pending: Pending, max: number): boolean {
    this.queue.push(pending);
    if (this.queue.length <= max) return false;
    this.queue.shift();
    return true;
  }

  clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.willTimer) clearTimeout(this.willTimer);
    this.expiryTimer = null;
    this.willTimer = null;
  }
}

import client from 'prom-client';
import { DomainError, forbidden, unavailable } from '../errors.js';
import type { ThingAccess } from '../things/access.js';
import { isUuid } from '../things/types.js';
import { BUS_UNAVAILABLE, type Bus, BusError } from './bus.js';
import { type Message, nowNanos } from './message.js';

const published = new client.Counter({
  name: 'tethys_messages_published_total',
  help: 'Messages accepted, by protocol',
  labelNames: ['protocol'],
});
const refused = new client.Counter({
  name: 'tethys_messages_refused_total',
  help: 'Messages refused, by protocol and reason',
  labelNames: ['protocol', 'reason'],
});

/** Seconds a publisher is told to wait (Retry-After) while the bus is away. */
const BUS_RETRY_AFTER_S = 1;

function asBusError(err: unknown): BusError {
  return err instanceof BusError ? err : new BusError(BUS_UNAVAILABLE, false, { cause: err });
}

export const NOT_ALLOWED = 'thing is not connected to the channel or its key is unknown';

/**
 * "Only things connected to a channel can send and receive messages in it": every
 * message is checked against the access cache, then delivered to this instance's
 * subscribers and handed to the bus for the other instances.
 */
export class MessagingService {
  private deliverLocally: (m: Message) => void = () => {};

  constructor(
    private access: ThingAccess,
    private bus: Bus,
  ) {
    bus.onMessage((m) => this.deliverLocally(m));
  }

  /** The broker registers how a message reaches this instance's subscribers. */
  setLocalDelivery(deliver: (m: Message) => void): void {
    this.deliverLocally = deliver;
  }

  /** HTTP adapter: the thing is the one whose key is given. */
  async publishWithKey(
    key: string,
    channelId: string,
    subtopic: string,
    payload: Buffer,
    protocol: string,
  ): Promise<void> {
    const thingId =
      key && isUuid(channelId) ? await this.access.canAccessByKey(channelId.toLowerCase(), key) : null;
    if (!thingId) {
      refused.inc({ protocol, reason: 'access' });
      throw forbidden(NOT_ALLOWED);
    }
    const message: Message = {
      channel: channelId.toLowerCase(),
      subtopic,
      publisher: thingId,
      protocol,
      payload,
      created: nowNanos(),
    };
    // The bus first: a message it cannot carry is refused, not delivered on this instance only.
    const sent = this.bus.publish(message);
    const refuse = (err: unknown): never => {
      const failure = asBusError(err);
      refused.inc({ protocol, reason: failure.tooLarge ? 'too_large' : 'bus' });
      throw failure.tooLarge
        ? new DomainError('too_large', failure.message, { cause: failure })
        : unavailable(BUS_UNAVAILABLE, BUS_RETRY_AFTER_S, failure);
    };
    if (sent instanceof BusError) refuse(sent);
    else if (sent) await sent.catch(refuse);
    published.inc({ protocol });
    this.deliverLocally(message);
  }

  /**
   * MQTT: the broker already checked access. A BusError when the bus cannot take the
   * message (the broker refuses it); null when it is accepted with nothing to wait for
   * (one instance); otherwise a promise that resolves once the bus has it (the broker
   * acknowledges a QoS 1 publish then) or rejects with a BusError.
   */
  accepted(message: Message): BusError | Promise<void> | null {
    const sent = this.bus.publish(message);
    if (sent instanceof BusError) return sent;
    if (sent === null) {
      published.inc({ protocol: message.protocol });
      return null;
    }
    return sent.then(
      () => {
        published.inc({ protocol: message.protocol });
      },
      (err) => {
        throw asBusError(err);
      },
    );
  }

  /** The largest payload every instance receives, or null without a limit beyond the configured one. */
  busPayloadLimit(): number | null {
    return this.bus.payloadLimit();
  }

  /** Whether shared subscription groups span instances (see Bus.sharesAcrossInstances). */
  get sharesAcrossInstances(): boolean {
    return this.bus.sharesAcrossInstances;
  }

  /** Joins a shared subscription group across instances (see Bus.joinShared). */
  joinShared(
    group: string,
    channel: string,
    levels: string[],
    handler: (message: Message) => void,
  ): () => void {
    return this.bus.joinShared(group, channel, levels, handler);
  }

  /** `in-process`, or whether this instance is connected to NATS (for /health). */
  busState(): string {
    return this.bus.state();
  }

  refused(protocol: string, reason: string): void {
    refused.inc({ protocol, reason });
  }
}

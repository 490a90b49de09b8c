import client from 'prom-client';
import { DomainError, forbidden } from '../errors.js';
import type { ThingAccess } from '../things/access.js';
import { isUuid } from '../things/types.js';
import { type Bus, BusError } from './bus.js';
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
    const failure = this.toBus(message);
    if (failure) {
      refused.inc({ protocol, reason: failure.tooLarge ? 'too_large' : 'bus' });
      throw new DomainError(failure.tooLarge ? 'too_large' : 'not_configured', failure.message, {
        cause: failure,
      });
    }
    published.inc({ protocol });
    this.deliverLocally(message);
  }

  /**
   * MQTT: the broker already checked access and delivers locally once this returns
   * null; otherwise the bus could not take the message and the broker refuses it.
   */
  accepted(message: Message): BusError | null {
    const failure = this.toBus(message);
    if (!failure) published.inc({ protocol: message.protocol });
    return failure;
  }

  /** The largest payload every instance receives, or null without a limit beyond the configured one. */
  busPayloadLimit(): number | null {
    return this.bus.payloadLimit();
  }

  private toBus(message: Message): BusError | null {
    try {
      this.bus.publish(message);
      return null;
    } catch (err) {
      return err instanceof BusError ? err : new BusError('message bus unavailable', false, { cause: err });
    }
  }

  refused(protocol: string, reason: string): void {
    refused.inc({ protocol, reason });
  }
}

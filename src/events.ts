import { afterCommit } from './db/transactions.js';

/**
 * Domain events inside one process. Mainflux carries these over a Redis stream between
 * services (MODEL.md §4); here they are synchronous hooks awaited before the change is
 * acknowledged, so caches and dependent services are consistent on the next request.
 */
export interface DomainEvents {
  'thing.removed': { id: string; key: string; owner: string };
  'thing.key_changed': { id: string; oldKey: string };
  'channel.removed': { id: string; owner: string };
  'channel.updated': { id: string; name: string; metadata: Record<string, unknown> };
  'connection.added': { channelId: string; thingId: string };
  'connection.removed': { channelId: string; thingId: string };
  'key.revoked': { id: string; issuerId: string };
  'cert.revoked': { thingId: string; serial: string };
  /** A bootstrap config's content, certificates or channel list changed, or it was removed. */
  'bootstrap.changed': { thingId: string };
  /**
   * Changes made on other instances may have been missed (the bus was disconnected):
   * every cache forgets what it holds and live sessions are checked again. Never
   * emitted: the bus applies it on this instance and sends it to the others.
   */
  'caches.stale': Record<string, never>;
}

export interface ListenerOptions {
  /**
   * Also run for the same event from another instance (carried by the bus). Only for
   * listeners that forget cached state or drop live sessions: a listener that writes
   * to the shared database must run once, on the instance that made the change.
   */
  everyInstance?: boolean;
}

type Listener<T> = (event: T) => void | Promise<void>;

export class EventHub {
  private listeners = new Map<keyof DomainEvents, { listener: Listener<any>; everyInstance: boolean }[]>();
  /** Set by the bus: carries events to the other instances. */
  forward?: (name: keyof DomainEvents, event: unknown) => Promise<void>;

  on<E extends keyof DomainEvents>(
    name: E,
    listener: Listener<DomainEvents[E]>,
    options: ListenerOptions = {},
  ): void {
    const list = this.listeners.get(name) ?? [];
    list.push({ listener, everyInstance: options.everyInstance ?? false });
    this.listeners.set(name, list);
  }

  /** An event another instance emitted: only `everyInstance` listeners run. */
  async applyRemote<E extends keyof DomainEvents>(name: E, event: DomainEvents[E]): Promise<void> {
    for (const { listener, everyInstance } of this.listeners.get(name) ?? []) {
      if (everyInstance) await listener(event);
    }
  }

  /**
   * Events describe committed changes: inside a transaction they are delivered once it
   * commits (and never when it rolls back), so no cache learns of a change that did
   * not happen or reads the old state back before the new one is visible.
   */
  async emit<E extends keyof DomainEvents>(name: E, event: DomainEvents[E]): Promise<void> {
    await afterCommit(async () => {
      for (const { listener } of this.listeners.get(name) ?? []) await listener(event);
      await this.forward?.(name, event);
    });
  }
}

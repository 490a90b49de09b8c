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
}

type Listener<T> = (event: T) => void | Promise<void>;

export class EventHub {
  private listeners = new Map<keyof DomainEvents, Listener<any>[]>();

  on<E extends keyof DomainEvents>(name: E, listener: Listener<DomainEvents[E]>): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
  }

  /**
   * Events describe committed changes: inside a transaction they are delivered once it
   * commits (and never when it rolls back), so no cache learns of a change that did
   * not happen or reads the old state back before the new one is visible.
   */
  async emit<E extends keyof DomainEvents>(name: E, event: DomainEvents[E]): Promise<void> {
    const list = this.listeners.get(name);
    if (!list) return;
    await afterCommit(async () => {
      for (const listener of list) await listener(event);
    });
  }
}

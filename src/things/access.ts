import { Batcher } from '../batcher.js';
import type { EventHub } from '../events.js';
import { Lru } from '../lru.js';
import type { ConnectionsRepository, ThingsRepository } from './repo.js';

/** Channels remembered per thing before that thing's entry starts over. */
const CHANNELS_PER_THING = 1024;

/**
 * The access check run on every message: thing key → thing id, and "may thing T use
 * channel C". Answers come from bounded in-memory caches; every change that can revoke
 * access (disconnect, key change, thing or channel removal) updates them through the
 * event hub before the change is acknowledged, so the very next check is exact.
 */
export class ThingAccess {
  private idByKey: Lru<string, string>;
  private channelsByThing: Lru<string, Map<string, boolean>>;
  /**
   * Moves on every change. A database answer read while a change happened may predate
   * it, so it is returned but not remembered: the next check reads again.
   */
  private generation = 0;
  /** Cache misses of keys asked at about the same time share one statement. */
  private keys: Batcher<string, string>;
  /** Pairs being looked up: a pair asked again meanwhile shares the answer. */
  private lookups = new Map<string, Promise<boolean>>();

  constructor(
    things: ThingsRepository,
    private connections: ConnectionsRepository,
    events: EventHub,
    cacheSize: number,
  ) {
    this.idByKey = new Lru(cacheSize);
    this.keys = new Batcher((keys) => things.idsByKeys(keys), 1, 256, things.admission);
    this.channelsByThing = new Lru(cacheSize);
    events.on(
      'thing.removed',
      ({ id, key }) => {
        this.generation++;
        this.idByKey.delete(key);
        this.channelsByThing.delete(id);
      },
      { everyInstance: true },
    );
    events.on(
      'thing.key_changed',
      ({ oldKey }) => {
        this.generation++;
        this.idByKey.delete(oldKey);
      },
      { everyInstance: true },
    );
    // Rare and possibly connected to many things: forget all connection answers.
    events.on(
      'channel.removed',
      () => {
        this.generation++;
        this.channelsByThing.clear();
      },
      { everyInstance: true },
    );
    events.on(
      'caches.stale',
      () => {
        this.generation++;
        this.idByKey.clear();
        this.channelsByThing.clear();
      },
      { everyInstance: true },
    );
    events.on(
      'connection.added',
      ({ channelId, thingId }) => {
        this.generation++;
        this.channelsByThing.get(thingId)?.set(channelId, true);
      },
      { everyInstance: true },
    );
    events.on(
      'connection.removed',
      ({ channelId, thingId }) => {
        this.generation++;
        this.channelsByThing.get(thingId)?.set(channelId, false);
      },
      { everyInstance: true },
    );
  }

  /** The id of the thing with this key, or null. */
  async identify(key: string): Promise<string | null> {
    // No stored key holds NUL (and PostgreSQL could not compare one).
    if (!key || key.includes('\u0000')) return null;
    const cached = this.idByKey.get(key);
    if (cached) return cached;
    const generation = this.generation;
    const id = await this.keys.load(key);
    if (id && generation === this.generation) this.idByKey.set(key, id);
    return id;
  }

  async isConnected(channelId: string, thingId: string): Promise<boolean> {
    const cached = this.channelsByThing.get(thingId)?.get(channelId);
    if (cached !== undefined) return cached;
    // A publisher's first window of messages asks the same pair many times at once. A
    // lookup begun before a change may read the state before it: only asks made since
    // the same change (generation) share one.
    const pair = `${this.generation} ${thingId} ${channelId}`;
    let lookup = this.lookups.get(pair);
    if (!lookup) {
      lookup = this.lookUp(channelId, thingId).finally(() => this.lookups.delete(pair));
      this.lookups.set(pair, lookup);
    }
    return lookup;
  }

  private async lookUp(channelId: string, thingId: string): Promise<boolean> {
    const generation = this.generation;
    const connected = await this.connections.isConnected(channelId, thingId);
    if (generation !== this.generation) return connected;
    let channels = this.channelsByThing.get(thingId);
    if (!channels || channels.size >= CHANNELS_PER_THING) {
      channels = new Map();
      this.channelsByThing.set(thingId, channels);
    }
    channels.set(channelId, connected);
    return connected;
  }

  /** The cached answer for a pair, if any, without asking the database (sync). */
  peek(channelId: string, thingId: string): boolean | undefined {
    return this.channelsByThing.get(thingId)?.get(channelId);
  }

  /** The thing id when the key's thing may use the channel, else null. */
  async canAccessByKey(channelId: string, key: string): Promise<string | null> {
    const thingId = await this.identify(key);
    if (!thingId) return null;
    return (await this.isConnected(channelId, thingId)) ? thingId : null;
  }
}

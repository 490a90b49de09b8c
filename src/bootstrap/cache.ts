import type { EventHub } from '../events.js';
import { Lru } from '../lru.js';
import type { BootstrapRepository } from './repo.js';
import type { BootstrapConfig } from './types.js';

/** Configs remembered by external id (a config with certificates is a few KiB). */
export const CONFIG_CACHE_SIZE = 4096;

/**
 * The gateway's fetch reads configs by external id from a bounded cache. Everything a
 * fetch returns comes from the config, its thing (id, key) and its channels (id, name,
 * metadata), so every change to one of them forgets the cache before it is
 * acknowledged, here and (over the bus) on every instance: the next fetch is exact.
 * Such changes are rare next to fetches, so forgetting all of it keeps the rule simple.
 */
export class ConfigCache {
  private configs = new Lru<string, BootstrapConfig>(CONFIG_CACHE_SIZE);
  /** Moves on every change: an answer read while one happened is returned, not kept. */
  private generation = 0;

  constructor(
    private repo: BootstrapRepository,
    events: EventHub,
  ) {
    const forget = () => {
      this.generation++;
      this.configs.clear();
    };
    const every = { everyInstance: true };
    events.on('bootstrap.changed', forget, every);
    events.on('thing.removed', forget, every);
    events.on('thing.key_changed', forget, every);
    events.on('channel.removed', forget, every);
    events.on('channel.updated', forget, every);
    events.on('caches.stale', forget, every);
  }

  async byExternalId(externalId: string): Promise<BootstrapConfig | null> {
    const cached = this.configs.get(externalId);
    if (cached) return cached;
    const generation = this.generation;
    const config = await this.repo.byExternalId(externalId);
    if (config && generation === this.generation) this.configs.set(externalId, config);
    return config;
  }
}

import { Lru } from '../lru.js';

/** Every how many rows of a listing an anchor (the sort key of that row) is kept. */
export const ANCHOR_EVERY = 1000;

export interface Anchor {
  id: string;
  name: string;
}

/**
 * OFFSET paging costs a walk over every skipped index entry: half a million of them
 * for a random page of a 1M-thing account. Anchors remember the sort key of every
 * ANCHOR_EVERY-th row, so a page starts from the nearest anchor and skips fewer than
 * ANCHOR_EVERY rows. They are tagged with the owner's write counter (kept by database
 * triggers, so every instance sees every write) and rebuilt when it moves: pages stay
 * exact.
 */
export class PageAnchors {
  private cache = new Lru<string, { version: string; anchors: Promise<Anchor[]> }>(128);

  get(key: string, version: string, load: () => Promise<Anchor[]>): Promise<Anchor[]> {
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit.anchors;
    const anchors = load();
    this.cache.set(key, { version, anchors });
    anchors.catch(() => this.cache.delete(key));
    return anchors;
  }
}

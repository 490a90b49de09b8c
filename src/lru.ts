/** One cached entry, linked in recency order. */
class Entry<K, V> {
  /** Towards the most recently used end. */
  newer: Entry<K, V> | null = null;
  /** Towards the least recently used end. */
  older: Entry<K, V> | null = null;

  constructor(
    readonly key: K,
    public value: V,
  ) {}
}

/**
 * A bounded least-recently-used map. Every cache in Tethys is one of these, so memory
 * stays flat however many things a database holds.
 *
 * Recency is a linked list beside the Map, and a hit only relinks its entry. It used to
 * be the Map's own insertion order (delete and set again on every hit), but V8 leaves a
 * deleted entry in its bucket's chain until the table is next rebuilt, and a rebuild
 * waits for as many insertions as the table has spare slots: a key used over and over
 * in a full cache of 50,000 entries ends up behind tens of thousands of its own dead
 * entries, and every lookup walks them. Measured with one busy thing publishing over
 * HTTP after the caches had filled: 190–510 µs of server CPU a request instead of 83,
 * growing with every request until the next rebuild.
 */
export class Lru<K, V> {
  private map = new Map<K, Entry<K, V>>();
  private newest: Entry<K, V> | null = null;
  private oldest: Entry<K, V> | null = null;

  constructor(readonly capacity: number) {}

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    this.touch(entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const entry = this.map.get(key);
    if (entry !== undefined) {
      entry.value = value;
      this.touch(entry);
      return;
    }
    if (this.map.size >= this.capacity && this.oldest) this.remove(this.oldest);
    const added = new Entry(key, value);
    this.map.set(key, added);
    this.link(added);
  }

  delete(key: K): void {
    const entry = this.map.get(key);
    if (entry !== undefined) this.remove(entry);
  }

  clear(): void {
    this.map = new Map();
    this.newest = null;
    this.oldest = null;
  }

  get size(): number {
    return this.map.size;
  }

  /** Keys from the least to the most recently used. */
  *keys(): IterableIterator<K> {
    for (let e = this.oldest; e; e = e.newer) yield e.key;
  }

  private touch(entry: Entry<K, V>): void {
    if (entry === this.newest) return;
    this.unlink(entry);
    this.link(entry);
  }

  private remove(entry: Entry<K, V>): void {
    this.map.delete(entry.key);
    this.unlink(entry);
  }

  /** Puts an unlinked entry at the most recent end. */
  private link(entry: Entry<K, V>): void {
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry<K, V>): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = null;
    entry.newer = null;
  }
}

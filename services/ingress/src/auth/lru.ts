/**
 * A size-bounded map that forgets the least recently used entry first. `get` refreshes recency; both
 * operations are O(1) (a Map keeps insertion order, so re-inserting moves an entry to the young end).
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  /**
   * The key at the young end (the last one set or refreshed), when known: a hit on it is already in place, so it
   * skips the delete and re-insert (each leaves a hole that the Map compacts by rehashing now and then). Exact:
   * the order stays what a re-insert would make it.
   */
  private youngest: K | undefined;
  private hasYoungest = false;

  constructor(readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be >= 1');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (this.hasYoungest && this.youngest === key) return v;
    this.map.delete(key);
    this.map.set(key, v);
    this.markYoungest(key);
    return v;
  }

  /** Reads without refreshing recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.markYoungest(key);
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    if (this.hasYoungest && this.youngest === key) this.forgetYoungest();
    return this.map.delete(key);
  }

  clear(): void {
    this.forgetYoungest();
    this.map.clear();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  private markYoungest(key: K): void {
    this.youngest = key;
    this.hasYoungest = true;
  }

  private forgetYoungest(): void {
    this.youngest = undefined;
    this.hasYoungest = false;
  }
}

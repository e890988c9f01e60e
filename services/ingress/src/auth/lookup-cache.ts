import { Lru } from './lru.js';

export interface LookupCacheOptions {
  /** A found value is served without asking the store for this long. */
  ttlMs: number;
  /** A miss (null) is remembered this long. */
  negativeTtlMs: number;
  /** While the store fails, entries up to this old are still served. */
  maxStaleMs: number;
  maxEntries: number;
}

interface Entry<V> {
  value: V | null;
  fetchedAt: number;
}

/** The store failed and nothing usable was cached. */
export class LookupUnavailableError extends Error {
  override readonly name = 'LookupUnavailableError';
}

/**
 * Caches store lookups by a string key, positive and negative, in a bounded LRU.
 *
 * * Fresh entries are returned synchronously (no promise, no store round trip).
 * * An expired positive entry (younger than maxStaleMs) is returned at once while one background lookup
 *   refreshes it, so a slow or absent store never delays a known key. Expired misses are looked up again
 *   before answering (a key created a moment ago must start working).
 * * Concurrent lookups of one key share one store call.
 * * When the store throws, an entry up to maxStaleMs old is served; without one, LookupUnavailableError.
 * * `invalidate`/`clear` also discard lookups in flight, so an answer read before an invalidation is never cached.
 */
export class LookupCache<V> {
  private readonly lru: Lru<string, Entry<V>>;
  private readonly inflight = new Map<string, Promise<V | null>>();
  private generation = 0;

  constructor(
    private readonly opts: LookupCacheOptions,
    /** Called when the store failed and a stale entry was served instead. */
    private readonly onStale: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new Lru(opts.maxEntries);
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string, load: () => Promise<V | null>): V | null | Promise<V | null> {
    const e = this.lru.get(key);
    if (e) {
      const age = this.now() - e.fetchedAt;
      if (age < (e.value === null ? this.opts.negativeTtlMs : this.opts.ttlMs)) return e.value;
      if (e.value !== null && age < this.opts.maxStaleMs) {
        this.fetch(key, load).catch(() => undefined);
        return e.value;
      }
    }
    return this.fetch(key, load);
  }

  /** Remembers a value as if just looked up (e.g. from an event that carries it). */
  put(key: string, value: V | null): void {
    this.lru.set(key, { value, fetchedAt: this.now() });
  }

  invalidate(key: string): void {
    this.generation++;
    this.lru.delete(key);
    this.inflight.delete(key);
  }

  clear(): void {
    this.generation++;
    this.lru.clear();
    this.inflight.clear();
  }

  private fetch(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const running = this.inflight.get(key);
    if (running) return running;
    const gen = this.generation;
    const p = load().then(
      (value) => {
        if (gen === this.generation) this.lru.set(key, { value, fetchedAt: this.now() });
        return value;
      },
      (err: unknown) => {
        const e = this.lru.peek(key);
        if (e && this.now() - e.fetchedAt < this.opts.maxStaleMs) {
          this.onStale(err);
          return e.value;
        }
        throw new LookupUnavailableError(err instanceof Error ? err.message : String(err), { cause: err });
      },
    );
    this.inflight.set(key, p);
    const done = (): void => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    };
    p.then(done, done);
    return p;
  }
}

/**
 * Requests in flight per API key, so that revoking a key stops what it is running too: a revoked key's stream must
 * not run on for minutes. Each entry is the request's abort; the proxy removes it when the request settles.
 */
export class KeyStreams {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Registers a request's abort under its key; returns the function that unregisters it. */
  add(keyId: string, abort: () => void): () => void {
    let set = this.byKey.get(keyId);
    if (!set) this.byKey.set(keyId, (set = new Set()));
    set.add(abort);
    return () => {
      set.delete(abort);
      if (set.size === 0 && this.byKey.get(keyId) === set) this.byKey.delete(keyId);
    };
  }

  /** Aborts every request in flight with this key; returns how many. */
  revoke(keyId: string): number {
    const set = this.byKey.get(keyId);
    if (!set) return 0;
    this.byKey.delete(keyId);
    const aborts = [...set];
    for (const abort of aborts) abort();
    return aborts.length;
  }
}

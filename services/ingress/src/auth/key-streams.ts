/** A request in flight that a key's revocation stops. */
export interface Revocable {
  revoked(): void;
}

/**
 * Requests in flight per API key, so that revoking a key stops what it is running too: a revoked key's stream must
 * not run on for minutes. The proxy adds each request when it starts and removes it when it settles.
 */
export class KeyStreams {
  private readonly byKey = new Map<string, Set<Revocable>>();

  add(keyId: string, request: Revocable): void {
    let set = this.byKey.get(keyId);
    if (!set) this.byKey.set(keyId, (set = new Set()));
    set.add(request);
  }

  remove(keyId: string, request: Revocable): void {
    const set = this.byKey.get(keyId);
    if (!set?.delete(request)) return;
    if (set.size === 0) this.byKey.delete(keyId);
  }

  /** Stops every request in flight with this key; returns how many. */
  revoke(keyId: string): number {
    const set = this.byKey.get(keyId);
    if (!set) return 0;
    this.byKey.delete(keyId);
    const requests = [...set];
    for (const r of requests) r.revoked();
    return requests.length;
  }
}

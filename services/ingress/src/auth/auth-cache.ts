import type { Logger } from '@tokios/shared/log';
import { hashSecret, type AliasMode, type KeyLimits, type Store } from '@tokios/shared/store';
import { LookupCache, type LookupCacheOptions } from './lookup-cache.js';
import { Lru } from './lru.js';

/** Who sends an admitted request: the key's tenant, id and limits. */
export interface Caller {
  tenantId: string;
  keyId: string;
  limits: KeyLimits | null;
}

/**
 * What the ingress keeps of an API key: never the secret, only its hash as the cache key. `caller` is made with the
 * entry, once: every request of the key is admitted with it, rather than with a new object each.
 */
export interface CachedKey {
  revoked: boolean;
  caller: Caller;
}

function cachedKey(keyId: string, tenantId: string, limits: KeyLimits | null, revoked: boolean): CachedKey {
  return { revoked, caller: { tenantId, keyId, limits } };
}

export interface CachedDeployment {
  id: string;
  tenantId: string;
  name: string;
}

/** What a `model` name means: one deployment, or an alias and the targets the tenant may use now (in its order). */
export type CachedRoute =
  | { kind: 'deployment'; deployment: CachedDeployment }
  | { kind: 'alias'; aliasId: string; name: string; mode: AliasMode; targets: { deployment: CachedDeployment; weight: number }[] };

const slim = (d: CachedDeployment): CachedDeployment => ({ id: d.id, tenantId: d.tenantId, name: d.name });

export type AuthCacheOptions = LookupCacheOptions;

export const defaultAuthCacheOptions = (): AuthCacheOptions => ({
  ttlMs: 30_000,
  negativeTtlMs: 2_000,
  maxStaleMs: 5 * 60_000,
  maxEntries: 50_000,
});

/** A control event may race the store replica that serves our next read; invalidate once more after this. */
const SECOND_INVALIDATION_MS = 1_000;

/**
 * API keys by secret hash and deployments by (tenant, name), in front of the store (see LookupCache).
 * Control events make changes visible at once: a revoked key's hash is remembered as revoked (revocation is
 * final, so no store read can resurrect it), a changed key or deployment is dropped and re-read.
 */
export class AuthCache {
  private readonly keys: LookupCache<CachedKey>;
  private readonly deployments: LookupCache<CachedRoute>;
  private readonly revoked: Lru<string, string>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: Store,
    readonly options: AuthCacheOptions,
    private readonly log: Logger,
    now: () => number = Date.now,
  ) {
    let lastWarn = -Infinity;
    const warn = (what: string) => (err: unknown) => {
      const t = now();
      if (t - lastWarn < 5_000) return;
      lastWarn = t;
      log.warn({ err: err instanceof Error ? err.message : String(err) }, `${what} lookup failed; serving the cached copy`);
    };
    this.keys = new LookupCache(options, warn('api key'), now);
    this.deployments = new LookupCache(options, warn('deployment'), now);
    this.revoked = new Lru(options.maxEntries);
  }

  /** The key a presented secret belongs to, null when unknown. Synchronous when cached. */
  key(secret: string): CachedKey | null | Promise<CachedKey | null> {
    const hash = hashSecret(secret);
    const revokedId = this.revoked.peek(hash);
    if (revokedId !== undefined) return cachedKey(revokedId, '', null, true);
    return this.keys.get(hash, async () => {
      const k = await this.store.findApiKeyBySecret(secret);
      return k ? cachedKey(k.id, k.tenantId, k.limits, k.revokedAt !== null) : null;
    });
  }

  /** What a tenant means by `name` (own deployment or alias, shared, or owner-qualified), null when nothing. */
  route(tenantId: string, name: string): CachedRoute | null | Promise<CachedRoute | null> {
    return this.deployments.get(`${tenantId}\n${name}`, async (): Promise<CachedRoute | null> => {
      const r = await this.store.resolveModel(tenantId, name);
      if (!r) return null;
      if (r.kind === 'deployment') return { kind: 'deployment', deployment: slim(r.deployment) };
      const targets = r.targets.map((x) => ({ deployment: slim(x.deployment), weight: x.weight }));
      return { kind: 'alias', aliasId: r.alias.id, name: r.alias.name, mode: r.alias.mode, targets };
    });
  }

  keyRevoked(keyId: string, hash: string): void {
    this.revoked.set(hash, keyId);
    this.keys.invalidate(hash);
    this.log.info({ keyId }, 'api key revoked; rejected from now on');
  }

  keyChanged(keyId: string, hash: string): void {
    this.keys.invalidate(hash);
    this.later(() => this.keys.invalidate(hash));
    this.log.info({ keyId }, 'api key changed; cache entry dropped');
  }

  /**
   * Shares make one deployment reachable under several (tenant, name) pairs, and aliases name deployments too: drop
   * them all (changes are rare).
   */
  deploymentChanged(deploymentId: string): void {
    this.clearRoutes();
    this.log.info({ deploymentId }, 'deployment changed; name cache cleared');
  }

  aliasChanged(aliasId: string): void {
    this.clearRoutes();
    this.log.info({ aliasId }, 'alias changed; name cache cleared');
  }

  private clearRoutes(): void {
    this.deployments.clear();
    this.later(() => this.deployments.clear());
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, SECOND_INVALIDATION_MS);
    t.unref();
    this.timers.add(t);
  }
}

import type {
  ApiKey, Deployment, Invite, KeyLimits, Share, SharedDeployment, Store, Tenant, TunnelToken, UsageReport, WithSecret,
} from '@tokios/shared/store';
import { fromStoreError, notFound } from './errors.js';
import type { ControlEventPublisher } from './events.js';
import { canSee, tenantOf, type Scope } from './scope.js';
import { AliasOps } from './alias-ops.js';

/**
 * Every control operation, once: scoped to who asks (other tenants' objects are "not found"), one store
 * mutation each, then the matching control event so every replica acts at once. Used by the admin API and
 * by `tokios admin` on a local store.
 */
export class ControlOps {
  readonly aliases: AliasOps;

  constructor(
    readonly store: Store,
    private readonly events: ControlEventPublisher,
  ) {
    this.aliases = new AliasOps(store, events);
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw fromStoreError(err);
    }
  }

  // ---- tenants (operator) ----

  createTenant(name: string): Promise<Tenant> {
    return this.run(() => this.store.createTenant({ name }));
  }

  listTenants(): Promise<Tenant[]> {
    return this.run(() => this.store.listTenants());
  }

  async getTenant(scope: Scope, tenantId: string): Promise<Tenant> {
    const t = await this.run(() => this.store.getTenant(tenantId));
    if (!t || !canSee(scope, t.id)) throw notFound('tenant', tenantId);
    return t;
  }

  /** Issues (rotates) a tenant's console secret; its dashboard sessions end with the old one. */
  async issueConsoleSecret(tenantId: string): Promise<WithSecret<Tenant>> {
    const t = await this.run(() => this.store.getTenant(tenantId));
    if (!t) throw notFound('tenant', tenantId);
    return this.run(() => this.store.createTenantConsoleSecret(tenantId));
  }

  // ---- API keys ----

  createKey(scope: Scope, input: { name: string; limits?: KeyLimits | null }): Promise<WithSecret<ApiKey>> {
    const tenantId = tenantOf(scope);
    return this.run(() => this.store.createApiKey({ tenantId, name: input.name, limits: input.limits ?? null }));
  }

  listKeys(scope: Scope): Promise<ApiKey[]> {
    const tenantId = tenantOf(scope);
    return this.run(() => this.store.listApiKeys(tenantId));
  }

  async getKey(scope: Scope, keyId: string): Promise<ApiKey> {
    const k = await this.run(() => this.store.getApiKey(keyId));
    if (!k || !canSee(scope, k.tenantId)) throw notFound('API key', keyId);
    return k;
  }

  async revokeKey(scope: Scope, keyId: string): Promise<ApiKey> {
    await this.getKey(scope, keyId);
    const k = await this.run(() => this.store.revokeApiKey(keyId));
    if (!k) throw notFound('API key', keyId);
    await this.events.publish('key_revoked', { keyId: k.id, hash: k.hash });
    return k;
  }

  async setKeyLimits(scope: Scope, keyId: string, limits: KeyLimits | null): Promise<ApiKey> {
    await this.getKey(scope, keyId);
    const k = await this.run(() => this.store.setApiKeyLimits(keyId, limits));
    if (!k) throw notFound('API key', keyId);
    await this.events.publish('key_changed', { keyId: k.id, hash: k.hash });
    return k;
  }

  // ---- deployments ----

  async createDeployment(scope: Scope, name: string): Promise<Deployment> {
    const tenantId = tenantOf(scope);
    const d = await this.run(() => this.store.createDeployment({ tenantId, name }));
    // A name that did not resolve before does now: drop negative caches.
    await this.events.publish('deployment_changed', { deploymentId: d.id, tenantId });
    return d;
  }

  listDeployments(scope: Scope): Promise<Deployment[]> {
    const tenantId = tenantOf(scope);
    return this.run(() => this.store.listDeployments(tenantId));
  }

  async getDeployment(scope: Scope, deploymentId: string): Promise<Deployment> {
    const d = await this.run(() => this.store.getDeployment(deploymentId));
    if (!d || !canSee(scope, d.tenantId)) throw notFound('deployment', deploymentId);
    return d;
  }

  /** Deletes the deployment; its tokens are revoked (live tunnels closed), its invites and shares go with it. */
  async deleteDeployment(scope: Scope, deploymentId: string): Promise<Deployment> {
    await this.getDeployment(scope, deploymentId);
    const live = (await this.run(() => this.store.listTunnelTokens(deploymentId))).filter((t) => !t.revokedAt);
    const d = await this.run(() => this.store.deleteDeployment(deploymentId));
    if (!d) throw notFound('deployment', deploymentId);
    for (const t of live) await this.events.publish('token_revoked', { tokenId: t.id, deploymentId: d.id });
    await this.events.publish('deployment_changed', { deploymentId: d.id, tenantId: d.tenantId });
    return d;
  }

  // ---- tunnel tokens ----

  async createToken(scope: Scope, deploymentId: string): Promise<WithSecret<TunnelToken>> {
    await this.getDeployment(scope, deploymentId);
    return this.run(() => this.store.createTunnelToken({ deploymentId }));
  }

  async listTokens(scope: Scope, deploymentId: string): Promise<TunnelToken[]> {
    await this.getDeployment(scope, deploymentId);
    return this.run(() => this.store.listTunnelTokens(deploymentId));
  }

  /** Revokes the token and closes the live tunnels that use it (terminators act on `token_revoked`). */
  async revokeToken(scope: Scope, tokenId: string): Promise<TunnelToken> {
    if (scope.tenantId !== null) {
      const owned = await this.findOwned(scope.tenantId, (d) => this.store.listTunnelTokens(d.id), (t) => t.id === tokenId);
      if (!owned) throw notFound('tunnel token', tokenId);
    }
    const t = await this.run(() => this.store.revokeTunnelToken(tokenId));
    if (!t) throw notFound('tunnel token', tokenId);
    await this.events.publish('token_revoked', { tokenId: t.id, deploymentId: t.deploymentId });
    return t;
  }

  // ---- shared access ----

  async createInvite(scope: Scope, deploymentId: string, input: { expiresAt: string; maxUses: number }): Promise<WithSecret<Invite>> {
    await this.getDeployment(scope, deploymentId);
    return this.run(() => this.store.createInvite({ deploymentId, expiresAt: input.expiresAt, maxUses: input.maxUses }));
  }

  async listInvites(scope: Scope, deploymentId: string): Promise<Invite[]> {
    await this.getDeployment(scope, deploymentId);
    return this.run(() => this.store.listInvites(deploymentId));
  }

  async revokeInvite(scope: Scope, inviteId: string): Promise<Invite> {
    if (scope.tenantId !== null) {
      const owned = await this.findOwned(scope.tenantId, (d) => this.store.listInvites(d.id), (i) => i.id === inviteId);
      if (!owned) throw notFound('invite', inviteId);
    }
    const i = await this.run(() => this.store.revokeInvite(inviteId));
    if (!i) throw notFound('invite', inviteId);
    return i;
  }

  async redeemInvite(scope: Scope, code: string): Promise<SharedDeployment> {
    const tenantId = tenantOf(scope);
    const share = await this.run(() => this.store.redeemInvite({ code, tenantId }));
    await this.events.publish('deployment_changed', { deploymentId: share.deploymentId, tenantId });
    const deployment = await this.run(() => this.store.getDeployment(share.deploymentId));
    if (!deployment) throw notFound('deployment', share.deploymentId);
    return { share, deployment };
  }

  async listShares(scope: Scope, deploymentId: string): Promise<Share[]> {
    await this.getDeployment(scope, deploymentId);
    return this.run(() => this.store.listShares(deploymentId));
  }

  listSharedWithMe(scope: Scope): Promise<SharedDeployment[]> {
    const tenantId = tenantOf(scope);
    return this.run(() => this.store.listSharedWithTenant(tenantId));
  }

  /** Ends a share: the owner revokes it, or the tenant it was shared with leaves it. */
  async revokeShare(scope: Scope, shareId: string): Promise<Share> {
    if (scope.tenantId !== null) {
      const mine = await this.run(() => this.store.listSharedWithTenant(scope.tenantId!));
      const asReceiver = mine.some((s) => s.share.id === shareId);
      const asOwner = asReceiver || (await this.findOwned(scope.tenantId, (d) => this.store.listShares(d.id), (s) => s.id === shareId));
      if (!asOwner) throw notFound('share', shareId);
    }
    const s = await this.run(() => this.store.revokeShare(shareId));
    if (!s) throw notFound('share', shareId);
    await this.events.publish('deployment_changed', { deploymentId: s.deploymentId, tenantId: s.tenantId });
    return s;
  }

  // ---- usage ----

  usage(scope: Scope, q: { from: string; to: string; bucketMs: number; deploymentId?: string | undefined; keyId?: string | undefined }): Promise<UsageReport> {
    const tenantId = tenantOf(scope);
    return this.run(() =>
      this.store.queryUsage({
        tenantId, from: q.from, to: q.to, bucketMs: q.bucketMs,
        ...(q.deploymentId ? { deploymentId: q.deploymentId } : {}),
        ...(q.keyId ? { keyId: q.keyId } : {}),
      }),
    );
  }

  /** Whether an object matching `match` exists among the children of the tenant's deployments. */
  private async findOwned<T>(tenantId: string, children: (d: Deployment) => Promise<T[]>, match: (x: T) => boolean): Promise<boolean> {
    const deps = await this.run(() => this.store.listDeployments(tenantId));
    for (const d of deps) if ((await this.run(() => children(d))).some(match)) return true;
    return false;
  }
}


import type { Deployment, Invite, SharedDeployment } from './types.js';
import type { Store } from './store.js';
import { InviteRejectedError } from './errors.js';

/** Who may use what: how a `model` name resolves to a deployment (Store#findAccessibleDeployment), invite rules. */

const QUALIFIED = /^(ten_[0-9a-f]{16})\/(.+)$/;

/** `<ownerTenantId>/<deployment>` split in two, or null when `name` is not of that form. */
export function splitQualifiedName(name: string): { ownerTenantId: string; name: string } | null {
  const m = QUALIFIED.exec(name);
  return m ? { ownerTenantId: m[1]!, name: m[2]! } : null;
}

/** Oldest share first (ties broken by share id), so the choice never changes when a share is added. */
export function compareShares(a: SharedDeployment, b: SharedDeployment): number {
  if (a.share.createdAt !== b.share.createdAt) return a.share.createdAt < b.share.createdAt ? -1 : 1;
  return a.share.id < b.share.id ? -1 : a.share.id > b.share.id ? 1 : 0;
}

/** Resolves `name` from the tenant's own deployments and what is shared with it, as the store reads them. */
export async function resolveAccessible(
  store: Pick<Store, 'findDeploymentByName' | 'listSharedWithTenant'>,
  tenantId: string,
  name: string,
): Promise<Deployment | null> {
  const lookupOwn = (n: string) => store.findDeploymentByName(tenantId, n);
  // A name with a `/` is qualified and resolves only as such: never as a plain name (which no deployment can have
  // since names hold no `/`, but a store may still hold one from before that rule).
  if (name.includes('/')) {
    const q = splitQualifiedName(name);
    if (!q || q.name.includes('/')) return null;
    if (q.ownerTenantId === tenantId) return lookupOwn(q.name);
    const all = await store.listSharedWithTenant(tenantId);
    const hit = all.find((s) => s.deployment.tenantId === q.ownerTenantId && s.deployment.name === q.name);
    return hit?.deployment ?? null;
  }
  const own = await lookupOwn(name);
  if (own) return own;
  const byName = (await store.listSharedWithTenant(tenantId)).filter((s) => s.deployment.name === name).sort(compareShares);
  return byName[0]?.deployment ?? null;
}

/** Throws why an invite cannot be used at `now` (checked in this order by every store). */
export function rejectUnusable(inv: Invite, now: string): void {
  if (inv.revokedAt !== null) throw new InviteRejectedError('revoked');
  if (inv.expiresAt <= now) throw new InviteRejectedError('expired');
  if (inv.uses >= inv.maxUses) throw new InviteRejectedError('exhausted');
}

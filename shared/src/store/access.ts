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
  const shared = () => store.listSharedWithTenant(tenantId);
  const own = await lookupOwn(name);
  if (own) return own;
  const all = await shared();
  const byName = all.filter((s) => s.deployment.name === name).sort(compareShares);
  if (byName[0]) return byName[0].deployment;
  const q = splitQualifiedName(name);
  if (!q) return null;
  if (q.ownerTenantId === tenantId) return lookupOwn(q.name);
  const hit = all.find((s) => s.deployment.tenantId === q.ownerTenantId && s.deployment.name === q.name);
  return hit?.deployment ?? null;
}

/** Throws why an invite cannot be used at `now` (checked in this order by every store). */
export function rejectUnusable(inv: Invite, now: string): void {
  if (inv.revokedAt !== null) throw new InviteRejectedError('revoked');
  if (inv.expiresAt <= now) throw new InviteRejectedError('expired');
  if (inv.uses >= inv.maxUses) throw new InviteRejectedError('exhausted');
}

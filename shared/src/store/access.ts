import type { Deployment, SharedDeployment } from './types.js';

/** How a tenant's `model` name resolves to a deployment (see Store#findAccessibleDeployment). Pure. */

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

/**
 * Resolves `name` given the tenant's own deployments of the candidate names and what is shared with it.
 * `lookupOwn(name)` finds the tenant's own deployment; `shared` lists every live share with its deployment.
 */
export async function resolveAccessible(
  tenantId: string,
  name: string,
  lookupOwn: (name: string) => Promise<Deployment | null>,
  shared: () => Promise<SharedDeployment[]>,
): Promise<Deployment | null> {
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

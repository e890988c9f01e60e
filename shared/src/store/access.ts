import type { Alias, AliasTarget, Deployment, Invite, ModelRoute, SharedDeployment } from './types.js';
import type { Store } from './store.js';
import { InviteRejectedError, StoreValidationError } from './errors.js';

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
  return resolveShared(store, tenantId, name);
}

async function resolveShared(store: Pick<Store, 'listSharedWithTenant'>, tenantId: string, name: string): Promise<Deployment | null> {
  const byName = (await store.listSharedWithTenant(tenantId)).filter((s) => s.deployment.name === name).sort(compareShares);
  return byName[0]?.deployment ?? null;
}

type RouteReader = Pick<Store, 'findDeploymentByName' | 'listSharedWithTenant' | 'findAliasByName' | 'getDeployment'>;

/**
 * What a tenant means by `name` (Store#resolveModel): its own deployment; else its own alias (an alias and a
 * deployment of one tenant never share a name, so this order only matters for shares); else a shared or qualified
 * deployment as resolveAccessible says. An alias comes with the targets the tenant may use now, in its order: a
 * target deleted or no longer shared with the tenant is left out (never reached across the tenant boundary).
 */
export async function resolveRoute(store: RouteReader, tenantId: string, name: string): Promise<ModelRoute | null> {
  if (!name.includes('/')) {
    const own = await store.findDeploymentByName(tenantId, name);
    if (own) return { kind: 'deployment', deployment: own };
    const alias = await store.findAliasByName(tenantId, name);
    if (alias) return { kind: 'alias', alias, targets: await usableTargets(store, alias) };
    const shared = await resolveShared(store, tenantId, name);
    return shared ? { kind: 'deployment', deployment: shared } : null;
  }
  const d = await resolveAccessible(store, tenantId, name);
  return d ? { kind: 'deployment', deployment: d } : null;
}

async function usableTargets(store: RouteReader, alias: Alias): Promise<{ deployment: Deployment; weight: number }[]> {
  const found = await accessibleById(store, alias.tenantId, alias.targets.map((x) => x.deploymentId));
  const out: { deployment: Deployment; weight: number }[] = [];
  for (const x of alias.targets) {
    const d = found.get(x.deploymentId);
    if (d) out.push({ deployment: d, weight: x.weight });
  }
  return out;
}

/** The deployments of `ids` that the tenant owns or has been shared, by id. */
async function accessibleById(store: Pick<Store, 'getDeployment' | 'listSharedWithTenant'>, tenantId: string, ids: readonly string[]): Promise<Map<string, Deployment>> {
  const out = new Map<string, Deployment>();
  let shared: Map<string, Deployment> | undefined;
  for (const id of ids) {
    const d = await store.getDeployment(id);
    if (!d) continue;
    if (d.tenantId === tenantId) {
      out.set(id, d);
      continue;
    }
    shared ??= new Map((await store.listSharedWithTenant(tenantId)).map((s) => [s.deployment.id, s.deployment]));
    if (shared.has(id)) out.set(id, d);
  }
  return out;
}

/**
 * Throws StoreValidationError naming the first target that is not a deployment the tenant owns or has been shared
 * (an alias id included: aliases target deployments only, so there are no chains and no cycles).
 */
export async function checkAliasTargets(
  store: Pick<Store, 'getDeployment' | 'listSharedWithTenant'>,
  tenantId: string,
  targets: readonly AliasTarget[],
): Promise<void> {
  const found = await accessibleById(store, tenantId, targets.map((x) => x.deploymentId));
  targets.forEach((x, i) => {
    if (!found.has(x.deploymentId)) {
      const field = `targets.${i}.deploymentId`;
      throw new StoreValidationError(`invalid ${field}: ${x.deploymentId} is not a deployment of this tenant or shared with it`, field);
    }
  });
}

/** Throws why an invite cannot be used at `now` (checked in this order by every store). */
export function rejectUnusable(inv: Invite, now: string): void {
  if (inv.revokedAt !== null) throw new InviteRejectedError('revoked');
  if (inv.expiresAt <= now) throw new InviteRejectedError('expired');
  if (inv.uses >= inv.maxUses) throw new InviteRejectedError('exhausted');
}

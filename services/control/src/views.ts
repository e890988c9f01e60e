import type { ApiKey, Deployment, Invite, Share, Tenant, TunnelToken } from '@tokios/shared/store';
import type { AliasWithTargets } from './alias-ops.js';

/**
 * What the admin API returns for each stored object: never a secret, never a hash — only the display prefix.
 */
export const tenantView = (t: Tenant) => ({
  id: t.id,
  name: t.name,
  createdAt: t.createdAt,
  console: t.console ? { prefix: t.console.prefix, createdAt: t.console.createdAt } : null,
});

export const keyView = (k: ApiKey) => ({
  id: k.id,
  tenantId: k.tenantId,
  name: k.name,
  prefix: k.prefix,
  createdAt: k.createdAt,
  revokedAt: k.revokedAt,
  limits: k.limits,
});

export const deploymentView = (d: Deployment) => ({ id: d.id, tenantId: d.tenantId, name: d.name, createdAt: d.createdAt });

export const tokenView = (t: TunnelToken) => ({
  id: t.id,
  tenantId: t.tenantId,
  deploymentId: t.deploymentId,
  prefix: t.prefix,
  createdAt: t.createdAt,
  revokedAt: t.revokedAt,
});

export const inviteView = (i: Invite) => ({
  id: i.id,
  deploymentId: i.deploymentId,
  tenantId: i.tenantId,
  prefix: i.prefix,
  createdAt: i.createdAt,
  expiresAt: i.expiresAt,
  maxUses: i.maxUses,
  uses: i.uses,
  revokedAt: i.revokedAt,
});

export const shareView = (s: Share) => ({ ...s });

/** An alias and its targets in order: each target's deployment name (null once deleted) and whose it is. */
export const aliasView = ({ alias: a, deployments }: AliasWithTargets) => ({
  id: a.id,
  tenantId: a.tenantId,
  name: a.name,
  mode: a.mode,
  targets: a.targets.map((t, i) => {
    const d = deployments[i] ?? null;
    return { deploymentId: t.deploymentId, name: d?.name ?? null, weight: t.weight, shared: d !== null && d.tenantId !== a.tenantId };
  }),
  createdAt: a.createdAt,
  updatedAt: a.updatedAt,
});

export type TenantView = ReturnType<typeof tenantView>;
export type KeyView = ReturnType<typeof keyView>;
export type DeploymentView = ReturnType<typeof deploymentView>;
export type TokenView = ReturnType<typeof tokenView>;
export type InviteView = ReturnType<typeof inviteView>;
export type ShareView = ReturnType<typeof shareView>;
export type AliasView = ReturnType<typeof aliasView>;

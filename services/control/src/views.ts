import type { ApiKey, Deployment, Invite, Share, Tenant, TunnelToken } from '@tokios/shared/store';

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

export type TenantView = ReturnType<typeof tenantView>;
export type KeyView = ReturnType<typeof keyView>;
export type DeploymentView = ReturnType<typeof deploymentView>;
export type TokenView = ReturnType<typeof tokenView>;
export type InviteView = ReturnType<typeof inviteView>;
export type ShareView = ReturnType<typeof shareView>;

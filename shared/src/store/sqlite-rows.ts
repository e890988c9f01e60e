import { z } from 'zod';
import type { Alias, ApiKey, Deployment, Invite, KeyLimits, Share, Tenant, TunnelToken } from './types.js';
import { ALIAS_MODES } from './types.js';

/** Rows of the embedded store's tables (sqlite-schema.ts) and their records. Pure. */

export interface TenantRow {
  id: string;
  name: string;
  created_at: string;
  console_prefix: string | null;
  console_hash: string | null;
  console_created_at: string | null;
}
export const tenantFromRow = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  console:
    r.console_hash !== null && r.console_prefix !== null && r.console_created_at !== null
      ? { prefix: r.console_prefix, hash: r.console_hash, createdAt: r.console_created_at }
      : null,
});
export const tenantToRow = (t: Tenant): TenantRow => ({
  id: t.id,
  name: t.name,
  created_at: t.createdAt,
  console_prefix: t.console?.prefix ?? null,
  console_hash: t.console?.hash ?? null,
  console_created_at: t.console?.createdAt ?? null,
});

export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  /** JSON of KeyLimits, or null. */
  limits: string | null;
}
export const apiKeyFromRow = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  limits: r.limits === null ? null : (JSON.parse(r.limits) as KeyLimits),
});
export const apiKeyToRow = (k: ApiKey): ApiKeyRow => ({
  id: k.id,
  tenant_id: k.tenantId,
  name: k.name,
  prefix: k.prefix,
  hash: k.hash,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
  limits: k.limits === null ? null : JSON.stringify(k.limits),
});

export interface DeploymentRow {
  id: string;
  tenant_id: string;
  name: string;
  created_at: string;
}
export const deploymentFromRow = (r: DeploymentRow): Deployment => ({ id: r.id, tenantId: r.tenant_id, name: r.name, createdAt: r.created_at });
export const deploymentToRow = (d: Deployment): DeploymentRow => ({ id: d.id, tenant_id: d.tenantId, name: d.name, created_at: d.createdAt });

export interface TunnelTokenRow {
  id: string;
  tenant_id: string;
  deployment_id: string;
  prefix: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}
export const tunnelTokenFromRow = (r: TunnelTokenRow): TunnelToken => ({
  id: r.id,
  tenantId: r.tenant_id,
  deploymentId: r.deployment_id,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});
export const tunnelTokenToRow = (t: TunnelToken): TunnelTokenRow => ({
  id: t.id,
  tenant_id: t.tenantId,
  deployment_id: t.deploymentId,
  prefix: t.prefix,
  hash: t.hash,
  created_at: t.createdAt,
  revoked_at: t.revokedAt,
});

export interface InviteRow {
  id: string;
  deployment_id: string;
  tenant_id: string;
  prefix: string;
  hash: string;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked_at: string | null;
}
export const inviteFromRow = (r: InviteRow): Invite => ({
  id: r.id,
  deploymentId: r.deployment_id,
  tenantId: r.tenant_id,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  revokedAt: r.revoked_at,
});
export const inviteToRow = (i: Invite): InviteRow => ({
  id: i.id,
  deployment_id: i.deploymentId,
  tenant_id: i.tenantId,
  prefix: i.prefix,
  hash: i.hash,
  created_at: i.createdAt,
  expires_at: i.expiresAt,
  max_uses: i.maxUses,
  uses: i.uses,
  revoked_at: i.revokedAt,
});

export interface ShareRow {
  id: string;
  deployment_id: string;
  owner_tenant_id: string;
  tenant_id: string;
  invite_id: string;
  created_at: string;
}
export const shareFromRow = (r: ShareRow): Share => ({
  id: r.id,
  deploymentId: r.deployment_id,
  ownerTenantId: r.owner_tenant_id,
  tenantId: r.tenant_id,
  inviteId: r.invite_id,
  createdAt: r.created_at,
});
export const shareToRow = (s: Share): ShareRow => ({
  id: s.id,
  deployment_id: s.deploymentId,
  owner_tenant_id: s.ownerTenantId,
  tenant_id: s.tenantId,
  invite_id: s.inviteId,
  created_at: s.createdAt,
});

export interface AliasRow {
  id: string;
  tenant_id: string;
  name: string;
  mode: string;
  /** JSON of AliasTarget[]. */
  targets: string;
  created_at: string;
  updated_at: string;
}
const storedAlias = z.object({
  mode: z.enum(ALIAS_MODES),
  targets: z.array(z.object({ deploymentId: z.string(), weight: z.number().int() })),
});
export const aliasFromRow = (r: AliasRow): Alias => {
  const { mode, targets } = storedAlias.parse({ mode: r.mode, targets: JSON.parse(r.targets) });
  return { id: r.id, tenantId: r.tenant_id, name: r.name, mode, targets, createdAt: r.created_at, updatedAt: r.updated_at };
};
export const aliasToRow = (a: Alias): AliasRow => ({
  id: a.id,
  tenant_id: a.tenantId,
  name: a.name,
  mode: a.mode,
  targets: JSON.stringify(a.targets),
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

/** `INSERT INTO table (cols…) VALUES (@cols…)` for a row type. */
export function insertSql(table: string, columns: readonly string[], verb = 'INSERT'): string {
  return `${verb} INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;
}

export const COLUMNS = {
  tenants: ['id', 'name', 'created_at', 'console_prefix', 'console_hash', 'console_created_at'],
  api_keys: ['id', 'tenant_id', 'name', 'prefix', 'hash', 'created_at', 'revoked_at', 'limits'],
  deployments: ['id', 'tenant_id', 'name', 'created_at'],
  tunnel_tokens: ['id', 'tenant_id', 'deployment_id', 'prefix', 'hash', 'created_at', 'revoked_at'],
  invites: ['id', 'deployment_id', 'tenant_id', 'prefix', 'hash', 'created_at', 'expires_at', 'max_uses', 'uses', 'revoked_at'],
  shares: ['id', 'deployment_id', 'owner_tenant_id', 'tenant_id', 'invite_id', 'created_at'],
  aliases: ['id', 'tenant_id', 'name', 'mode', 'targets', 'created_at', 'updated_at'],
} as const satisfies Record<string, readonly string[]>;

import { z } from 'zod';

/**
 * The `store.json` of the JSON file store that SQLite replaced, in its two versions (1: tenants, keys,
 * deployments, tokens; 2: plus console secrets, key limits, invites and shares). Read once, to import it
 * (legacy-import.ts); never written.
 */

export const FILE_VERSION = 2;

const secretRef = z.object({ prefix: z.string(), hash: z.string(), createdAt: z.string() });
const limits = z.object({ requestsPerMinute: z.number().optional(), tokensPerMinute: z.number().optional() });

const v1Tenant = z.object({ id: z.string(), name: z.string(), createdAt: z.string() });
const v1ApiKey = z.object({
  id: z.string(), tenantId: z.string(), name: z.string(), prefix: z.string(), hash: z.string(),
  createdAt: z.string(), revokedAt: z.string().nullable(),
});
const deployment = z.object({ id: z.string(), tenantId: z.string(), name: z.string(), createdAt: z.string() });
const tunnelToken = z.object({
  id: z.string(), tenantId: z.string(), deploymentId: z.string(), prefix: z.string(), hash: z.string(),
  createdAt: z.string(), revokedAt: z.string().nullable(),
});
const invite = z.object({
  id: z.string(), deploymentId: z.string(), tenantId: z.string(), prefix: z.string(), hash: z.string(),
  createdAt: z.string(), expiresAt: z.string(), maxUses: z.number(), uses: z.number(), revokedAt: z.string().nullable(),
});
const share = z.object({
  id: z.string(), deploymentId: z.string(), ownerTenantId: z.string(), tenantId: z.string(), inviteId: z.string(),
  createdAt: z.string(),
});

const v1Schema = z.object({
  version: z.literal(1),
  tenants: z.array(v1Tenant),
  apiKeys: z.array(v1ApiKey),
  deployments: z.array(deployment),
  tunnelTokens: z.array(tunnelToken),
});

const v2Schema = z.object({
  version: z.literal(2),
  tenants: z.array(v1Tenant.extend({ console: secretRef.nullable() })),
  apiKeys: z.array(v1ApiKey.extend({ limits: limits.nullable() })),
  deployments: z.array(deployment),
  tunnelTokens: z.array(tunnelToken),
  invites: z.array(invite),
  shares: z.array(share),
});

export type FileData = z.infer<typeof v2Schema>;
type FileDataV1 = z.infer<typeof v1Schema>;

export const emptyFileData = (): FileData => ({
  version: 2, tenants: [], apiKeys: [], deployments: [], tunnelTokens: [], invites: [], shares: [],
});

function migrateV1(d: FileDataV1): FileData {
  return {
    version: 2,
    tenants: d.tenants.map((t) => ({ ...t, console: null })),
    apiKeys: d.apiKeys.map((k) => ({ ...k, limits: null })),
    deployments: d.deployments,
    tunnelTokens: d.tunnelTokens,
    invites: [],
    shares: [],
  };
}

const anyVersion = z.discriminatedUnion('version', [v1Schema, v2Schema]);

/** Parses a decoded store file of any known version into the current version, or explains why it cannot. */
export function decodeFileData(parsed: unknown): { ok: true; data: FileData } | { ok: false; error: string } {
  const version = (parsed as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > FILE_VERSION) {
    return { ok: false, error: `store format version ${version} is newer than this build understands (${FILE_VERSION})` };
  }
  const result = anyVersion.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, error: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'bad value'}` };
  }
  return { ok: true, data: result.data.version === 1 ? migrateV1(result.data) : result.data };
}

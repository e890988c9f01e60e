import type { NatsConnection } from 'nats';
import { FabricKey } from '@tokios/shared/fabric-auth';
import type { KeyLimits, Store } from '@tokios/shared/store';
import { silentLogger } from '@tokios/shared/log';
import { ControlEventPublisher, ControlOps, StatusService, aliasView, operatorScope, type AliasInput, type DeploymentStatus } from '@tokios/control';

/** A stored object as `tokios admin` prints it (store records locally, API views remotely). */
export type Rec = { id: string } & Record<string, unknown>;
export interface Created {
  record: Rec;
  secret: string;
}
export interface UsageArgs {
  from?: string | undefined;
  to?: string | undefined;
  bucket?: string | undefined;
  deploymentId?: string | undefined;
  keyId?: string | undefined;
}

/** What `tokios admin` can do, on the local store or through the admin API. `tenant` is the tenant acted for. */
export interface AdminBackend {
  /** False when changes are not broadcast (local store, no NATS): running services notice them later. */
  readonly broadcasts: boolean;
  /** The credentials belong to one tenant (console secret), so commands need no --tenant. */
  readonly impliesTenant: boolean;
  createTenant(name: string): Promise<Rec>;
  listTenants(): Promise<Rec[]>;
  consoleSecret(tenantId: string): Promise<Created>;
  createKey(tenant: string | undefined, name: string, limits: KeyLimits | null): Promise<Created>;
  listKeys(tenant: string | undefined): Promise<Rec[]>;
  revokeKey(id: string): Promise<Rec>;
  setKeyLimits(id: string, limits: KeyLimits | null): Promise<Rec>;
  createDeployment(tenant: string | undefined, name: string): Promise<Rec>;
  listDeployments(tenant: string | undefined): Promise<Rec[]>;
  deleteDeployment(id: string): Promise<Rec>;
  deploymentStatus(id: string): Promise<{ deployment: Rec; status: DeploymentStatus }>;
  createToken(deploymentId: string): Promise<Created>;
  listTokens(deploymentId: string): Promise<Rec[]>;
  revokeToken(id: string): Promise<Rec>;
  createInvite(deploymentId: string, input: { expiresAt: string; maxUses: number }): Promise<Created>;
  listInvites(deploymentId: string): Promise<Rec[]>;
  revokeInvite(id: string): Promise<Rec>;
  redeemInvite(tenant: string | undefined, code: string): Promise<{ share: Rec; deployment: Rec }>;
  listShares(deploymentId: string): Promise<Rec[]>;
  revokeShare(id: string): Promise<Rec>;
  listShared(tenant: string | undefined): Promise<{ share: Rec; deployment: Rec }[]>;
  createAlias(tenant: string | undefined, name: string, input: AliasInput): Promise<Rec>;
  listAliases(tenant: string | undefined): Promise<Rec[]>;
  updateAlias(id: string, input: AliasInput): Promise<Rec>;
  deleteAlias(id: string): Promise<Rec>;
  usage(tenant: string | undefined, q: { from: string; to: string; bucketMs: number; deploymentId?: string | undefined; keyId?: string | undefined }): Promise<unknown>;
  close(): Promise<void>;
}

/** Works directly on the store as the operator, publishing control events (signed with `fabricSecret`) when NATS is there. */
export function localBackend(store: Store, nc: NatsConnection | undefined, fabricSecret: string | undefined): AdminBackend {
  const log = silentLogger();
  const ops = new ControlOps(store, new ControlEventPublisher(nc, new FabricKey(fabricSecret), log));
  const status = new StatusService(nc, 150, log);
  const as = (tenant?: string) => operatorScope(tenant ?? null, 'local');
  const op = operatorScope(null, 'local');
  const rec = <T>(x: T) => x as unknown as Rec;
  const recs = <T>(x: T[]) => x as unknown as Rec[];
  const created = <T>(x: { record: T; secret: string }): Created => ({ record: rec(x.record), secret: x.secret });
  return {
    broadcasts: nc !== undefined,
    impliesTenant: false,
    createTenant: async (name) => rec(await ops.createTenant(name)),
    listTenants: async () => recs(await ops.listTenants()),
    consoleSecret: async (id) => created(await ops.issueConsoleSecret(id)),
    createKey: async (tenant, name, limits) => created(await ops.createKey(as(tenant), { name, limits })),
    listKeys: async (tenant) => recs(await ops.listKeys(as(tenant))),
    revokeKey: async (id) => rec(await ops.revokeKey(op, id)),
    setKeyLimits: async (id, limits) => rec(await ops.setKeyLimits(op, id, limits)),
    createDeployment: async (tenant, name) => rec(await ops.createDeployment(as(tenant), name)),
    listDeployments: async (tenant) => recs(await ops.listDeployments(as(tenant))),
    deleteDeployment: async (id) => rec(await ops.deleteDeployment(op, id)),
    deploymentStatus: async (id) => {
      const d = await ops.getDeployment(op, id);
      const live = await status.forDeployments([d.id]);
      return { deployment: rec(d), status: live.get(d.id)! };
    },
    createToken: async (dep) => created(await ops.createToken(op, dep)),
    listTokens: async (dep) => recs(await ops.listTokens(op, dep)),
    revokeToken: async (id) => rec(await ops.revokeToken(op, id)),
    createInvite: async (dep, input) => created(await ops.createInvite(op, dep, input)),
    listInvites: async (dep) => recs(await ops.listInvites(op, dep)),
    revokeInvite: async (id) => rec(await ops.revokeInvite(op, id)),
    redeemInvite: async (tenant, code) => {
      const r = await ops.redeemInvite(as(tenant), code);
      return { share: rec(r.share), deployment: rec(r.deployment) };
    },
    listShares: async (dep) => recs(await ops.listShares(op, dep)),
    revokeShare: async (id) => rec(await ops.revokeShare(op, id)),
    listShared: async (tenant) => (await ops.listSharedWithMe(as(tenant))).map((s) => ({ share: rec(s.share), deployment: rec(s.deployment) })),
    createAlias: async (tenant, name, input) => rec(aliasView(await ops.aliases.create(as(tenant), name, input))),
    listAliases: async (tenant) => recs((await ops.aliases.list(as(tenant))).map(aliasView)),
    updateAlias: async (id, input) => rec(aliasView(await ops.aliases.update(op, id, input))),
    deleteAlias: async (id) => rec(await ops.aliases.delete(op, id)),
    usage: (tenant, q) => ops.usage(as(tenant), q),
    async close() {
      await nc?.drain().catch(() => undefined);
      await store.close();
    },
  };
}

import type {
  Alias, AliasMode, ApiKey, Deployment, Invite, KeyLimits, ModelRoute, Share, SharedDeployment, Tenant,
  TunnelToken, UsageQuery, UsageRecord, UsageRecordQuery, UsageReport, WithSecret,
} from './types.js';

/**
 * The control data every service reads. Implemented by the embedded SQLite store (default) and MongoDB.
 * Every implementation must pass the contract suite in shared/test/store/contract.ts.
 *
 * Errors: StoreValidationError (bad input), StoreConflictError (duplicate), StoreNotFoundError (missing parent),
 * InviteRejectedError (code unknown, expired, used up, revoked, or for one's own deployment),
 * StoreUnavailableError (backend unreachable; callers may retry).
 */
export interface Store {
  readonly kind: string;
  /** Where the data is, for messages: the SQLite file, or the MongoDB hosts and database (never credentials). */
  describe(): string;
  /** Resolves when the backend answers a trivial query (readiness probes); StoreUnavailableError otherwise. */
  ping(): Promise<void>;

  createTenant(input: { name: string }): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;
  /**
   * Issues the tenant's dashboard login secret (`tc-tokios-…`), shown once and stored hashed.
   * Issuing again rotates it: the previous secret stops working. StoreNotFoundError when no such tenant.
   */
  createTenantConsoleSecret(tenantId: string): Promise<WithSecret<Tenant>>;
  /** The tenant whose current console secret this is, or null. */
  findTenantBySecret(secret: string): Promise<Tenant | null>;
  /**
   * Ends a dashboard session before its signed cookie expires (logout): isSessionRevoked answers true for
   * `sessionId` until `expiresAt` (the cookie's own expiry), after which the entry is deleted (SQLite: by the next
   * revocation; MongoDB: a TTL index). Idempotent; a later expiry extends it.
   */
  revokeSession(input: { sessionId: string; tenantId: string; expiresAt: string }): Promise<void>;
  /** True when the session was revoked and its cookie has not expired yet. */
  isSessionRevoked(sessionId: string): Promise<boolean>;

  createApiKey(input: { tenantId: string; name: string; limits?: KeyLimits | null }): Promise<WithSecret<ApiKey>>;
  getApiKey(id: string): Promise<ApiKey | null>;
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  /** Sets revokedAt (idempotent). Returns null when no such key. */
  revokeApiKey(id: string): Promise<ApiKey | null>;
  /** Replaces the key's limits (null or {} clears them). Returns null when no such key. */
  setApiKeyLimits(id: string, limits: KeyLimits | null): Promise<ApiKey | null>;
  /** Looks a presented secret up by its hash; returns revoked keys too (callers check revokedAt). */
  findApiKeyBySecret(secret: string): Promise<ApiKey | null>;

  createDeployment(input: { tenantId: string; name: string }): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  /** The tenant's own deployment of that name (shares are not considered; see findAccessibleDeployment). */
  findDeploymentByName(tenantId: string, name: string): Promise<Deployment | null>;
  listDeployments(tenantId: string): Promise<Deployment[]>;
  /**
   * The deployment a tenant means by `name` (a request's `model`):
   * 1. the tenant's own deployment of that name;
   * 2. else a deployment of that name shared with the tenant; when several owners share one of that name,
   *    the share redeemed first wins (a later share never re-routes existing traffic);
   * 3. else `name` of the form `<ownerTenantId>/<deployment>` picks that owner's deployment, when it is the
   *    tenant's own or shared with it (how the later shares of a clashing name are reached).
   * Null when none applies.
   */
  findAccessibleDeployment(tenantId: string, name: string): Promise<Deployment | null>;
  /**
   * Deletes a deployment and cascades: revokes its tunnel tokens and invites, deletes its shares.
   * Returns the deleted deployment, or null when no such deployment. Safe to repeat after a partial failure.
   */
  deleteDeployment(id: string): Promise<Deployment | null>;

  /**
   * An alias of 1–MAX_ALIAS_TARGETS distinct deployments, each the tenant's own or shared with it (StoreValidationError
   * naming `targets.<i>.deploymentId` otherwise, an alias id included). StoreConflictError when the tenant already
   * has an alias or a deployment of that name (createDeployment likewise refuses an alias's name).
   */
  createAlias(input: { tenantId: string; name: string; mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias>;
  getAlias(id: string): Promise<Alias | null>;
  findAliasByName(tenantId: string, name: string): Promise<Alias | null>;
  listAliases(tenantId: string): Promise<Alias[]>;
  /** Replaces mode and targets (checked as at creation); the name stays. Null when no such alias. */
  updateAlias(id: string, input: { mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias | null>;
  /** Returns the deleted alias, or null when none. Its targets are not touched. */
  deleteAlias(id: string): Promise<Alias | null>;
  /** What `name` (a request's `model`) means to the tenant: see resolveRoute in access.ts. */
  resolveModel(tenantId: string, name: string): Promise<ModelRoute | null>;

  createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>>;
  listTunnelTokens(deploymentId: string): Promise<TunnelToken[]>;
  revokeTunnelToken(id: string): Promise<TunnelToken | null>;
  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null>;

  /** An invite code (`ti-tokios-…`) for a deployment, shown once and stored hashed. */
  createInvite(input: { deploymentId: string; expiresAt: string; maxUses: number }): Promise<WithSecret<Invite>>;
  listInvites(deploymentId: string): Promise<Invite[]>;
  /** Sets revokedAt (idempotent); shares already made stay. Returns null when no such invite. */
  revokeInvite(id: string): Promise<Invite | null>;
  /**
   * Atomically checks the code (known, not revoked, not expired, uses < maxUses, not the redeemer's own
   * deployment, not already shared with the redeemer), counts one use and creates the share.
   * InviteRejectedError for a bad code, StoreConflictError when already shared, StoreNotFoundError for no tenant.
   */
  redeemInvite(input: { code: string; tenantId: string }): Promise<Share>;
  listShares(deploymentId: string): Promise<Share[]>;
  /** Deployments other tenants shared with this one, oldest share first. */
  listSharedWithTenant(tenantId: string): Promise<SharedDeployment[]>;
  /** Deletes the share. Returns it, or null when no such share. */
  revokeShare(id: string): Promise<Share | null>;

  /**
   * Stores a batch of finished requests and adds them to their hourly rollups. Idempotent per record id
   * (while the raw record is kept: the raw usage retention).
   */
  recordUsage(records: UsageRecord[]): Promise<void>;
  /**
   * Per-bucket and overall totals of one tenant's usage in [from, to), widened to whole hours; read from the
   * hourly rollups only. Hours older than the rollup retention report zeros.
   */
  queryUsage(query: UsageQuery): Promise<UsageReport>;
  /** One tenant's raw records in [from, to), newest first; only what the raw retention still keeps. */
  listUsageRecords(query: UsageRecordQuery): Promise<UsageRecord[]>;

  close(): Promise<void>;
}

import type { ApiKey, Deployment, Tenant, TunnelToken, WithSecret } from './types.js';

/**
 * The control data every service reads. Implemented by the embedded file store (default) and MongoDB.
 * Every implementation must pass test/store-contract.
 *
 * Errors: StoreConflictError (duplicate), StoreNotFoundError (missing parent), StoreUnavailableError.
 */
export interface Store {
  readonly kind: string;

  createTenant(input: { name: string }): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant | null>;
  listTenants(): Promise<Tenant[]>;

  createApiKey(input: { tenantId: string; name: string }): Promise<WithSecret<ApiKey>>;
  listApiKeys(tenantId: string): Promise<ApiKey[]>;
  /** Sets revokedAt (idempotent). Returns null when no such key. */
  revokeApiKey(id: string): Promise<ApiKey | null>;
  /** Looks a presented secret up by its hash; returns revoked keys too (callers check revokedAt). */
  findApiKeyBySecret(secret: string): Promise<ApiKey | null>;

  createDeployment(input: { tenantId: string; name: string }): Promise<Deployment>;
  getDeployment(id: string): Promise<Deployment | null>;
  findDeploymentByName(tenantId: string, name: string): Promise<Deployment | null>;
  listDeployments(tenantId: string): Promise<Deployment[]>;

  createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>>;
  listTunnelTokens(deploymentId: string): Promise<TunnelToken[]>;
  revokeTunnelToken(id: string): Promise<TunnelToken | null>;
  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null>;

  close(): Promise<void>;
}

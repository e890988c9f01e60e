import type { KeyLimits } from '@tokios/shared/store';
import { TENANT_HEADER, type DeploymentStatus } from '@tokios/control';
import type { AdminBackend, Created, Rec } from './admin-backend.js';

/** An error answer of the admin API (`{ error: { code, message, field } }`). */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiCredentials {
  /** Base URL of the control service (or the dev stack), without /admin/v1. */
  url: string;
  /** TOKIOS_ADMIN_TOKEN (operator) or TOKIOS_CONSOLE_SECRET (one tenant). */
  token: string;
  operator: boolean;
}

/** `tokios admin` through the admin API (TOKIOS_ADMIN_URL). */
export function apiBackend(creds: ApiCredentials): AdminBackend {
  const base = `${creds.url.replace(/\/+$/, '')}/admin/v1`;
  async function call<T>(method: string, path: string, body?: unknown, tenant?: string): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${creds.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (tenant && creds.operator) headers[TENANT_HEADER] = tenant;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new AdminApiError(0, 'unreachable', `cannot reach ${base}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new AdminApiError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }
  const enc = encodeURIComponent;
  const data = async (p: Promise<{ data: Rec[] }>) => (await p).data;
  return {
    broadcasts: true,
    impliesTenant: !creds.operator,
    createTenant: async (name) => (await call<{ tenant: Rec }>('POST', '/tenants', { name })).tenant,
    listTenants: () => data(call('GET', '/tenants')),
    consoleSecret: async (id) => {
      const r = await call<{ tenant: Rec; secret: string }>('POST', `/tenants/${enc(id)}/console-secret`);
      return { record: r.tenant, secret: r.secret };
    },
    createKey: async (tenant, name, limits) => {
      const r = await call<{ key: Rec; secret: string }>('POST', '/keys', { name, ...(limits ? { limits } : {}) }, tenant);
      return { record: r.key, secret: r.secret };
    },
    listKeys: (tenant) => data(call('GET', '/keys', undefined, tenant)),
    revokeKey: async (id) => (await call<{ key: Rec }>('POST', `/keys/${enc(id)}/revoke`)).key,
    setKeyLimits: async (id, limits: KeyLimits | null) => (await call<{ key: Rec }>('PUT', `/keys/${enc(id)}/limits`, limits)).key,
    createDeployment: async (tenant, name) => (await call<{ deployment: Rec }>('POST', '/deployments', { name }, tenant)).deployment,
    listDeployments: (tenant) => data(call('GET', '/deployments', undefined, tenant)),
    deleteDeployment: async (id) => (await call<{ deployment: Rec }>('DELETE', `/deployments/${enc(id)}`)).deployment,
    deploymentStatus: async (id) => {
      const { deployment } = await call<{ deployment: Rec & { status: DeploymentStatus } }>('GET', `/deployments/${enc(id)}`);
      const { status, ...rest } = deployment;
      return { deployment: rest as Rec, status };
    },
    createToken: async (dep): Promise<Created> => {
      const r = await call<{ token: Rec; secret: string }>('POST', `/deployments/${enc(dep)}/tokens`);
      return { record: r.token, secret: r.secret };
    },
    listTokens: (dep) => data(call('GET', `/deployments/${enc(dep)}/tokens`)),
    revokeToken: async (id) => (await call<{ token: Rec }>('POST', `/tokens/${enc(id)}/revoke`)).token,
    createInvite: async (dep, input) => {
      const r = await call<{ invite: Rec; code: string }>('POST', `/deployments/${enc(dep)}/invites`, input);
      return { record: r.invite, secret: r.code };
    },
    listInvites: (dep) => data(call('GET', `/deployments/${enc(dep)}/invites`)),
    revokeInvite: async (id) => (await call<{ invite: Rec }>('POST', `/invites/${enc(id)}/revoke`)).invite,
    redeemInvite: (tenant, code) => call('POST', '/shared', { code }, tenant),
    listShares: (dep) => data(call('GET', `/deployments/${enc(dep)}/shares`)),
    revokeShare: async (id) => (await call<{ share: Rec }>('DELETE', `/shares/${enc(id)}`)).share,
    listShared: async (tenant) => (await call<{ data: { share: Rec; deployment: Rec }[] }>('GET', '/shared', undefined, tenant)).data,
    createAlias: async (tenant, name, input) => (await call<{ alias: Rec }>('POST', '/aliases', { name, ...input }, tenant)).alias,
    listAliases: (tenant) => data(call('GET', '/aliases', undefined, tenant)),
    updateAlias: async (id, input) => (await call<{ alias: Rec }>('PUT', `/aliases/${enc(id)}`, input)).alias,
    deleteAlias: async (id) => (await call<{ alias: Rec }>('DELETE', `/aliases/${enc(id)}`)).alias,
    usage: (tenant, q) => {
      const params = new URLSearchParams({ from: q.from, to: q.to, bucket: `${Math.round(q.bucketMs / 1000)}s` });
      if (q.deploymentId) params.set('deploymentId', q.deploymentId);
      if (q.keyId) params.set('keyId', q.keyId);
      return call('GET', `/usage?${params}`, undefined, tenant);
    },
    close: async () => undefined,
  };
}

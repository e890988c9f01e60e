import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from './store.js';
import type {
  ApiKey, Deployment, Invite, KeyLimits, Share, SharedDeployment, Tenant, TunnelToken, UsageQuery, UsageRecord,
  UsageReport, WithSecret,
} from './types.js';
import { deploymentNameSchema, entityNameSchema } from './types.js';
import {
  InviteRejectedError, StoreConflictError, StoreNotFoundError, StoreUnavailableError, StoreValidationError,
} from './errors.js';
import {
  API_KEY_PREFIX, CONSOLE_SECRET_PREFIX, DISPLAY_CHARS, INVITE_CODE_PREFIX, TUNNEL_TOKEN_PREFIX, hashSecret, newId,
  newSecret, systemClock, type Clock,
} from './secrets.js';
import { inviteInputSchema, keyLimitsSchema, parseInput, usageBatchSchema, usageQuerySchema } from './inputs.js';
import { decodeFileData, emptyFileData, type FileData } from './file-format.js';
import { withFileLock } from './file-lock.js';
import { UsageLog } from './file-usage.js';
import { compareShares, resolveAccessible } from './access.js';

export interface FileStoreOptions {
  /** How often readers check the file for changes; 0 disables polling (lookups still reload on a miss). */
  pollMs?: number;
  clock?: Clock;
}

/**
 * Embedded store: one JSON file (`store.json`, see file-format.ts) in a data directory, shared by every process
 * on the machine, plus `usage.jsonl` (see file-usage.ts). Writers take a lock file and re-read before they change
 * anything; readers serve from memory and reload when the file changes (polled, and checked again on a lookup miss).
 */
export class FileStore implements Store {
  readonly kind = 'file';
  private data: FileData = emptyFileData();
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private readonly lockFile: string;
  private readonly usage: UsageLog;
  private readonly clock: Clock;

  private constructor(private readonly dir: string, clock: Clock) {
    this.file = join(dir, 'store.json');
    this.lockFile = join(dir, 'store.lock');
    this.usage = new UsageLog(dir);
    this.clock = clock;
  }

  static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    await mkdir(dir, { recursive: true });
    const store = new FileStore(dir, options.clock ?? systemClock);
    await store.refresh();
    const pollMs = options.pollMs ?? 200;
    if (pollMs > 0) {
      store.timer = setInterval(() => void store.refresh().catch(() => undefined), pollMs);
      store.timer.unref();
    }
    return store;
  }

  /** Reloads the file when it changed since the last read. */
  async refresh(): Promise<void> {
    let st;
    try {
      st = await stat(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === this.stamp) return;
    const text = await readFile(this.file, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new StoreUnavailableError(`${this.file} is not valid JSON`, { cause });
    }
    const decoded = decodeFileData(parsed);
    if (!decoded.ok) throw new StoreUnavailableError(`${this.file} does not match the store format: ${decoded.error}`);
    this.data = decoded.data;
    this.stamp = stamp;
  }

  /** Read-modify-write under the lock; `fn` may throw to abort without writing. */
  private mutate<T>(fn: (d: FileData) => T): Promise<T> {
    return withFileLock(this.lockFile, async () => {
      await this.refresh();
      const draft = structuredClone(this.data);
      const out = fn(draft);
      const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, JSON.stringify(draft, null, 1), { mode: 0o600 });
      await rename(tmp, this.file);
      this.data = draft;
      this.stamp = '';
      await this.refresh();
      return structuredClone(out);
    });
  }

  private async lookup<T>(find: () => T | undefined): Promise<T | null> {
    const hit = find();
    if (hit !== undefined) return structuredClone(hit);
    await this.refresh();
    const again = find();
    return again === undefined ? null : structuredClone(again);
  }

  private async snapshot(): Promise<FileData> {
    await this.refresh();
    return this.data;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  // ---- tenants ----

  async createTenant(input: { name: string }): Promise<Tenant> {
    const name = parseInput(entityNameSchema, input.name, 'name');
    return this.mutate((d) => {
      const t: Tenant = { id: newId('ten'), name, createdAt: this.now(), console: null };
      d.tenants.push(t);
      return t;
    });
  }

  getTenant(id: string): Promise<Tenant | null> {
    return this.lookup(() => this.data.tenants.find((t) => t.id === id));
  }

  async listTenants(): Promise<Tenant[]> {
    return structuredClone((await this.snapshot()).tenants);
  }

  async createTenantConsoleSecret(tenantId: string): Promise<WithSecret<Tenant>> {
    const secret = newSecret(CONSOLE_SECRET_PREFIX);
    const record = await this.mutate((d) => {
      const t = d.tenants.find((x) => x.id === tenantId);
      if (!t) throw new StoreNotFoundError(`no tenant ${tenantId}`);
      t.console = { prefix: secret.slice(0, DISPLAY_CHARS), hash: hashSecret(secret), createdAt: this.now() };
      return t;
    });
    return { record, secret };
  }

  findTenantBySecret(secret: string): Promise<Tenant | null> {
    const hash = hashSecret(secret);
    return this.lookup(() => this.data.tenants.find((t) => t.console?.hash === hash));
  }

  // ---- API keys ----

  async createApiKey(input: { tenantId: string; name: string; limits?: KeyLimits | null }): Promise<WithSecret<ApiKey>> {
    const name = parseInput(entityNameSchema, input.name, 'name');
    const limits = parseInput(keyLimitsSchema, input.limits ?? null, 'limits');
    const secret = newSecret(API_KEY_PREFIX);
    const record = await this.mutate((d) => {
      if (!d.tenants.some((t) => t.id === input.tenantId)) throw new StoreNotFoundError(`no tenant ${input.tenantId}`);
      const k: ApiKey = {
        id: newId('key'), tenantId: input.tenantId, name, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null, limits,
      };
      d.apiKeys.push(k);
      return k;
    });
    return { record, secret };
  }

  getApiKey(id: string): Promise<ApiKey | null> {
    return this.lookup(() => this.data.apiKeys.find((k) => k.id === id));
  }

  async listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return structuredClone((await this.snapshot()).apiKeys.filter((k) => k.tenantId === tenantId));
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return this.mutate((d) => {
      const k = d.apiKeys.find((x) => x.id === id);
      if (!k) return null;
      k.revokedAt ??= this.now();
      return k;
    });
  }

  async setApiKeyLimits(id: string, limits: KeyLimits | null): Promise<ApiKey | null> {
    const parsed = parseInput(keyLimitsSchema, limits, 'limits');
    return this.mutate((d) => {
      const k = d.apiKeys.find((x) => x.id === id);
      if (!k) return null;
      k.limits = parsed;
      return k;
    });
  }

  findApiKeyBySecret(secret: string): Promise<ApiKey | null> {
    const hash = hashSecret(secret);
    return this.lookup(() => this.data.apiKeys.find((k) => k.hash === hash));
  }

  // ---- deployments ----

  async createDeployment(input: { tenantId: string; name: string }): Promise<Deployment> {
    const name = parseInput(deploymentNameSchema, input.name, 'name');
    return this.mutate((d) => {
      if (!d.tenants.some((t) => t.id === input.tenantId)) throw new StoreNotFoundError(`no tenant ${input.tenantId}`);
      if (d.deployments.some((x) => x.tenantId === input.tenantId && x.name === name)) {
        throw new StoreConflictError(`deployment ${name} already exists for this tenant`);
      }
      const dep: Deployment = { id: newId('dep'), tenantId: input.tenantId, name, createdAt: this.now() };
      d.deployments.push(dep);
      return dep;
    });
  }

  getDeployment(id: string): Promise<Deployment | null> {
    return this.lookup(() => this.data.deployments.find((x) => x.id === id));
  }

  findDeploymentByName(tenantId: string, name: string): Promise<Deployment | null> {
    return this.lookup(() => this.data.deployments.find((x) => x.tenantId === tenantId && x.name === name));
  }

  async listDeployments(tenantId: string): Promise<Deployment[]> {
    return structuredClone((await this.snapshot()).deployments.filter((x) => x.tenantId === tenantId));
  }

  async findAccessibleDeployment(tenantId: string, name: string): Promise<Deployment | null> {
    await this.refresh();
    return resolveAccessible(
      tenantId,
      name,
      async (n) => structuredClone(this.data.deployments.find((x) => x.tenantId === tenantId && x.name === n) ?? null),
      () => this.listSharedWithTenant(tenantId),
    );
  }

  deleteDeployment(id: string): Promise<Deployment | null> {
    return this.mutate((d) => {
      const dep = d.deployments.find((x) => x.id === id);
      if (!dep) return null;
      const now = this.now();
      for (const t of d.tunnelTokens) if (t.deploymentId === id) t.revokedAt ??= now;
      for (const i of d.invites) if (i.deploymentId === id) i.revokedAt ??= now;
      d.shares = d.shares.filter((s) => s.deploymentId !== id);
      d.deployments = d.deployments.filter((x) => x.id !== id);
      return dep;
    });
  }

  // ---- tunnel tokens ----

  async createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>> {
    const secret = newSecret(TUNNEL_TOKEN_PREFIX);
    const record = await this.mutate((d) => {
      const dep = d.deployments.find((x) => x.id === input.deploymentId);
      if (!dep) throw new StoreNotFoundError(`no deployment ${input.deploymentId}`);
      const t: TunnelToken = {
        id: newId('tok'), tenantId: dep.tenantId, deploymentId: dep.id, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null,
      };
      d.tunnelTokens.push(t);
      return t;
    });
    return { record, secret };
  }

  async listTunnelTokens(deploymentId: string): Promise<TunnelToken[]> {
    return structuredClone((await this.snapshot()).tunnelTokens.filter((t) => t.deploymentId === deploymentId));
  }

  revokeTunnelToken(id: string): Promise<TunnelToken | null> {
    return this.mutate((d) => {
      const t = d.tunnelTokens.find((x) => x.id === id);
      if (!t) return null;
      t.revokedAt ??= this.now();
      return t;
    });
  }

  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null> {
    const hash = hashSecret(secret);
    return this.lookup(() => this.data.tunnelTokens.find((t) => t.hash === hash));
  }

  // ---- invites and shares ----

  async createInvite(input: { deploymentId: string; expiresAt: string; maxUses: number }): Promise<WithSecret<Invite>> {
    const { deploymentId, expiresAt, maxUses } = parseInput(inviteInputSchema, input, 'invite');
    const now = this.now();
    if (expiresAt <= now) throw new StoreValidationError('invalid invite.expiresAt: must be in the future', 'invite.expiresAt');
    const secret = newSecret(INVITE_CODE_PREFIX);
    const record = await this.mutate((d) => {
      const dep = d.deployments.find((x) => x.id === deploymentId);
      if (!dep) throw new StoreNotFoundError(`no deployment ${deploymentId}`);
      const inv: Invite = {
        id: newId('inv'), deploymentId, tenantId: dep.tenantId, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: now, expiresAt, maxUses, uses: 0, revokedAt: null,
      };
      d.invites.push(inv);
      return inv;
    });
    return { record, secret };
  }

  async listInvites(deploymentId: string): Promise<Invite[]> {
    return structuredClone((await this.snapshot()).invites.filter((i) => i.deploymentId === deploymentId));
  }

  revokeInvite(id: string): Promise<Invite | null> {
    return this.mutate((d) => {
      const inv = d.invites.find((x) => x.id === id);
      if (!inv) return null;
      inv.revokedAt ??= this.now();
      return inv;
    });
  }

  redeemInvite(input: { code: string; tenantId: string }): Promise<Share> {
    const hash = hashSecret(input.code);
    return this.mutate((d) => {
      const now = this.now();
      const inv = d.invites.find((x) => x.hash === hash);
      if (!inv) throw new InviteRejectedError('unknown');
      if (inv.revokedAt !== null) throw new InviteRejectedError('revoked');
      if (inv.expiresAt <= now) throw new InviteRejectedError('expired');
      if (inv.uses >= inv.maxUses) throw new InviteRejectedError('exhausted');
      if (!d.tenants.some((t) => t.id === input.tenantId)) throw new StoreNotFoundError(`no tenant ${input.tenantId}`);
      if (inv.tenantId === input.tenantId) throw new InviteRejectedError('own_deployment');
      if (d.shares.some((s) => s.deploymentId === inv.deploymentId && s.tenantId === input.tenantId)) {
        throw new StoreConflictError('the deployment is already shared with this tenant');
      }
      inv.uses += 1;
      const share: Share = {
        id: newId('shr'), deploymentId: inv.deploymentId, ownerTenantId: inv.tenantId, tenantId: input.tenantId,
        inviteId: inv.id, createdAt: now,
      };
      d.shares.push(share);
      return share;
    });
  }

  async listShares(deploymentId: string): Promise<Share[]> {
    return structuredClone((await this.snapshot()).shares.filter((s) => s.deploymentId === deploymentId));
  }

  async listSharedWithTenant(tenantId: string): Promise<SharedDeployment[]> {
    const d = await this.snapshot();
    const out: SharedDeployment[] = [];
    for (const share of d.shares) {
      if (share.tenantId !== tenantId) continue;
      const deployment = d.deployments.find((x) => x.id === share.deploymentId);
      if (deployment) out.push(structuredClone({ share, deployment }));
    }
    return out.sort(compareShares);
  }

  revokeShare(id: string): Promise<Share | null> {
    return this.mutate((d) => {
      const share = d.shares.find((s) => s.id === id);
      if (!share) return null;
      d.shares = d.shares.filter((s) => s.id !== id);
      return share;
    });
  }

  // ---- usage ----

  async recordUsage(records: UsageRecord[]): Promise<void> {
    await this.usage.append(parseInput(usageBatchSchema, records, 'usage'));
  }

  async queryUsage(query: UsageQuery): Promise<UsageReport> {
    return this.usage.query(parseInput(usageQuerySchema, query, 'query'));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  get directory(): string {
    return this.dir;
  }
}

import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Store } from './store.js';
import type { ApiKey, Deployment, Tenant, TunnelToken, WithSecret } from './types.js';
import { deploymentNameSchema, entityNameSchema } from './types.js';
import { StoreConflictError, StoreNotFoundError, StoreUnavailableError } from './errors.js';
import { API_KEY_PREFIX, DISPLAY_CHARS, TUNNEL_TOKEN_PREFIX, hashSecret, newId, newSecret, nowIso } from './secrets.js';

const fileSchema = z.object({
  version: z.literal(1),
  tenants: z.array(z.object({ id: z.string(), name: z.string(), createdAt: z.string() })),
  apiKeys: z.array(
    z.object({
      id: z.string(), tenantId: z.string(), name: z.string(), prefix: z.string(), hash: z.string(),
      createdAt: z.string(), revokedAt: z.string().nullable(),
    }),
  ),
  deployments: z.array(z.object({ id: z.string(), tenantId: z.string(), name: z.string(), createdAt: z.string() })),
  tunnelTokens: z.array(
    z.object({
      id: z.string(), tenantId: z.string(), deploymentId: z.string(), prefix: z.string(), hash: z.string(),
      createdAt: z.string(), revokedAt: z.string().nullable(),
    }),
  ),
});
type FileData = z.infer<typeof fileSchema>;

const empty = (): FileData => ({ version: 1, tenants: [], apiKeys: [], deployments: [], tunnelTokens: [] });

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 10_000;

/**
 * Embedded store: one JSON file in a data directory, shared by every process on the machine.
 * Writers take a lock file and re-read before they change anything; readers serve from memory and
 * reload when the file changes (polled, and checked again on a lookup miss).
 */
export class FileStore implements Store {
  readonly kind = 'file';
  private data: FileData = empty();
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly file: string;
  private readonly lockFile: string;

  private constructor(private readonly dir: string) {
    this.file = join(dir, 'store.json');
    this.lockFile = join(dir, 'store.lock');
  }

  static async open(dir: string, options: { pollMs?: number } = {}): Promise<FileStore> {
    await mkdir(dir, { recursive: true });
    const store = new FileStore(dir);
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
    const result = fileSchema.safeParse(parsed);
    if (!result.success) throw new StoreUnavailableError(`${this.file} does not match the store format: ${result.error.issues[0]?.message}`);
    this.data = result.data;
    this.stamp = stamp;
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (;;) {
      try {
        const fh = await open(this.lockFile, 'wx');
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await stat(this.lockFile).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await unlink(this.lockFile).catch(() => undefined);
        if (Date.now() - started > LOCK_WAIT_MS) throw new StoreUnavailableError(`could not lock ${this.lockFile}`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(this.lockFile).catch(() => undefined);
    }
  }

  /** Read-modify-write under the lock; `fn` may throw to abort without writing. */
  private mutate<T>(fn: (d: FileData) => T): Promise<T> {
    return this.withLock(async () => {
      await this.refresh();
      const draft = structuredClone(this.data);
      const out = fn(draft);
      const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, JSON.stringify(draft, null, 1), { mode: 0o600 });
      await rename(tmp, this.file);
      this.data = draft;
      this.stamp = '';
      await this.refresh();
      return out;
    });
  }

  private async lookup<T>(find: () => T | undefined): Promise<T | null> {
    const hit = find();
    if (hit !== undefined) return structuredClone(hit);
    await this.refresh();
    const again = find();
    return again === undefined ? null : structuredClone(again);
  }

  async createTenant(input: { name: string }): Promise<Tenant> {
    const name = entityNameSchema.parse(input.name);
    return this.mutate((d) => {
      const t: Tenant = { id: newId('ten'), name, createdAt: nowIso() };
      d.tenants.push(t);
      return t;
    });
  }

  getTenant(id: string): Promise<Tenant | null> {
    return this.lookup(() => this.data.tenants.find((t) => t.id === id));
  }

  async listTenants(): Promise<Tenant[]> {
    await this.refresh();
    return structuredClone(this.data.tenants);
  }

  async createApiKey(input: { tenantId: string; name: string }): Promise<WithSecret<ApiKey>> {
    const name = entityNameSchema.parse(input.name);
    const secret = newSecret(API_KEY_PREFIX);
    const record = await this.mutate((d) => {
      if (!d.tenants.some((t) => t.id === input.tenantId)) throw new StoreNotFoundError(`no tenant ${input.tenantId}`);
      const k: ApiKey = {
        id: newId('key'), tenantId: input.tenantId, name, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: nowIso(), revokedAt: null,
      };
      d.apiKeys.push(k);
      return k;
    });
    return { record, secret };
  }

  async listApiKeys(tenantId: string): Promise<ApiKey[]> {
    await this.refresh();
    return structuredClone(this.data.apiKeys.filter((k) => k.tenantId === tenantId));
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return this.mutate((d) => {
      const k = d.apiKeys.find((x) => x.id === id);
      if (!k) return null;
      k.revokedAt ??= nowIso();
      return structuredClone(k);
    });
  }

  findApiKeyBySecret(secret: string): Promise<ApiKey | null> {
    const hash = hashSecret(secret);
    return this.lookup(() => this.data.apiKeys.find((k) => k.hash === hash));
  }

  async createDeployment(input: { tenantId: string; name: string }): Promise<Deployment> {
    const name = deploymentNameSchema.parse(input.name);
    return this.mutate((d) => {
      if (!d.tenants.some((t) => t.id === input.tenantId)) throw new StoreNotFoundError(`no tenant ${input.tenantId}`);
      if (d.deployments.some((x) => x.tenantId === input.tenantId && x.name === name)) {
        throw new StoreConflictError(`deployment ${name} already exists for this tenant`);
      }
      const dep: Deployment = { id: newId('dep'), tenantId: input.tenantId, name, createdAt: nowIso() };
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
    await this.refresh();
    return structuredClone(this.data.deployments.filter((x) => x.tenantId === tenantId));
  }

  async createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>> {
    const secret = newSecret(TUNNEL_TOKEN_PREFIX);
    const record = await this.mutate((d) => {
      const dep = d.deployments.find((x) => x.id === input.deploymentId);
      if (!dep) throw new StoreNotFoundError(`no deployment ${input.deploymentId}`);
      const t: TunnelToken = {
        id: newId('tok'), tenantId: dep.tenantId, deploymentId: dep.id, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: nowIso(), revokedAt: null,
      };
      d.tunnelTokens.push(t);
      return t;
    });
    return { record, secret };
  }

  async listTunnelTokens(deploymentId: string): Promise<TunnelToken[]> {
    await this.refresh();
    return structuredClone(this.data.tunnelTokens.filter((t) => t.deploymentId === deploymentId));
  }

  revokeTunnelToken(id: string): Promise<TunnelToken | null> {
    return this.mutate((d) => {
      const t = d.tunnelTokens.find((x) => x.id === id);
      if (!t) return null;
      t.revokedAt ??= nowIso();
      return structuredClone(t);
    });
  }

  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null> {
    const hash = hashSecret(secret);
    return this.lookup(() => this.data.tunnelTokens.find((t) => t.hash === hash));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  get directory(): string {
    return this.dir;
  }
}

import Database, { type Statement } from 'better-sqlite3';
import { mkdir, open as openFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Store } from './store.js';
import type {
  Alias, AliasMode, ApiKey, Deployment, Invite, KeyLimits, ModelRoute, Share, SharedDeployment, Tenant, TunnelToken,
  UsageQuery, UsageRecord, UsageRecordQuery, UsageReport, WithSecret,
} from './types.js';
import { deploymentNameSchema, entityNameSchema } from './types.js';
import { InviteRejectedError, NoStoreError, StoreConflictError, StoreNotFoundError, StoreValidationError } from './errors.js';
import {
  API_KEY_PREFIX, CONSOLE_SECRET_PREFIX, DISPLAY_CHARS, INVITE_CODE_PREFIX, TUNNEL_TOKEN_PREFIX, hashSecret, newId,
  newSecret, systemClock, type Clock,
} from './secrets.js';
import {
  aliasInputSchema, aliasUpdateSchema, inviteInputSchema, keyLimitsSchema, parseInput, sessionIdSchema, sessionRevocationSchema,
  usageQuerySchema, usageRecordQuerySchema,
} from './inputs.js';
import { parseUsageBatch } from './usage-input.js';
import { checkAliasTargets, compareShares, rejectUnusable, resolveAccessible, resolveRoute } from './access.js';
import { configure, migrate } from './sqlite-schema.js';
import { DEFAULT_LOCK_WAIT_MS, isUniqueViolation, runSqlite } from './sqlite-run.js';
import {
  COLUMNS, aliasFromRow, aliasToRow, apiKeyFromRow, apiKeyToRow, deploymentFromRow, deploymentToRow, insertSql, inviteFromRow, inviteToRow,
  shareFromRow, shareToRow, tenantFromRow, tenantToRow, tunnelTokenFromRow, tunnelTokenToRow,
  type DeploymentRow, type ShareRow,
} from './sqlite-rows.js';
import { SqliteUsage } from './sqlite-usage.js';
import { SqliteSessions } from './sqlite-sessions.js';
import { toHourlyQuery } from './usage.js';
import { DEFAULT_USAGE_RETENTION, retentionCutoff, type UsageRetention } from './retention.js';
import {
  LEGACY_STORE_FILE, finishLegacyImport, importLegacyStore, readLegacyStore, type StoreLog,
} from './legacy-import.js';

export const SQLITE_FILE = 'tokios.db';
/** How often each process deletes usage past its retention (also once shortly after opening). */
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;

export interface SqliteStoreOptions {
  clock?: Clock;
  retention?: UsageRetention;
  /** Create the data dir and the database when missing (default). False: NoStoreError when neither exists. */
  create?: boolean;
  /** How long an operation waits for another process's lock before StoreUnavailableError. */
  lockWaitMs?: number;
  /** 0 disables the periodic prune (tests call pruneUsage themselves). */
  pruneIntervalMs?: number;
  log?: StoreLog;
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/**
 * The embedded store: one SQLite database (`tokios.db`, WAL) in the data dir, shared by every process on the
 * machine: each write is one transaction that takes the write lock first (BEGIN IMMEDIATE), so checks and
 * changes never interleave across processes; readers never wait for writers and see each commit at once.
 * Layout and migrations: sqlite-schema.ts; usage and its rollups: sqlite-usage.ts; the one-time import of
 * the JSON store that came before: legacy-import.ts.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly s: ReturnType<typeof prepare>;
  private readonly usage: SqliteUsage;
  private readonly sessions: SqliteSessions;
  /**
   * recordUsage's write transaction, made once: db.transaction builds four wrapper functions and defines five
   * properties on each at every call, and every ingress writes usage on every flush.
   */
  private readonly recordTx: Database.Transaction<(batch: readonly UsageRecord[], ats: readonly number[]) => number>;
  private timers: NodeJS.Timeout[] = [];
  private pruning: Promise<void> | undefined;
  private closed = false;
  /** True when this open made the database (the data dir held none). */
  created = false;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly clock: Clock,
    readonly retention: UsageRetention,
    private readonly lockWaitMs: number,
  ) {
    this.s = prepare(db);
    this.usage = new SqliteUsage(db);
    this.sessions = new SqliteSessions(db);
    this.recordTx = db.transaction((batch: readonly UsageRecord[], ats: readonly number[]) => this.usage.record(batch, ats));
  }

  static async open(dir: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const file = resolve(join(dir, SQLITE_FILE));
    const clock = options.clock ?? systemClock;
    const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    const existed = await exists(file);
    if (options.create === false && !existed && !(await exists(join(dir, LEGACY_STORE_FILE)))) {
      throw new NoStoreError(resolve(dir));
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const legacy = await readLegacyStore(dir);
    // Created 0600 before SQLite opens it; its -wal and -shm files take the same mode.
    await (await openFile(file, 'a', 0o600)).close();
    const db = await runSqlite(file, 'open', lockWaitMs, () => new Database(file));
    try {
      await runSqlite(file, 'open', lockWaitMs, () => configure(db));
      let imported: Record<string, number> | null = null;
      await runSqlite(file, 'open', lockWaitMs, () =>
        migrate(db, legacy ? () => (imported = importLegacyStore(db, legacy, clock().toISOString())) : undefined),
      );
      if (imported) options.log?.info({ file: join(dir, LEGACY_STORE_FILE), into: file, ...(imported as object) }, 'old JSON store imported into SQLite');
      const store = new SqliteStore(db, file, clock, options.retention ?? DEFAULT_USAGE_RETENTION, lockWaitMs);
      store.created = !existed;
      await finishLegacyImport({
        dir, db, usage: store.usage, log: options.log, nowIso: () => clock().toISOString(),
        read: (what, fn) => store.read(what, fn), write: (what, fn) => store.write(what, fn),
      });
      const every = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
      if (every > 0) {
        const tick = () => {
          if (!store.closed) store.pruneUsage().catch((err: Error) => options.log?.warn({ err: err.message }, 'usage prune failed'));
        };
        store.timers.push(setInterval(tick, every).unref(), setTimeout(tick, Math.min(every, 5_000)).unref());
      }
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  describe(): string {
    return `SQLite ${this.file}`;
  }

  async ping(): Promise<void> {
    await this.read('ping', () => this.db.prepare('SELECT 1').get());
  }

  private read<T>(what: string, fn: () => T): Promise<T> {
    return runSqlite(this.file, what, this.lockWaitMs, fn);
  }

  /** One write transaction, the write lock taken first; `fn` may throw to roll back. */
  private write<T>(what: string, fn: () => T): Promise<T> {
    return runSqlite(this.file, what, this.lockWaitMs, () => this.db.transaction(fn).immediate());
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private requireTenant(id: string): void {
    if (!this.s.tenantById.get(id)) throw new StoreNotFoundError(`no tenant ${id}`);
  }

  private requireDeployment(id: string): Deployment {
    const row = this.s.deploymentById.get(id) as DeploymentRow | undefined;
    if (!row) throw new StoreNotFoundError(`no deployment ${id}`);
    return deploymentFromRow(row);
  }

  // ---- tenants ----

  async createTenant(input: { name: string }): Promise<Tenant> {
    const name = parseInput(entityNameSchema, input.name, 'name');
    return this.write('createTenant', () => {
      const t: Tenant = { id: newId('ten'), name, createdAt: this.now(), console: null };
      this.s.insertTenant.run(tenantToRow(t));
      return t;
    });
  }

  getTenant(id: string): Promise<Tenant | null> {
    return this.read('getTenant', () => one(this.s.tenantById, tenantFromRow, id));
  }

  listTenants(): Promise<Tenant[]> {
    return this.read('listTenants', () => all(this.s.tenants, tenantFromRow));
  }

  createTenantConsoleSecret(tenantId: string): Promise<WithSecret<Tenant>> {
    const secret = newSecret(CONSOLE_SECRET_PREFIX);
    return this.write('createTenantConsoleSecret', () => {
      const changed = this.s.setConsole.run({
        id: tenantId, prefix: secret.slice(0, DISPLAY_CHARS), hash: hashSecret(secret), at: this.now(),
      }).changes;
      if (!changed) throw new StoreNotFoundError(`no tenant ${tenantId}`);
      return { record: one(this.s.tenantById, tenantFromRow, tenantId)!, secret };
    });
  }

  findTenantBySecret(secret: string): Promise<Tenant | null> {
    return this.read('findTenantBySecret', () => one(this.s.tenantByConsoleHash, tenantFromRow, hashSecret(secret)));
  }

  // ---- API keys ----

  async createApiKey(input: { tenantId: string; name: string; limits?: KeyLimits | null }): Promise<WithSecret<ApiKey>> {
    const name = parseInput(entityNameSchema, input.name, 'name');
    const limits = parseInput(keyLimitsSchema, input.limits ?? null, 'limits');
    const secret = newSecret(API_KEY_PREFIX);
    return this.write('createApiKey', () => {
      this.requireTenant(input.tenantId);
      const k: ApiKey = {
        id: newId('key'), tenantId: input.tenantId, name, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null, limits,
      };
      this.s.insertApiKey.run(apiKeyToRow(k));
      return { record: k, secret };
    });
  }

  getApiKey(id: string): Promise<ApiKey | null> {
    return this.read('getApiKey', () => one(this.s.apiKeyById, apiKeyFromRow, id));
  }

  listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return this.read('listApiKeys', () => all(this.s.apiKeysOfTenant, apiKeyFromRow, tenantId));
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return this.write('revokeApiKey', () => {
      this.s.revokeApiKey.run({ id, at: this.now() });
      return one(this.s.apiKeyById, apiKeyFromRow, id);
    });
  }

  async setApiKeyLimits(id: string, limits: KeyLimits | null): Promise<ApiKey | null> {
    const parsed = parseInput(keyLimitsSchema, limits, 'limits');
    return this.write('setApiKeyLimits', () => {
      this.s.setLimits.run({ id, limits: parsed === null ? null : JSON.stringify(parsed) });
      return one(this.s.apiKeyById, apiKeyFromRow, id);
    });
  }

  findApiKeyBySecret(secret: string): Promise<ApiKey | null> {
    return this.read('findApiKeyBySecret', () => one(this.s.apiKeyByHash, apiKeyFromRow, hashSecret(secret)));
  }

  // ---- deployments ----

  async createDeployment(input: { tenantId: string; name: string }): Promise<Deployment> {
    const name = parseInput(deploymentNameSchema, input.name, 'name');
    return this.write('createDeployment', () => {
      this.requireTenant(input.tenantId);
      if (this.s.aliasByName.get(input.tenantId, name)) throw new StoreConflictError(`an alias ${name} already exists for this tenant`);
      const dep: Deployment = { id: newId('dep'), tenantId: input.tenantId, name, createdAt: this.now() };
      try {
        this.s.insertDeployment.run(deploymentToRow(dep));
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`deployment ${name} already exists for this tenant`, { cause: err });
        throw err;
      }
      return dep;
    });
  }

  getDeployment(id: string): Promise<Deployment | null> {
    return this.read('getDeployment', () => one(this.s.deploymentById, deploymentFromRow, id));
  }

  findDeploymentByName(tenantId: string, name: string): Promise<Deployment | null> {
    return this.read('findDeploymentByName', () => one(this.s.deploymentByName, deploymentFromRow, tenantId, name));
  }

  listDeployments(tenantId: string): Promise<Deployment[]> {
    return this.read('listDeployments', () => all(this.s.deploymentsOfTenant, deploymentFromRow, tenantId));
  }

  findAccessibleDeployment(tenantId: string, name: string): Promise<Deployment | null> {
    return resolveAccessible(this, tenantId, name);
  }

  deleteDeployment(id: string): Promise<Deployment | null> {
    return this.write('deleteDeployment', () => {
      const dep = one(this.s.deploymentById, deploymentFromRow, id);
      if (!dep) return null;
      const at = this.now();
      this.s.revokeTokensOfDeployment.run({ id, at });
      this.s.revokeInvitesOfDeployment.run({ id, at });
      this.s.deleteSharesOfDeployment.run(id);
      this.s.deleteDeployment.run(id);
      return dep;
    });
  }

  // ---- aliases ----

  async createAlias(input: { tenantId: string; name: string; mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias> {
    const a = parseInput(aliasInputSchema, input, 'alias');
    // Checked before the write: a target unshared meanwhile is skipped at resolution (resolveRoute checks again).
    await checkAliasTargets(this, a.tenantId, a.targets);
    return this.write('createAlias', () => {
      this.requireTenant(a.tenantId);
      if (this.s.deploymentByName.get(a.tenantId, a.name)) throw new StoreConflictError(`a deployment ${a.name} already exists for this tenant`);
      const now = this.now();
      const alias: Alias = { id: newId('als'), tenantId: a.tenantId, name: a.name, mode: a.mode, targets: a.targets, createdAt: now, updatedAt: now };
      try {
        this.s.insertAlias.run(aliasToRow(alias));
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`alias ${a.name} already exists for this tenant`, { cause: err });
        throw err;
      }
      return alias;
    });
  }

  getAlias(id: string): Promise<Alias | null> {
    return this.read('getAlias', () => one(this.s.aliasById, aliasFromRow, id));
  }

  findAliasByName(tenantId: string, name: string): Promise<Alias | null> {
    return this.read('findAliasByName', () => one(this.s.aliasByName, aliasFromRow, tenantId, name));
  }

  listAliases(tenantId: string): Promise<Alias[]> {
    return this.read('listAliases', () => all(this.s.aliasesOfTenant, aliasFromRow, tenantId));
  }

  async updateAlias(id: string, input: { mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias | null> {
    const u = parseInput(aliasUpdateSchema, input, 'alias');
    const current = await this.getAlias(id);
    if (!current) return null;
    await checkAliasTargets(this, current.tenantId, u.targets);
    return this.write('updateAlias', () => {
      this.s.updateAlias.run({ id, mode: u.mode, targets: JSON.stringify(u.targets), at: this.now() });
      return one(this.s.aliasById, aliasFromRow, id);
    });
  }

  deleteAlias(id: string): Promise<Alias | null> {
    return this.write('deleteAlias', () => {
      const alias = one(this.s.aliasById, aliasFromRow, id);
      if (alias) this.s.deleteAlias.run(id);
      return alias;
    });
  }

  resolveModel(tenantId: string, name: string): Promise<ModelRoute | null> {
    return resolveRoute(this, tenantId, name);
  }

  // ---- tunnel tokens ----

  createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>> {
    const secret = newSecret(TUNNEL_TOKEN_PREFIX);
    return this.write('createTunnelToken', () => {
      const dep = this.requireDeployment(input.deploymentId);
      const t: TunnelToken = {
        id: newId('tok'), tenantId: dep.tenantId, deploymentId: dep.id, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null,
      };
      this.s.insertTunnelToken.run(tunnelTokenToRow(t));
      return { record: t, secret };
    });
  }

  listTunnelTokens(deploymentId: string): Promise<TunnelToken[]> {
    return this.read('listTunnelTokens', () => all(this.s.tokensOfDeployment, tunnelTokenFromRow, deploymentId));
  }

  revokeTunnelToken(id: string): Promise<TunnelToken | null> {
    return this.write('revokeTunnelToken', () => {
      this.s.revokeToken.run({ id, at: this.now() });
      return one(this.s.tokenById, tunnelTokenFromRow, id);
    });
  }

  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null> {
    return this.read('findTunnelTokenBySecret', () => one(this.s.tokenByHash, tunnelTokenFromRow, hashSecret(secret)));
  }

  // ---- invites and shares ----

  async createInvite(input: { deploymentId: string; expiresAt: string; maxUses: number }): Promise<WithSecret<Invite>> {
    const { deploymentId, expiresAt, maxUses } = parseInput(inviteInputSchema, input, 'invite');
    const now = this.now();
    if (expiresAt <= now) throw new StoreValidationError('invalid invite.expiresAt: must be in the future', 'invite.expiresAt');
    const secret = newSecret(INVITE_CODE_PREFIX);
    return this.write('createInvite', () => {
      const dep = this.requireDeployment(deploymentId);
      const inv: Invite = {
        id: newId('inv'), deploymentId, tenantId: dep.tenantId, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: now, expiresAt, maxUses, uses: 0, revokedAt: null,
      };
      this.s.insertInvite.run(inviteToRow(inv));
      return { record: inv, secret };
    });
  }

  listInvites(deploymentId: string): Promise<Invite[]> {
    return this.read('listInvites', () => all(this.s.invitesOfDeployment, inviteFromRow, deploymentId));
  }

  revokeInvite(id: string): Promise<Invite | null> {
    return this.write('revokeInvite', () => {
      this.s.revokeInvite.run({ id, at: this.now() });
      return one(this.s.inviteById, inviteFromRow, id);
    });
  }

  /** Checks, counts the use and creates the share in one transaction: racing redemptions serialise on the write lock. */
  redeemInvite(input: { code: string; tenantId: string }): Promise<Share> {
    const hash = hashSecret(input.code);
    return this.write('redeemInvite', () => {
      const now = this.now();
      const inv = one(this.s.inviteByHash, inviteFromRow, hash);
      if (!inv) throw new InviteRejectedError('unknown');
      rejectUnusable(inv, now);
      this.requireTenant(input.tenantId);
      if (inv.tenantId === input.tenantId) throw new InviteRejectedError('own_deployment');
      if (this.s.shareOf.get(inv.deploymentId, input.tenantId)) {
        throw new StoreConflictError('the deployment is already shared with this tenant');
      }
      if (this.s.useInvite.run(inv.id).changes !== 1) throw new InviteRejectedError('exhausted');
      const share: Share = {
        id: newId('shr'), deploymentId: inv.deploymentId, ownerTenantId: inv.tenantId, tenantId: input.tenantId,
        inviteId: inv.id, createdAt: now,
      };
      this.s.insertShare.run(shareToRow(share));
      return share;
    });
  }

  listShares(deploymentId: string): Promise<Share[]> {
    return this.read('listShares', () => all(this.s.sharesOfDeployment, shareFromRow, deploymentId));
  }

  listSharedWithTenant(tenantId: string): Promise<SharedDeployment[]> {
    return this.read('listSharedWithTenant', () => {
      const rows = this.s.sharedWithTenant.all(tenantId) as (ShareRow & { d_name: string; d_created_at: string; d_tenant_id: string })[];
      return rows
        .map((r) => ({
          share: shareFromRow(r),
          deployment: { id: r.deployment_id, tenantId: r.d_tenant_id, name: r.d_name, createdAt: r.d_created_at },
        }))
        .sort(compareShares);
    });
  }

  revokeShare(id: string): Promise<Share | null> {
    return this.write('revokeShare', () => {
      const share = one(this.s.shareById, shareFromRow, id);
      if (share) this.s.deleteShare.run(id);
      return share;
    });
  }

  // ---- dashboard sessions ----

  async revokeSession(input: { sessionId: string; tenantId: string; expiresAt: string }): Promise<void> {
    const r = parseInput(sessionRevocationSchema, input, 'session');
    await this.write('revokeSession', () => this.sessions.revoke(r, this.clock().getTime()));
  }

  async isSessionRevoked(sessionId: string): Promise<boolean> {
    const id = parseInput(sessionIdSchema, sessionId, 'sessionId');
    return this.read('isSessionRevoked', () => this.sessions.isRevoked(id, this.clock().getTime()));
  }

  // ---- usage ----

  async recordUsage(records: UsageRecord[]): Promise<void> {
    // Each record's instant as the batch's check read it: the rows and rollups need the milliseconds too.
    const ats: number[] = [];
    const batch = parseUsageBatch(records, ats);
    if (batch.length === 0) return;
    await runSqlite(this.file, 'recordUsage', this.lockWaitMs, () => this.recordTx.immediate(batch, ats));
  }

  async queryUsage(query: UsageQuery): Promise<UsageReport> {
    const q = toHourlyQuery(parseInput(usageQuerySchema, query, 'query'), retentionCutoff(this.clock().getTime(), this.retention.rollupMs));
    return this.read('queryUsage', () => this.usage.query(q));
  }

  async listUsageRecords(query: UsageRecordQuery): Promise<UsageRecord[]> {
    const q = parseInput(usageRecordQuerySchema, query, 'query');
    return this.read('listUsageRecords', () => this.usage.list({ tenantId: q.tenantId, fromMs: Date.parse(q.from), toMs: Date.parse(q.to), limit: q.limit }));
  }

  /**
   * Deletes raw records past the raw retention and rollups past the rollup retention, a chunk per
   * transaction so writers from other processes get the lock in between. Returns what was deleted.
   */
  pruneUsage(): Promise<{ records: number; rollups: number }> {
    const run = async () => {
      const now = this.clock().getTime();
      const out = { records: 0, rollups: 0 };
      const rawCut = retentionCutoff(now, this.retention.rawMs);
      const rollCut = retentionCutoff(now, this.retention.rollupMs);
      for (let n = -1; n !== 0 && !this.closed; ) out.records += n = await this.write('pruneUsage', () => this.usage.pruneRawChunk(rawCut));
      for (let n = -1; n !== 0 && !this.closed; ) out.rollups += n = await this.write('pruneUsage', () => this.usage.pruneRollupChunk(rollCut));
      return out;
    };
    // One prune at a time per process.
    const p = (this.pruning ?? Promise.resolve()).then(run);
    this.pruning = p.then(() => undefined, () => undefined);
    return p;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await this.pruning;
    this.db.close();
  }
}

function one<R, T>(stmt: Statement, map: (r: R) => T, ...params: unknown[]): T | null {
  const row = stmt.get(...params) as R | undefined;
  return row === undefined ? null : map(row);
}

function all<R, T>(stmt: Statement, map: (r: R) => T, ...params: unknown[]): T[] {
  return (stmt.all(...params) as R[]).map(map);
}

/** Every statement the store runs, prepared once per connection. */
function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insertTenant: p(insertSql('tenants', COLUMNS.tenants)),
    tenantById: p('SELECT * FROM tenants WHERE id = ?'),
    tenants: p('SELECT * FROM tenants ORDER BY created_at, id'),
    tenantByConsoleHash: p('SELECT * FROM tenants WHERE console_hash = ?'),
    setConsole: p('UPDATE tenants SET console_prefix = @prefix, console_hash = @hash, console_created_at = @at WHERE id = @id'),

    insertApiKey: p(insertSql('api_keys', COLUMNS.api_keys)),
    apiKeyById: p('SELECT * FROM api_keys WHERE id = ?'),
    apiKeyByHash: p('SELECT * FROM api_keys WHERE hash = ?'),
    apiKeysOfTenant: p('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id'),
    revokeApiKey: p('UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL'),
    setLimits: p('UPDATE api_keys SET limits = @limits WHERE id = @id'),

    insertDeployment: p(insertSql('deployments', COLUMNS.deployments)),
    deploymentById: p('SELECT * FROM deployments WHERE id = ?'),
    deploymentByName: p('SELECT * FROM deployments WHERE tenant_id = ? AND name = ?'),
    deploymentsOfTenant: p('SELECT * FROM deployments WHERE tenant_id = ? ORDER BY created_at, id'),
    deleteDeployment: p('DELETE FROM deployments WHERE id = ?'),
    revokeTokensOfDeployment: p('UPDATE tunnel_tokens SET revoked_at = @at WHERE deployment_id = @id AND revoked_at IS NULL'),
    revokeInvitesOfDeployment: p('UPDATE invites SET revoked_at = @at WHERE deployment_id = @id AND revoked_at IS NULL'),
    deleteSharesOfDeployment: p('DELETE FROM shares WHERE deployment_id = ?'),

    insertTunnelToken: p(insertSql('tunnel_tokens', COLUMNS.tunnel_tokens)),
    tokenById: p('SELECT * FROM tunnel_tokens WHERE id = ?'),
    tokenByHash: p('SELECT * FROM tunnel_tokens WHERE hash = ?'),
    tokensOfDeployment: p('SELECT * FROM tunnel_tokens WHERE deployment_id = ? ORDER BY created_at, id'),
    revokeToken: p('UPDATE tunnel_tokens SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL'),

    insertInvite: p(insertSql('invites', COLUMNS.invites)),
    inviteById: p('SELECT * FROM invites WHERE id = ?'),
    inviteByHash: p('SELECT * FROM invites WHERE hash = ?'),
    invitesOfDeployment: p('SELECT * FROM invites WHERE deployment_id = ? ORDER BY created_at, id'),
    revokeInvite: p('UPDATE invites SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL'),
    useInvite: p('UPDATE invites SET uses = uses + 1 WHERE id = ? AND uses < max_uses'),

    insertShare: p(insertSql('shares', COLUMNS.shares)),
    shareById: p('SELECT * FROM shares WHERE id = ?'),
    shareOf: p('SELECT 1 FROM shares WHERE deployment_id = ? AND tenant_id = ?'),
    sharesOfDeployment: p('SELECT * FROM shares WHERE deployment_id = ? ORDER BY created_at, id'),
    sharedWithTenant: p(
      `SELECT s.*, d.name AS d_name, d.created_at AS d_created_at, d.tenant_id AS d_tenant_id
       FROM shares s JOIN deployments d ON d.id = s.deployment_id WHERE s.tenant_id = ?`,
    ),
    deleteShare: p('DELETE FROM shares WHERE id = ?'),

    insertAlias: p(insertSql('aliases', COLUMNS.aliases)),
    aliasById: p('SELECT * FROM aliases WHERE id = ?'),
    aliasByName: p('SELECT * FROM aliases WHERE tenant_id = ? AND name = ?'),
    aliasesOfTenant: p('SELECT * FROM aliases WHERE tenant_id = ? ORDER BY created_at, id'),
    updateAlias: p('UPDATE aliases SET mode = @mode, targets = @targets, updated_at = @at WHERE id = @id'),
    deleteAlias: p('DELETE FROM aliases WHERE id = ?'),
  };
}

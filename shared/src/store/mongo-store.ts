import { MongoBulkWriteError, MongoClient, type Filter } from 'mongodb';
import type { Store } from './store.js';
import type {
  Alias, AliasMode, ApiKey, Deployment, Invite, KeyLimits, ModelRoute, Share, SharedDeployment, Tenant, TunnelToken,
  UsageQuery, UsageRecord, UsageRecordQuery, UsageReport, WithSecret,
} from './types.js';
import { deploymentNameSchema, entityNameSchema } from './types.js';
import { InviteRejectedError, StoreConflictError, StoreNotFoundError, StoreValidationError } from './errors.js';
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
import { BucketAccumulator, rollUp, toHourlyQuery } from './usage.js';
import { collections, ensureSchema, type Collections, type Doc, type UsageDoc } from './mongo-schema.js';
import { insertedIndices, rollupQueryPipeline, rollupUpdates, totalsFromRow } from './mongo-usage.js';
import { DEFAULT_USAGE_RETENTION, retentionCutoff, type UsageRetention } from './retention.js';
import { isDuplicateKey, mapMongoError } from './mongo-errors.js';
import { mongoDbNameSchema, parseMongoUrl } from './mongo-url.js';

export const DEFAULT_MONGODB_DB = 'tokios';
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 2_000;

export interface MongoStoreOptions {
  /** `mongodb://` or `mongodb+srv://` connection string; may carry credentials (never logged). */
  url: string;
  /** Database name; else the URL's path; else `tokios`. */
  dbName?: string;
  /** How long an operation waits for a reachable server before failing with StoreUnavailableError. */
  serverSelectionTimeoutMS?: number;
  clock?: Clock;
  /** Raw records and rollups expire by TTL indexes set from this. */
  retention?: UsageRetention;
}

/** The database a store will use: explicit name, else the URL path, else the default. Throws on a bad name. */
export function resolveMongoDbName(url: string, dbName?: string): string {
  const parts = parseMongoUrl(url);
  if (!parts) throw new StoreValidationError('invalid MongoDB URL: must start with mongodb:// or mongodb+srv:// and name a host', 'url');
  return parseInput(mongoDbNameSchema, dbName ?? parts.dbName ?? DEFAULT_MONGODB_DB, 'dbName');
}

function fromDoc<T extends { id: string }>(doc: Doc<T>): T {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest } as unknown as T;
}

function toDoc<T extends { id: string }>(record: T): Doc<T> {
  const { id, ...rest } = record;
  return { _id: id, ...rest } as unknown as Doc<T>;
}

const orNull = <T extends { id: string }>(doc: Doc<T> | null): T | null => (doc ? fromDoc<T>(doc) : null);

/**
 * The control-plane store on MongoDB (official driver). Layout and indexes: mongo-schema.ts. Uniqueness is
 * enforced by unique indexes, so concurrent writers from many replicas are safe; multi-document operations
 * (deleteDeployment's cascade, invite redemption's compensation) are ordered so a retry completes them.
 * The driver reconnects by itself; while no server is reachable, operations fail after
 * serverSelectionTimeoutMS with StoreUnavailableError.
 */
export class MongoStore implements Store {
  readonly kind = 'mongodb';

  private constructor(
    private readonly client: MongoClient,
    private readonly c: Collections,
    private readonly server: string,
    private readonly clock: Clock,
    readonly dbName: string,
    readonly retention: UsageRetention,
  ) {}

  static async open(options: MongoStoreOptions): Promise<MongoStore> {
    const dbName = resolveMongoDbName(options.url, options.dbName);
    const server = parseMongoUrl(options.url)!.redacted;
    const clock = options.clock ?? systemClock;
    const retention = options.retention ?? DEFAULT_USAGE_RETENTION;
    const client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
      appName: 'tokios',
      ignoreUndefined: true,
    });
    try {
      await client.connect();
      const db = client.db(dbName);
      const c = collections(db);
      await ensureSchema(db, c, () => clock().toISOString(), retention);
      return new MongoStore(client, c, server, clock, dbName, retention);
    } catch (err) {
      await client.close().catch(() => undefined);
      throw mapMongoError(err, server, 'open');
    }
  }

  describe(): string {
    return `MongoDB ${this.server} database ${this.dbName}`;
  }

  async ping(): Promise<void> {
    await this.op('ping', () => this.client.db(this.dbName).command({ ping: 1 }));
  }

  /** Runs one store operation, translating driver errors (see mongo-errors.ts). */
  private async op<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapMongoError(err, this.server, what);
    }
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private async requireTenant(id: string): Promise<void> {
    const hit = await this.c.tenants.findOne({ _id: id }, { projection: { _id: 1 } });
    if (!hit) throw new StoreNotFoundError(`no tenant ${id}`);
  }

  private async requireDeployment(id: string): Promise<Deployment> {
    const dep = await this.c.deployments.findOne({ _id: id });
    if (!dep) throw new StoreNotFoundError(`no deployment ${id}`);
    return fromDoc<Deployment>(dep);
  }

  // ---- tenants ----

  createTenant(input: { name: string }): Promise<Tenant> {
    return this.op('createTenant', async () => {
      const name = parseInput(entityNameSchema, input.name, 'name');
      const t: Tenant = { id: newId('ten'), name, createdAt: this.now(), console: null };
      await this.c.tenants.insertOne(toDoc(t));
      return t;
    });
  }

  getTenant(id: string): Promise<Tenant | null> {
    return this.op('getTenant', async () => orNull<Tenant>(await this.c.tenants.findOne({ _id: id })));
  }

  listTenants(): Promise<Tenant[]> {
    return this.op('listTenants', async () =>
      (await this.c.tenants.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<Tenant>(d)),
    );
  }

  createTenantConsoleSecret(tenantId: string): Promise<WithSecret<Tenant>> {
    return this.op('createTenantConsoleSecret', async () => {
      const secret = newSecret(CONSOLE_SECRET_PREFIX);
      const ref = { prefix: secret.slice(0, DISPLAY_CHARS), hash: hashSecret(secret), createdAt: this.now() };
      const doc = await this.c.tenants.findOneAndUpdate({ _id: tenantId }, { $set: { console: ref } }, { returnDocument: 'after' });
      if (!doc) throw new StoreNotFoundError(`no tenant ${tenantId}`);
      return { record: fromDoc<Tenant>(doc), secret };
    });
  }

  findTenantBySecret(secret: string): Promise<Tenant | null> {
    return this.op('findTenantBySecret', async () =>
      orNull<Tenant>(await this.c.tenants.findOne({ 'console.hash': hashSecret(secret) } as Filter<Doc<Tenant>>)),
    );
  }

  // ---- API keys ----

  createApiKey(input: { tenantId: string; name: string; limits?: KeyLimits | null }): Promise<WithSecret<ApiKey>> {
    return this.op('createApiKey', async () => {
      const name = parseInput(entityNameSchema, input.name, 'name');
      const limits = parseInput(keyLimitsSchema, input.limits ?? null, 'limits');
      await this.requireTenant(input.tenantId);
      const secret = newSecret(API_KEY_PREFIX);
      const k: ApiKey = {
        id: newId('key'), tenantId: input.tenantId, name, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null, limits,
      };
      await this.c.apiKeys.insertOne(toDoc(k));
      return { record: k, secret };
    });
  }

  getApiKey(id: string): Promise<ApiKey | null> {
    return this.op('getApiKey', async () => orNull<ApiKey>(await this.c.apiKeys.findOne({ _id: id })));
  }

  listApiKeys(tenantId: string): Promise<ApiKey[]> {
    return this.op('listApiKeys', async () =>
      (await this.c.apiKeys.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<ApiKey>(d)),
    );
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return this.op('revokeApiKey', async () => {
      await this.c.apiKeys.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: this.now() } });
      return orNull<ApiKey>(await this.c.apiKeys.findOne({ _id: id }));
    });
  }

  setApiKeyLimits(id: string, limits: KeyLimits | null): Promise<ApiKey | null> {
    return this.op('setApiKeyLimits', async () => {
      const parsed = parseInput(keyLimitsSchema, limits, 'limits');
      const doc = await this.c.apiKeys.findOneAndUpdate({ _id: id }, { $set: { limits: parsed } }, { returnDocument: 'after' });
      return orNull<ApiKey>(doc);
    });
  }

  findApiKeyBySecret(secret: string): Promise<ApiKey | null> {
    return this.op('findApiKeyBySecret', async () => orNull<ApiKey>(await this.c.apiKeys.findOne({ hash: hashSecret(secret) })));
  }

  // ---- deployments ----

  createDeployment(input: { tenantId: string; name: string }): Promise<Deployment> {
    return this.op('createDeployment', async () => {
      const name = parseInput(deploymentNameSchema, input.name, 'name');
      await this.requireTenant(input.tenantId);
      // Two collections: a deployment and an alias of one name created at the same instant are not excluded (rare;
      // resolution then prefers the deployment).
      if (await this.c.aliases.findOne({ tenantId: input.tenantId, name }, { projection: { _id: 1 } })) {
        throw new StoreConflictError(`an alias ${name} already exists for this tenant`);
      }
      const dep: Deployment = { id: newId('dep'), tenantId: input.tenantId, name, createdAt: this.now() };
      try {
        await this.c.deployments.insertOne(toDoc(dep));
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(`deployment ${name} already exists for this tenant`, { cause: err });
        throw err;
      }
      return dep;
    });
  }

  getDeployment(id: string): Promise<Deployment | null> {
    return this.op('getDeployment', async () => orNull<Deployment>(await this.c.deployments.findOne({ _id: id })));
  }

  findDeploymentByName(tenantId: string, name: string): Promise<Deployment | null> {
    return this.op('findDeploymentByName', async () => orNull<Deployment>(await this.c.deployments.findOne({ tenantId, name })));
  }

  listDeployments(tenantId: string): Promise<Deployment[]> {
    return this.op('listDeployments', async () =>
      (await this.c.deployments.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<Deployment>(d)),
    );
  }

  findAccessibleDeployment(tenantId: string, name: string): Promise<Deployment | null> {
    return resolveAccessible(this, tenantId, name);
  }

  deleteDeployment(id: string): Promise<Deployment | null> {
    return this.op('deleteDeployment', async () => {
      const dep = await this.c.deployments.findOne({ _id: id });
      if (!dep) return null;
      // Revoke what grants access first; the deployment record goes last so a failed run can be repeated.
      const now = this.now();
      await this.c.tunnelTokens.updateMany({ deploymentId: id, revokedAt: null }, { $set: { revokedAt: now } });
      await this.c.invites.updateMany({ deploymentId: id, revokedAt: null }, { $set: { revokedAt: now } });
      await this.c.shares.deleteMany({ deploymentId: id });
      await this.c.deployments.deleteOne({ _id: id });
      return fromDoc<Deployment>(dep);
    });
  }

  // ---- aliases ----

  createAlias(input: { tenantId: string; name: string; mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias> {
    return this.op('createAlias', async () => {
      const a = parseInput(aliasInputSchema, input, 'alias');
      await this.requireTenant(a.tenantId);
      await checkAliasTargets(this, a.tenantId, a.targets);
      if (await this.c.deployments.findOne({ tenantId: a.tenantId, name: a.name }, { projection: { _id: 1 } })) {
        throw new StoreConflictError(`a deployment ${a.name} already exists for this tenant`);
      }
      const now = this.now();
      const alias: Alias = { id: newId('als'), tenantId: a.tenantId, name: a.name, mode: a.mode, targets: a.targets, createdAt: now, updatedAt: now };
      try {
        await this.c.aliases.insertOne(toDoc(alias));
      } catch (err) {
        if (isDuplicateKey(err)) throw new StoreConflictError(`alias ${a.name} already exists for this tenant`, { cause: err });
        throw err;
      }
      return alias;
    });
  }

  getAlias(id: string): Promise<Alias | null> {
    return this.op('getAlias', async () => orNull<Alias>(await this.c.aliases.findOne({ _id: id })));
  }

  findAliasByName(tenantId: string, name: string): Promise<Alias | null> {
    return this.op('findAliasByName', async () => orNull<Alias>(await this.c.aliases.findOne({ tenantId, name })));
  }

  listAliases(tenantId: string): Promise<Alias[]> {
    return this.op('listAliases', async () =>
      (await this.c.aliases.find({ tenantId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<Alias>(d)),
    );
  }

  updateAlias(id: string, input: { mode?: AliasMode; targets: { deploymentId: string; weight?: number }[] }): Promise<Alias | null> {
    return this.op('updateAlias', async () => {
      const u = parseInput(aliasUpdateSchema, input, 'alias');
      const current = await this.c.aliases.findOne({ _id: id });
      if (!current) return null;
      await checkAliasTargets(this, current.tenantId, u.targets);
      const doc = await this.c.aliases.findOneAndUpdate(
        { _id: id },
        { $set: { mode: u.mode, targets: u.targets, updatedAt: this.now() } },
        { returnDocument: 'after' },
      );
      return orNull<Alias>(doc);
    });
  }

  deleteAlias(id: string): Promise<Alias | null> {
    return this.op('deleteAlias', async () => orNull<Alias>(await this.c.aliases.findOneAndDelete({ _id: id })));
  }

  resolveModel(tenantId: string, name: string): Promise<ModelRoute | null> {
    return resolveRoute(this, tenantId, name);
  }

  // ---- tunnel tokens ----

  createTunnelToken(input: { deploymentId: string }): Promise<WithSecret<TunnelToken>> {
    return this.op('createTunnelToken', async () => {
      const dep = await this.requireDeployment(input.deploymentId);
      const secret = newSecret(TUNNEL_TOKEN_PREFIX);
      const t: TunnelToken = {
        id: newId('tok'), tenantId: dep.tenantId, deploymentId: dep.id, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: this.now(), revokedAt: null,
      };
      await this.c.tunnelTokens.insertOne(toDoc(t));
      return { record: t, secret };
    });
  }

  listTunnelTokens(deploymentId: string): Promise<TunnelToken[]> {
    return this.op('listTunnelTokens', async () =>
      (await this.c.tunnelTokens.find({ deploymentId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<TunnelToken>(d)),
    );
  }

  revokeTunnelToken(id: string): Promise<TunnelToken | null> {
    return this.op('revokeTunnelToken', async () => {
      await this.c.tunnelTokens.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: this.now() } });
      return orNull<TunnelToken>(await this.c.tunnelTokens.findOne({ _id: id }));
    });
  }

  findTunnelTokenBySecret(secret: string): Promise<TunnelToken | null> {
    return this.op('findTunnelTokenBySecret', async () =>
      orNull<TunnelToken>(await this.c.tunnelTokens.findOne({ hash: hashSecret(secret) })),
    );
  }

  // ---- invites and shares ----

  createInvite(input: { deploymentId: string; expiresAt: string; maxUses: number }): Promise<WithSecret<Invite>> {
    return this.op('createInvite', async () => {
      const { deploymentId, expiresAt, maxUses } = parseInput(inviteInputSchema, input, 'invite');
      const now = this.now();
      if (expiresAt <= now) throw new StoreValidationError('invalid invite.expiresAt: must be in the future', 'invite.expiresAt');
      const dep = await this.requireDeployment(deploymentId);
      const secret = newSecret(INVITE_CODE_PREFIX);
      const inv: Invite = {
        id: newId('inv'), deploymentId, tenantId: dep.tenantId, prefix: secret.slice(0, DISPLAY_CHARS),
        hash: hashSecret(secret), createdAt: now, expiresAt, maxUses, uses: 0, revokedAt: null,
      };
      await this.c.invites.insertOne(toDoc(inv));
      return { record: inv, secret };
    });
  }

  listInvites(deploymentId: string): Promise<Invite[]> {
    return this.op('listInvites', async () =>
      (await this.c.invites.find({ deploymentId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<Invite>(d)),
    );
  }

  revokeInvite(id: string): Promise<Invite | null> {
    return this.op('revokeInvite', async () => {
      await this.c.invites.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: this.now() } });
      return orNull<Invite>(await this.c.invites.findOne({ _id: id }));
    });
  }

  redeemInvite(input: { code: string; tenantId: string }): Promise<Share> {
    return this.op('redeemInvite', async () => {
      const hash = hashSecret(input.code);
      const now = this.now();
      const found = await this.c.invites.findOne({ hash });
      if (!found) throw new InviteRejectedError('unknown');
      const inv = fromDoc<Invite>(found);
      rejectUnusable(inv, now);
      await this.requireTenant(input.tenantId);
      if (inv.tenantId === input.tenantId) throw new InviteRejectedError('own_deployment');
      const alreadyShared = () => new StoreConflictError('the deployment is already shared with this tenant');
      if (await this.c.shares.findOne({ deploymentId: inv.deploymentId, tenantId: input.tenantId }, { projection: { _id: 1 } })) {
        throw alreadyShared();
      }
      // The use is claimed atomically: only while still unrevoked, unexpired and under maxUses (immutable).
      const claimed = await this.c.invites.findOneAndUpdate(
        { _id: inv.id, revokedAt: null, expiresAt: { $gt: now }, uses: { $lt: inv.maxUses } },
        { $inc: { uses: 1 } },
        { returnDocument: 'after' },
      );
      if (!claimed) {
        const again = await this.c.invites.findOne({ _id: inv.id });
        if (!again) throw new InviteRejectedError('unknown');
        rejectUnusable(fromDoc<Invite>(again), now);
        throw new InviteRejectedError('exhausted');
      }
      const share: Share = {
        id: newId('shr'), deploymentId: inv.deploymentId, ownerTenantId: inv.tenantId, tenantId: input.tenantId,
        inviteId: inv.id, createdAt: now,
      };
      try {
        await this.c.shares.insertOne(toDoc(share));
      } catch (err) {
        // A concurrent redemption by the same tenant won: give the use back.
        await this.c.invites.updateOne({ _id: inv.id, uses: { $gt: 0 } }, { $inc: { uses: -1 } });
        if (isDuplicateKey(err)) throw alreadyShared();
        throw err;
      }
      return share;
    });
  }

  listShares(deploymentId: string): Promise<Share[]> {
    return this.op('listShares', async () =>
      (await this.c.shares.find({ deploymentId }).sort({ createdAt: 1, _id: 1 }).toArray()).map((d) => fromDoc<Share>(d)),
    );
  }

  listSharedWithTenant(tenantId: string): Promise<SharedDeployment[]> {
    return this.op('listSharedWithTenant', async () => {
      const shares = (await this.c.shares.find({ tenantId }).toArray()).map((d) => fromDoc<Share>(d));
      if (shares.length === 0) return [];
      const ids = [...new Set(shares.map((s) => s.deploymentId))];
      const deps = new Map(
        (await this.c.deployments.find({ _id: { $in: ids } }).toArray()).map((d) => [d._id, fromDoc<Deployment>(d)] as const),
      );
      const out: SharedDeployment[] = [];
      for (const share of shares) {
        const deployment = deps.get(share.deploymentId);
        if (deployment) out.push({ share, deployment });
      }
      return out.sort(compareShares);
    });
  }

  revokeShare(id: string): Promise<Share | null> {
    return this.op('revokeShare', async () => orNull<Share>(await this.c.shares.findOneAndDelete({ _id: id })));
  }

  // ---- dashboard sessions ----

  async revokeSession(input: { sessionId: string; tenantId: string; expiresAt: string }): Promise<void> {
    const r = parseInput(sessionRevocationSchema, input, 'session');
    if (Date.parse(r.expiresAt) <= this.clock().getTime()) return;
    await this.op('revokeSession', () =>
      this.c.revokedSessions.updateOne(
        { _id: r.sessionId },
        { $max: { expiresAt: new Date(r.expiresAt) }, $setOnInsert: { tenantId: r.tenantId } },
        { upsert: true },
      ),
    );
  }

  async isSessionRevoked(sessionId: string): Promise<boolean> {
    const id = parseInput(sessionIdSchema, sessionId, 'sessionId');
    return this.op('isSessionRevoked', async () =>
      (await this.c.revokedSessions.findOne({ _id: id, expiresAt: { $gt: this.clock() } }, { projection: { _id: 1 } })) !== null,
    );
  }

  // ---- usage ----

  /**
   * Inserts the raw records (unordered: duplicates of records already stored fail alone), then adds the ones
   * inserted now to their hourly rollups with `$inc` upserts. A crash between the two steps leaves that
   * batch's new records out of the rollups (their retry is then a duplicate): at most one batch per crash.
   */
  recordUsage(records: UsageRecord[]): Promise<void> {
    return this.op('recordUsage', async () => {
      const batch = parseUsageBatch(records);
      if (batch.length === 0) return;
      const docs: UsageDoc[] = batch.map(({ id, at, aliasId, ...rest }) => ({ _id: id, at: new Date(at), aliasId: aliasId ?? null, ...rest }));
      let inserted = batch;
      let failure: unknown;
      try {
        await this.c.usage.insertMany(docs, { ordered: false });
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw err;
        const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        inserted = insertedIndices(batch.length, writeErrors).map((i) => batch[i]!);
        // Duplicates are retries of records already counted; anything else fails the call once the
        // records that did go in are counted.
        if (!isDuplicateKey(err)) failure = err;
      }
      const updates = rollupUpdates(rollUp(inserted));
      if (updates.length) await this.c.usageHourly.bulkWrite(updates, { ordered: false });
      if (failure) throw failure;
    });
  }

  queryUsage(query: UsageQuery): Promise<UsageReport> {
    return this.op('queryUsage', async () => {
      const q = toHourlyQuery(parseInput(usageQuerySchema, query, 'query'), retentionCutoff(this.clock().getTime(), this.retention.rollupMs));
      const acc = new BucketAccumulator(q);
      for (const row of await this.c.usageHourly.aggregate(rollupQueryPipeline(q)).toArray()) {
        acc.add((row._id as Date).getTime(), totalsFromRow(row));
      }
      return acc.report();
    });
  }

  listUsageRecords(query: UsageRecordQuery): Promise<UsageRecord[]> {
    return this.op('listUsageRecords', async () => {
      const q = parseInput(usageRecordQuerySchema, query, 'query');
      // By the `at` (TTL) index: the range bounds the scan.
      const docs = await this.c.usage
        .find({ at: { $gte: new Date(q.from), $lt: new Date(q.to) }, tenantId: q.tenantId })
        .sort({ at: -1, _id: -1 })
        .limit(q.limit)
        .toArray();
      return docs.map(({ _id, at, aliasId, ...rest }) => ({ id: _id, at: at.toISOString(), ...rest, aliasId: aliasId ?? null }));
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

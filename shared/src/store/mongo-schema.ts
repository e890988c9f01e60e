import type { Collection, Db, IndexDescription } from 'mongodb';
import { StoreUnavailableError } from './errors.js';
import type { Alias, ApiKey, Deployment, Invite, Share, Tenant, TunnelToken } from './types.js';
import type { UsageRetention } from './retention.js';
import { rollupBackfillPipeline, ttlChanges, usageIndexes, type UsageDoc, type UsageHourlyDoc } from './mongo-usage.js';

/**
 * The MongoDB layout: one collection per record kind, `_id` = our string id, timestamps as ISO strings (they
 * sort as time) except usage `at` and rollup `hour`, BSON dates for the TTL indexes (mongo-usage.ts). Secrets
 * appear only as sha256 hashes.
 */

/** A record as stored: `id` becomes `_id`. */
export type Doc<T extends { id: string }> = Omit<T, 'id'> & { _id: string };
export type { UsageDoc, UsageHourlyDoc };
/** A dashboard session revoked before its cookie expires; the TTL index deletes it at `expiresAt`. */
export interface RevokedSessionDoc {
  _id: string;
  tenantId: string;
  expiresAt: Date;
}
export interface MetaDoc {
  _id: string;
  version: number;
  updatedAt: string;
}

export interface Collections {
  tenants: Collection<Doc<Tenant>>;
  apiKeys: Collection<Doc<ApiKey>>;
  deployments: Collection<Doc<Deployment>>;
  tunnelTokens: Collection<Doc<TunnelToken>>;
  invites: Collection<Doc<Invite>>;
  shares: Collection<Doc<Share>>;
  aliases: Collection<Doc<Alias>>;
  usage: Collection<UsageDoc>;
  usageHourly: Collection<UsageHourlyDoc>;
  revokedSessions: Collection<RevokedSessionDoc>;
  meta: Collection<MetaDoc>;
}

export const COLLECTION_NAMES = ['tenants', 'apiKeys', 'deployments', 'tunnelTokens', 'invites', 'shares', 'aliases', 'usage', 'usageHourly', 'revokedSessions', 'meta'] as const;

export function collections(db: Db): Collections {
  return {
    tenants: db.collection('tenants'),
    apiKeys: db.collection('apiKeys'),
    deployments: db.collection('deployments'),
    tunnelTokens: db.collection('tunnelTokens'),
    invites: db.collection('invites'),
    shares: db.collection('shares'),
    aliases: db.collection('aliases'),
    usage: db.collection('usage'),
    usageHourly: db.collection('usageHourly'),
    revokedSessions: db.collection('revokedSessions'),
    meta: db.collection('meta'),
  };
}

type IndexedCollection = Exclude<(typeof COLLECTION_NAMES)[number], 'meta' | 'usage' | 'usageHourly'>;

/** Uniqueness the store relies on (a duplicate insert fails with 11000 -> StoreConflictError) and query paths. */
export const INDEXES: Record<IndexedCollection, IndexDescription[]> = {
  tenants: [{ key: { 'console.hash': 1 }, name: 'console_hash_unique', unique: true, sparse: true }],
  apiKeys: [
    { key: { hash: 1 }, name: 'hash_unique', unique: true },
    { key: { tenantId: 1 }, name: 'tenant' },
  ],
  deployments: [{ key: { tenantId: 1, name: 1 }, name: 'tenant_name_unique', unique: true }],
  tunnelTokens: [
    { key: { hash: 1 }, name: 'hash_unique', unique: true },
    { key: { deploymentId: 1 }, name: 'deployment' },
  ],
  invites: [
    { key: { hash: 1 }, name: 'hash_unique', unique: true },
    { key: { deploymentId: 1 }, name: 'deployment' },
  ],
  shares: [
    { key: { deploymentId: 1, tenantId: 1 }, name: 'deployment_tenant_unique', unique: true },
    { key: { tenantId: 1, createdAt: 1 }, name: 'tenant_created' },
  ],
  aliases: [{ key: { tenantId: 1, name: 1 }, name: 'tenant_name_unique', unique: true }],
  // Gone at the cookie's own expiry (MongoDB's TTL monitor runs about once a minute; reads check the time too).
  revokedSessions: [{ key: { expiresAt: 1 }, name: 'expires_ttl', expireAfterSeconds: 0 }],
};

/** Every collection's indexes, the usage TTLs following the retention. */
export const allIndexes = (retention: UsageRetention): Record<Exclude<(typeof COLLECTION_NAMES)[number], 'meta'>, IndexDescription[]> => ({
  ...INDEXES,
  ...usageIndexes(retention),
});

export interface Migration {
  /** The schema version this migration produces. */
  version: number;
  description: string;
  up(db: Db): Promise<void>;
}

/**
 * Ordered schema migrations; each runs once, when the `meta` record says the database is older. Indexes are
 * (re)created idempotently before migrations run, so a migration only moves data.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'initial layout (indexes only)', up: async () => undefined },
  {
    version: 2,
    description: 'hourly usage rollups from the raw records; raw records are no longer queried',
    up: async (db) => {
      await db.collection('usage').aggregate(rollupBackfillPipeline()).toArray();
      await db.collection('usage').dropIndex('tenant_at').catch(() => undefined);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
export const SCHEMA_META_ID = 'schema';

/**
 * Creates the indexes (a TTL changed by a new retention is changed in place) and brings the schema up to
 * SCHEMA_VERSION; refuses a database from a newer build.
 */
export async function ensureSchema(db: Db, c: Collections, now: () => string, retention: UsageRetention): Promise<number> {
  const meta = await c.meta.findOne({ _id: SCHEMA_META_ID });
  const current = meta?.version ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new StoreUnavailableError(
      `MongoDB database ${db.databaseName} has schema version ${current}, newer than this build understands (${SCHEMA_VERSION})`,
    );
  }
  for (const [name, specs] of Object.entries(allIndexes(retention))) {
    const coll = db.collection(name);
    const existing = await coll.listIndexes().toArray().catch(() => []);
    for (const change of ttlChanges(existing, specs)) {
      await db.command({ collMod: name, index: { name: change.name, expireAfterSeconds: change.expireAfterSeconds } });
    }
    await coll.createIndexes(specs);
  }
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    await m.up(db);
    await c.meta.updateOne({ _id: SCHEMA_META_ID }, { $set: { version: m.version, updatedAt: now() } }, { upsert: true });
  }
  return Math.max(current, SCHEMA_VERSION);
}

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { MongoClient, MongoNetworkError, MongoServerError } from 'mongodb';
import { MongoStore, resolveMongoDbName } from '../../src/store/mongo-store.js';
import { mapMongoError } from '../../src/store/mongo-errors.js';
import { INDEXES, MIGRATIONS, SCHEMA_VERSION, allIndexes } from '../../src/store/mongo-schema.js';
import {
  insertedIndices, rollupBackfillPipeline, rollupQueryPipeline, rollupUpdates, totalsFromRow, ttlChanges, usageIndexes,
} from '../../src/store/mongo-usage.js';
import { DEFAULT_USAGE_RETENTION } from '../../src/store/retention.js';
import { rollUp, toHourlyQuery, USAGE_COUNTERS } from '../../src/store/usage.js';
import type { UsageRecord } from '../../src/store/types.js';
import { parseMongoUrl } from '../../src/store/mongo-url.js';
import { storeEnvSchema } from '../../src/store/open-store.js';
import { parseEnv } from '../../src/config/index.js';
import { runStoreContract } from './contract.js';

// ---- without a server ----

t.test('MongoDB URL: database name and redaction', async (t) => {
  t.equal(resolveMongoDbName('mongodb://h:27017'), 'tokios', 'default');
  t.equal(resolveMongoDbName('mongodb://h:27017/'), 'tokios', 'empty path');
  t.equal(resolveMongoDbName('mongodb://u:p@h1:1,h2:2/prod?replicaSet=rs0'), 'prod', 'from the path, several hosts');
  t.equal(resolveMongoDbName('mongodb+srv://cluster.example.net/app%2Dx'), 'app-x', 'percent-decoded');
  t.equal(resolveMongoDbName('mongodb://h/admin?authSource=admin', 'tokios_prod'), 'tokios_prod', 'explicit name wins');
  t.equal(resolveMongoDbName('mongodb://h?tls=true'), 'tokios', 'options without a path');
  t.throws(() => resolveMongoDbName('postgres://h/db'), { name: 'StoreValidationError' });
  t.throws(() => resolveMongoDbName('mongodb:///db'), { name: 'StoreValidationError' }, 'no host');
  t.throws(() => resolveMongoDbName('mongodb://h/a.b'), { name: 'StoreValidationError' }, 'dots are not allowed');
  t.throws(() => resolveMongoDbName('mongodb://h', 'x'.repeat(64)), { name: 'StoreValidationError' });
  const parts = parseMongoUrl('mongodb://admin:hunter2@db1:27017,db2:27017/tokios?authSource=admin');
  t.same(parts, { scheme: 'mongodb://', hosts: 'db1:27017,db2:27017', dbName: 'tokios', redacted: 'mongodb://db1:27017,db2:27017' });
  t.equal(parseMongoUrl('mongodb://user:p%40ss@h/x')?.redacted, 'mongodb://h', 'an encoded @ in the password');
});

t.test('storeEnvSchema: validation and defaults', async (t) => {
  const day = 86_400_000;
  t.same(parseEnv(storeEnvSchema, {}), {
    TOKIOS_DATA_DIR: '.tokios', TOKIOS_MONGODB_TIMEOUT_MS: 2000, TOKIOS_USAGE_RETENTION: 30 * day, TOKIOS_USAGE_ROLLUP_RETENTION: 400 * day,
  });
  const env = parseEnv(storeEnvSchema, {
    MONGODB_URL: 'mongodb://h/x', TOKIOS_MONGODB_DB: 'y', TOKIOS_MONGODB_TIMEOUT_MS: '500', TOKIOS_DATA_DIR: '/d',
    TOKIOS_USAGE_RETENTION: '36h', TOKIOS_USAGE_ROLLUP_RETENTION: '3660d',
  });
  t.same(env, {
    MONGODB_URL: 'mongodb://h/x', TOKIOS_MONGODB_DB: 'y', TOKIOS_MONGODB_TIMEOUT_MS: 500, TOKIOS_DATA_DIR: '/d',
    TOKIOS_USAGE_RETENTION: 36 * 3_600_000, TOKIOS_USAGE_ROLLUP_RETENTION: 3660 * day,
  });
  for (const bad of ['30', '5m', '0h', '3661d', '1.5d', 'forever']) {
    t.throws(() => parseEnv(storeEnvSchema, { TOKIOS_USAGE_RETENTION: bad }), { name: 'ConfigError', message: /TOKIOS_USAGE_RETENTION/ }, bad);
  }
  t.throws(
    () => parseEnv(storeEnvSchema, { TOKIOS_USAGE_RETENTION: '60d', TOKIOS_USAGE_ROLLUP_RETENTION: '30d' }),
    { name: 'ConfigError', message: /TOKIOS_USAGE_ROLLUP_RETENTION: must be at least TOKIOS_USAGE_RETENTION/ },
  );
  t.throws(() => parseEnv(storeEnvSchema, { MONGODB_URL: 'http://h' }), { name: 'ConfigError', message: /MONGODB_URL/ });
  t.throws(() => parseEnv(storeEnvSchema, { TOKIOS_MONGODB_DB: 'a/b' }), { name: 'ConfigError', message: /TOKIOS_MONGODB_DB/ });
  t.throws(() => parseEnv(storeEnvSchema, { TOKIOS_MONGODB_TIMEOUT_MS: '5' }), { name: 'ConfigError', message: /TOKIOS_MONGODB_TIMEOUT_MS/ });
});

t.test('index specs enforce the store’s uniqueness rules', async (t) => {
  const unique = Object.entries(allIndexes(DEFAULT_USAGE_RETENTION)).flatMap(([coll, specs]) =>
    specs.filter((s) => s.unique).map((s) => `${coll}:${Object.keys(s.key).join('+')}`),
  );
  t.same(unique.sort(), [
    'aliases:tenantId+name', 'apiKeys:hash', 'deployments:tenantId+name', 'invites:hash', 'shares:deploymentId+tenantId',
    'tenants:console.hash', 'tunnelTokens:hash', 'usageHourly:tenantId+hour+deploymentId+keyId',
  ]);
  t.ok(INDEXES.tenants.find((s) => s.name === 'console_hash_unique')?.sparse, 'tenants without a console secret do not clash');
  t.same(INDEXES.revokedSessions, [{ key: { expiresAt: 1 }, name: 'expires_ttl', expireAfterSeconds: 0 }], 'revoked sessions expire with their cookie');
  t.ok(SCHEMA_VERSION >= 2);
  t.same(MIGRATIONS.map((m) => m.version), [1, 2]);
});

t.test('usage indexes: TTLs follow the retention; a changed retention is applied in place', async (t) => {
  const specs = usageIndexes({ rawMs: 30 * 86_400_000, rollupMs: 400 * 86_400_000 });
  t.same(specs.usage, [{ key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: 30 * 86_400 }], 'raw records expire by their time');
  t.same(specs.usageHourly.find((s) => s.name === 'hour_ttl'), { key: { hour: 1 }, name: 'hour_ttl', expireAfterSeconds: 400 * 86_400 });
  t.notOk(specs.usage.some((s) => 'tenantId' in s.key), 'no index to query raw records by: queries read rollups');
  const existing = [{ name: '_id_', key: { _id: 1 } }, { name: 'at_ttl', key: { at: 1 }, expireAfterSeconds: 7 * 86_400 }];
  t.same(ttlChanges(existing, specs.usage), [{ name: 'at_ttl', expireAfterSeconds: 30 * 86_400 }]);
  t.same(ttlChanges([{ name: 'at_ttl', expireAfterSeconds: 30 * 86_400 }], specs.usage), [], 'unchanged: nothing to do');
  t.same(ttlChanges([], specs.usageHourly), [], 'new indexes are simply created');
});

t.test('usage rollups: one $inc upsert per hour × tenant × deployment × key, only for records inserted now', async (t) => {
  const hour = Date.parse('2026-12-01T10:00:00.000Z');
  const r = (id: string, atMs: number, over: Partial<UsageRecord> = {}): UsageRecord => ({
    id, at: new Date(atMs).toISOString(), tenantId: 'ten_a', keyId: 'key_1', deploymentId: 'dep_1', connectorId: 'c',
    protocol: 'openai.chat', stream: true, status: 200, inputTokens: 2, outputTokens: 3, ttftMs: 40, durationMs: 100, ...over,
  });
  const batch = [
    r('a', hour + 1), r('b', hour + 59 * 60_000, { status: 429, ttftMs: null }), r('c', hour + 3_600_000, { status: 502 }),
    r('d', hour + 5, { keyId: 'key_2' }),
  ];
  t.same(insertedIndices(4, [{ index: 1 }]), [0, 2, 3], 'the write errors of an unordered insert name the records not inserted');
  const ops = rollupUpdates(rollUp(insertedIndices(4, [{ index: 1 }]).map((i) => batch[i]!)));
  t.equal(ops.length, 3);
  t.same(ops[0], {
    updateOne: {
      filter: { tenantId: 'ten_a', hour: new Date(hour), deploymentId: 'dep_1', keyId: 'key_1' },
      update: { $inc: { requests: 1, inputTokens: 2, outputTokens: 3, errors: 0, clientErrors: 0, serverErrors: 0, durationMsSum: 100, ttftMsSum: 40, ttftCount: 1 } },
      upsert: true,
    },
  });
  t.match(ops[1], { updateOne: { filter: { hour: new Date(hour + 3_600_000) }, update: { $inc: { requests: 1, errors: 1, serverErrors: 1 } } } });
  t.match(ops[2], { updateOne: { filter: { keyId: 'key_2' } } });
  const both = rollupUpdates(rollUp(batch.slice(0, 2)));
  t.match(both, [{ updateOne: { update: { $inc: { requests: 2, errors: 1, clientErrors: 1, ttftMsSum: 40, ttftCount: 1, durationMsSum: 200 } } } }], 'a batch adds up per rollup');
  t.same(totalsFromRow({ _id: new Date(hour), requests: 2, inputTokens: 4 }), { requests: 2, inputTokens: 4, outputTokens: 0, errors: 0, clientErrors: 0, serverErrors: 0, durationMsSum: 0, ttftMsSum: 0, ttftCount: 0 });
});

t.test('usage queries read rollups only, from the retention edge on; the backfill recomputes them from raw records', async (t) => {
  const from = '2026-12-01T10:20:00.000Z';
  const q = toHourlyQuery({ tenantId: 'ten_a', from, to: '2026-12-01T13:10:00.000Z', bucketMs: 3_600_000, keyId: 'key_1' }, Date.parse('2026-12-01T11:30:00.000Z'));
  const [match, group] = rollupQueryPipeline(q);
  t.same(match, { $match: { tenantId: 'ten_a', hour: { $gte: new Date('2026-12-01T12:00:00.000Z'), $lt: new Date('2026-12-01T14:00:00.000Z') }, keyId: 'key_1' } }, 'widened to hours; hours past the retention are not read');
  t.same(Object.keys(group!.$group).sort(), ['_id', ...USAGE_COUNTERS].sort());
  const pipeline = rollupBackfillPipeline();
  t.same(pipeline.map((s) => Object.keys(s)[0]), ['$group', '$project', '$merge']);
  t.match(pipeline[2], { $merge: { into: 'usageHourly', on: ['tenantId', 'hour', 'deploymentId', 'keyId'], whenNotMatched: 'insert' } });
  t.same(Object.keys(pipeline[0]!.$group).filter((k) => k !== '_id').sort(), [...USAGE_COUNTERS].sort(), 'every counter is recomputed');
});

t.test('driver errors map to store errors without leaking values', async (t) => {
  const dup = new MongoServerError({ message: 'E11000 duplicate key error dup key: { hash: "abc123" }', code: 11000, keyPattern: { hash: 1 }, keyValue: { hash: 'abc123' } });
  const c = mapMongoError(dup, 'mongodb://h', 'createApiKey') as Error;
  t.equal(c.name, 'StoreConflictError');
  t.equal(c.message, 'createApiKey: duplicate hash');
  t.equal(c.cause, dup);
  const net = mapMongoError(new MongoNetworkError('connection reset'), 'mongodb://h:1', 'getTenant') as Error;
  t.equal(net.name, 'StoreUnavailableError');
  t.match(net.message, /getTenant: MongoDB at mongodb:\/\/h:1 is unreachable/);
  const auth = mapMongoError(new MongoServerError({ message: 'auth failed', code: 18, codeName: 'AuthenticationFailed' }), 'mongodb://h', 'open') as Error;
  t.equal(auth.name, 'StoreUnavailableError');
  t.match(auth.message, /AuthenticationFailed/);
  const other = new MongoServerError({ message: 'bad query', code: 2 });
  t.equal(mapMongoError(other, 'mongodb://h', 'x'), other, 'anything else passes through');
  const plain = new Error('mine');
  t.equal(mapMongoError(plain, 'mongodb://h', 'x'), plain);
});

t.test('an unreachable server fails fast with StoreUnavailableError and no credentials', async (t) => {
  const started = Date.now();
  const err = await MongoStore.open({ url: 'mongodb://admin:hunter2@127.0.0.1:9/tokios', serverSelectionTimeoutMS: 300 }).then(
    () => null,
    (e: Error) => e,
  );
  t.equal(err?.name, 'StoreUnavailableError');
  t.match(err?.message, /open: MongoDB at mongodb:\/\/127\.0\.0\.1:9 is unreachable/);
  t.notMatch(err?.message, /hunter2/);
  t.ok(Date.now() - started < 5_000, 'within a few seconds');
});

// ---- against a server ----

const url = process.env.MONGODB_URL;
if (!url) {
  t.comment('SKIP MongoDB store contract: MONGODB_URL is not set');
  t.skip('MongoDB store contract: MONGODB_URL is not set', () => undefined);
} else {
  const admin = new MongoClient(url, { serverSelectionTimeoutMS: 2_000 });
  t.teardown(() => admin.close());

  await runStoreContract(t, 'MongoStore', async (clock) => {
    const dbName = `tokios_test_${randomBytes(6).toString('hex')}`;
    const store = await MongoStore.open({ url, dbName, clock });
    const db = admin.db(dbName);
    return {
      store,
      prune: async () => undefined, // TTL indexes (real time); queries already leave out hours past the retention
      dumpRaw: async () => {
        const out: string[] = [];
        for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
          out.push(name, JSON.stringify(await db.collection(name).find({}).toArray()));
        }
        return out.join('\n');
      },
      close: async () => {
        await store.close();
        await db.dropDatabase();
      },
    };
  });

  await t.test('MongoStore: schema version recorded; a newer database is refused', async (t) => {
    const dbName = `tokios_test_${randomBytes(6).toString('hex')}`;
    const db = admin.db(dbName);
    t.teardown(() => db.dropDatabase());
    const store = await MongoStore.open({ url, dbName });
    await store.close();
    const meta = await db.collection<{ _id: string; version: number }>('meta').findOne({ _id: 'schema' });
    t.equal(meta?.version, SCHEMA_VERSION);
    const names = (await db.collection('deployments').listIndexes().toArray()).map((i) => i.name);
    t.ok(names.includes('tenant_name_unique'));
    const again = await MongoStore.open({ url, dbName });
    await again.close();
    await db.collection<{ _id: string; version: number }>('meta').updateOne({ _id: 'schema' }, { $set: { version: SCHEMA_VERSION + 1 } });
    await t.rejects(MongoStore.open({ url, dbName }), { name: 'StoreUnavailableError', message: /newer than this build/ });
  });
}

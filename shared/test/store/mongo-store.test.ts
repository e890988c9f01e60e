import t from 'tap';
import { randomBytes } from 'node:crypto';
import { MongoClient, MongoNetworkError, MongoServerError } from 'mongodb';
import { MongoStore, resolveMongoDbName } from '../../src/store/mongo-store.js';
import { mapMongoError } from '../../src/store/mongo-errors.js';
import { INDEXES, SCHEMA_VERSION } from '../../src/store/mongo-schema.js';
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
  t.same(parseEnv(storeEnvSchema, {}), { TOKIOS_DATA_DIR: '.tokios', TOKIOS_MONGODB_TIMEOUT_MS: 2000 });
  const env = parseEnv(storeEnvSchema, {
    MONGODB_URL: 'mongodb://h/x', TOKIOS_MONGODB_DB: 'y', TOKIOS_MONGODB_TIMEOUT_MS: '500', TOKIOS_DATA_DIR: '/d',
  });
  t.same(env, { MONGODB_URL: 'mongodb://h/x', TOKIOS_MONGODB_DB: 'y', TOKIOS_MONGODB_TIMEOUT_MS: 500, TOKIOS_DATA_DIR: '/d' });
  t.throws(() => parseEnv(storeEnvSchema, { MONGODB_URL: 'http://h' }), { name: 'ConfigError', message: /MONGODB_URL/ });
  t.throws(() => parseEnv(storeEnvSchema, { TOKIOS_MONGODB_DB: 'a/b' }), { name: 'ConfigError', message: /TOKIOS_MONGODB_DB/ });
  t.throws(() => parseEnv(storeEnvSchema, { TOKIOS_MONGODB_TIMEOUT_MS: '5' }), { name: 'ConfigError', message: /TOKIOS_MONGODB_TIMEOUT_MS/ });
});

t.test('index specs enforce the store’s uniqueness rules', async (t) => {
  const unique = Object.entries(INDEXES).flatMap(([coll, specs]) =>
    specs.filter((s) => s.unique).map((s) => `${coll}:${Object.keys(s.key).join('+')}`),
  );
  t.same(unique.sort(), [
    'apiKeys:hash', 'deployments:tenantId+name', 'invites:hash', 'shares:deploymentId+tenantId',
    'tenants:console.hash', 'tunnelTokens:hash',
  ]);
  t.ok(INDEXES.tenants.find((s) => s.name === 'console_hash_unique')?.sparse, 'tenants without a console secret do not clash');
  t.ok(INDEXES.usage.some((s) => JSON.stringify(s.key) === JSON.stringify({ tenantId: 1, at: 1 })), 'usage by tenant and time');
  t.ok(SCHEMA_VERSION >= 1);
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

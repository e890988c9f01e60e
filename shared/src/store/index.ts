export * from './types.js';
export * from './errors.js';
export * from './store.js';
export * from './secrets.js';
export { keyLimitsSchema, usageRecordSchema, usageQuerySchema, MAX_USAGE_BATCH, MAX_USAGE_BUCKETS, MAX_INVITE_USES } from './inputs.js';
export { FileStore, type FileStoreOptions } from './file-store.js';
export { MongoStore, resolveMongoDbName, DEFAULT_MONGODB_DB, type MongoStoreOptions } from './mongo-store.js';
export { openStore, storeEnvSchema, type StoreEnv } from './open-store.js';

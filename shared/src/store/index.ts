export * from './types.js';
export * from './errors.js';
export * from './store.js';
export * from './secrets.js';
export { FileStore } from './file-store.js';
export { openStore, storeEnvSchema, type StoreEnv } from './open-store.js';

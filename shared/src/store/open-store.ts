import { z } from 'zod';
import { envInt } from '../config/index.js';
import type { Store } from './store.js';
import { FileStore } from './file-store.js';
import { DEFAULT_SERVER_SELECTION_TIMEOUT_MS, MongoStore } from './mongo-store.js';
import { mongoDbNameSchema, parseMongoUrl } from './mongo-url.js';

/**
 * Store selection, from the environment (parse with `parseEnv(storeEnvSchema)` from ../config):
 *
 *   MONGODB_URL                 mongodb:// or mongodb+srv:// connection string. When set, the store is MongoDB;
 *                               when unset, the embedded file store. May carry credentials; only the host list
 *                               is ever shown in messages.
 *   TOKIOS_MONGODB_DB           MongoDB database name. Default: the database in MONGODB_URL's path, else `tokios`.
 *                               (Set it when the URL path names an auth database such as `admin`.)
 *   TOKIOS_MONGODB_TIMEOUT_MS   How long an operation waits for a reachable MongoDB server before failing with
 *                               StoreUnavailableError (driver serverSelectionTimeoutMS). Default 2000.
 *   TOKIOS_DATA_DIR             Directory of the embedded file store (store.json, usage.jsonl, lock files).
 *                               Default `.tokios`. Ignored when MONGODB_URL is set.
 */
export const storeEnvSchema = z.object({
  MONGODB_URL: z
    .string()
    .refine((v) => parseMongoUrl(v) !== null, 'must be a mongodb:// or mongodb+srv:// URL naming a host')
    .optional(),
  TOKIOS_MONGODB_DB: mongoDbNameSchema.optional(),
  TOKIOS_MONGODB_TIMEOUT_MS: envInt(DEFAULT_SERVER_SELECTION_TIMEOUT_MS, 100, 120_000),
  TOKIOS_DATA_DIR: z.string().default('.tokios'),
});
export type StoreEnv = z.infer<typeof storeEnvSchema>;

/** Opens the store the environment names: MongoDB when MONGODB_URL is set, else the embedded file store. */
export async function openStore(env: StoreEnv): Promise<Store> {
  if (env.MONGODB_URL) {
    return MongoStore.open({
      url: env.MONGODB_URL,
      ...(env.TOKIOS_MONGODB_DB ? { dbName: env.TOKIOS_MONGODB_DB } : {}),
      serverSelectionTimeoutMS: env.TOKIOS_MONGODB_TIMEOUT_MS,
    });
  }
  return FileStore.open(env.TOKIOS_DATA_DIR);
}

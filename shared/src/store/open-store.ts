import { z } from 'zod';
import { envInt } from '../config/index.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite-store.js';
import { retentionIsOrdered, retentionSchema, DEFAULT_USAGE_RETENTION } from './retention.js';
import type { StoreLog } from './legacy-import.js';
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
 *   TOKIOS_DATA_DIR             Directory of the embedded store (SQLite database `tokios.db` and its -wal/-shm
 *                               files). Default `.tokios`. Ignored when MONGODB_URL is set.
 *   TOKIOS_USAGE_RETENTION      How long raw usage records are kept (`30d`, `36h`; 1h–3660d). Default 30d.
 *   TOKIOS_USAGE_ROLLUP_RETENTION  How long hourly usage rollups (what usage queries read) are kept; at least
 *                               TOKIOS_USAGE_RETENTION. Default 400d.
 */
export const storeEnvSchema = z.object({
  MONGODB_URL: z
    .string()
    .refine((v) => parseMongoUrl(v) !== null, 'must be a mongodb:// or mongodb+srv:// URL naming a host')
    .optional(),
  TOKIOS_MONGODB_DB: mongoDbNameSchema.optional(),
  TOKIOS_MONGODB_TIMEOUT_MS: envInt(DEFAULT_SERVER_SELECTION_TIMEOUT_MS, 100, 120_000),
  TOKIOS_DATA_DIR: z.string().default('.tokios'),
  TOKIOS_USAGE_RETENTION: retentionSchema.default(DEFAULT_USAGE_RETENTION.rawMs),
  TOKIOS_USAGE_ROLLUP_RETENTION: retentionSchema.default(DEFAULT_USAGE_RETENTION.rollupMs),
}).refine((e) => retentionIsOrdered({ rawMs: e.TOKIOS_USAGE_RETENTION, rollupMs: e.TOKIOS_USAGE_ROLLUP_RETENTION }), {
  message: 'must be at least TOKIOS_USAGE_RETENTION (rollups summarise the raw records)',
  path: ['TOKIOS_USAGE_ROLLUP_RETENTION'],
});
export type StoreEnv = z.infer<typeof storeEnvSchema>;

export interface OpenStoreOptions {
  /** Embedded store: create the data dir and database when missing (default true); else NoStoreError. */
  create?: boolean;
  /** Where the store logs long work (the one-time import of an old JSON store, prunes that fail). */
  log?: StoreLog;
}

/** Opens the store the environment names: MongoDB when MONGODB_URL is set, else the embedded SQLite store. */
export async function openStore(env: StoreEnv, options: OpenStoreOptions = {}): Promise<Store> {
  const retention = { rawMs: env.TOKIOS_USAGE_RETENTION, rollupMs: env.TOKIOS_USAGE_ROLLUP_RETENTION };
  if (env.MONGODB_URL) {
    return MongoStore.open({
      url: env.MONGODB_URL,
      ...(env.TOKIOS_MONGODB_DB ? { dbName: env.TOKIOS_MONGODB_DB } : {}),
      serverSelectionTimeoutMS: env.TOKIOS_MONGODB_TIMEOUT_MS,
      retention,
    });
  }
  return SqliteStore.open(env.TOKIOS_DATA_DIR, {
    retention,
    ...(options.create !== undefined ? { create: options.create } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
}

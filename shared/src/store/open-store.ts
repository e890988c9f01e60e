import { z } from 'zod';
import type { Store } from './store.js';
import { FileStore } from './file-store.js';

export const storeEnvSchema = z.object({
  /** Directory of the embedded store (default ./.tokios). */
  TOKIOS_DATA_DIR: z.string().default('.tokios'),
});
export type StoreEnv = z.infer<typeof storeEnvSchema>;

/** Opens the store the environment names: the embedded file store unless a database is configured. */
export async function openStore(env: StoreEnv): Promise<Store> {
  return FileStore.open(env.TOKIOS_DATA_DIR);
}

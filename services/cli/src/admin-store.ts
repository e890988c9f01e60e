import { resolve } from 'node:path';
import { NoStoreError, SqliteStore, openStore, type Store, type StoreEnv } from '@tokios/shared/store';

/**
 * The local store of `tokios admin`. Run from the wrong folder, the default data dir (`./.tokios`) is not the
 * stack's, and a silently created empty store would make every later command look like data was lost. So:
 * only `tenant create` (the first step of a new setup) may create the embedded store; any other command
 * refuses when the data dir holds none, naming TOKIOS_DATA_DIR. Either way the store used is named on stderr.
 */

/** The one command that may start a new embedded store. */
export const CREATES_STORE = 'tenant create';

export class AdminStoreError extends Error {
  override readonly name = 'AdminStoreError';
}

export async function openAdminStore(
  storeEnv: StoreEnv,
  rawEnv: NodeJS.ProcessEnv,
  cmd: string,
  err: { write(text: string): unknown },
): Promise<Store> {
  let store: Store;
  try {
    store = await openStore(storeEnv, { create: cmd === CREATES_STORE });
  } catch (e) {
    if (e instanceof NoStoreError) return missingStore(new AdminStoreError(noStoreMessage(e.dir, rawEnv.TOKIOS_DATA_DIR)));
    throw e;
  }
  const fresh = store instanceof SqliteStore && store.created;
  err.write(`store: ${store.describe()}${fresh ? ' (new, empty: created now)' : ''}\n`);
  return store;
}

/**
 * Stands in for a store that is not there: every operation fails with `err`. So a command's own usage errors
 * (a missing --tenant…) still come first, and the missing store is reported when the command needs it.
 */
function missingStore(err: AdminStoreError): Store {
  const fail = async (): Promise<never> => {
    throw err;
  };
  const own: Record<string | symbol, unknown> = { kind: 'none', describe: () => 'none', close: async () => undefined, then: undefined };
  return new Proxy({} as Store, { get: (_, prop) => (prop in own ? own[prop] : fail) });
}

export function noStoreMessage(dir: string, given: string | undefined): string {
  const where = given ? `TOKIOS_DATA_DIR=${given}` : `TOKIOS_DATA_DIR is not set, so ./.tokios in ${resolve('.')}`;
  return [
    `no Tokios store in ${dir} (${where}).`,
    '  Run tokios admin in the folder where tokios dev runs, or set TOKIOS_DATA_DIR to the data dir of your stack',
    '  (or MONGODB_URL for a MongoDB store). To start a new store here: tokios admin tenant create --name NAME',
  ].join('\n');
}

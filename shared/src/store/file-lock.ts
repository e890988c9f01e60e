import { open, stat, unlink } from 'node:fs/promises';
import { StoreUnavailableError } from './errors.js';

/** A lock between processes on one machine: a file created exclusively, removed when done. */

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 10_000;

export async function withFileLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const fh = await open(lockFile, 'wx');
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A holder that died leaves the file behind; after LOCK_STALE_MS it is taken over.
      const st = await stat(lockFile).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await unlink(lockFile).catch(() => undefined);
      if (Date.now() - started > LOCK_WAIT_MS) throw new StoreUnavailableError(`could not lock ${lockFile}`);
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

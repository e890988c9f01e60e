import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreConflictError, StoreUnavailableError } from './errors.js';

/**
 * Running SQLite work for the embedded store. better-sqlite3 is synchronous, so a lock held by another
 * process is waited for here, asynchronously (short sleeps with jitter between attempts), instead of inside
 * SQLite where the wait would block the event loop. Past `waitMs` the operation fails with
 * StoreUnavailableError; other SQLite failures are translated too (messages name the file, never values).
 */

export const DEFAULT_LOCK_WAIT_MS = 5_000;

const UNAVAILABLE = /^SQLITE_(IOERR|CORRUPT|NOTADB|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM|PERM|AUTH)/;

const isBusy = (err: unknown): boolean =>
  err instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(err.code);

export const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Database.SqliteError && (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');

/** The store error for a SQLite error, or the error unchanged. */
export function mapSqliteError(err: unknown, file: string, what: string): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (isUniqueViolation(err)) return new StoreConflictError(`${what}: duplicate value`, { cause: err });
  if (UNAVAILABLE.test(err.code)) return new StoreUnavailableError(`${what}: ${file} failed (${err.code})`, { cause: err });
  return err;
}

export async function runSqlite<T>(file: string, what: string, waitMs: number, fn: () => T): Promise<T> {
  const deadline = Date.now() + waitMs;
  let delay = 2;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw mapSqliteError(err, file, what);
      if (Date.now() + delay > deadline) {
        throw new StoreUnavailableError(`${what}: ${file} is locked by another process (waited ${waitMs} ms)`, { cause: err });
      }
      await sleep(delay / 2 + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

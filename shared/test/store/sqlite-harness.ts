import Database from 'better-sqlite3';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLITE_FILE } from '../../src/store/sqlite-store.js';

/** Helpers for the SQLite store's tests: a temp data dir, and a second connection to look inside. */

export const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'tokios-store-'));

/** Runs `fn` on a separate connection to the data dir's database (as another process would see it). */
export function peek<T>(dir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dir, SQLITE_FILE), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every row of every table, as text. */
export function dumpTables(dir: string): string {
  return peek(dir, (db) => {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map(({ name }) => `${name}\n${JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all())}`).join('\n');
  });
}

export const countRows = (dir: string, table: string): number =>
  peek(dir, (db) => (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n);

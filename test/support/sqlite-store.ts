import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_FILE } from '@tokios/shared/store';

/**
 * The embedded store's database seen from outside, as another process or a failing disk would touch it:
 * raw rows to inspect, a write lock held open, and pages corrupted on disk. Real faults, no mocks.
 */

const open = (dataDir: string): Database.Database => new Database(join(dataDir, SQLITE_FILE));

/** The raw usage rows of one API key (columns as stored). */
export function usageRows(dataDir: string, keyId: string): Record<string, unknown>[] {
  const db = open(dataDir);
  try {
    return db.prepare('SELECT * FROM usage_records WHERE key_id = ? ORDER BY at').all(keyId) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** Another connection holding the write lock (an open write transaction) until release(). */
export function holdWriteLock(dataDir: string): { release(): void } {
  const db = open(dataDir);
  db.exec('BEGIN IMMEDIATE');
  return {
    release() {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/**
 * Overwrites the on-disk pages of `tables` (and their indexes) with garbage, then commits an unrelated write
 * so every open connection drops its page cache and reads the damage: their lookups in those tables fail
 * with SQLITE_CORRUPT. restore() writes the pages back the same way.
 */
export function corruptTables(dataDir: string, tables: string[]): { restore(): void } {
  const db = open(dataDir);
  // Everything into the main file first, so the damage is not masked by newer copies in the WAL.
  const [cp] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  if (cp?.busy) throw new Error('corruptTables: the WAL could not be checkpointed (a reader is in the way)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const names = db
    .prepare(`SELECT name FROM sqlite_master WHERE tbl_name IN (${tables.map(() => '?').join(', ')})`)
    .all(...tables)
    .map((r) => (r as { name: string }).name);
  const pages = db
    .prepare(`SELECT pageno FROM dbstat WHERE name IN (${names.map(() => '?').join(', ')})`)
    .all(...names)
    .map((r) => (r as { pageno: number }).pageno);
  const bump = () => db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('test_bump', ?)").run(String(Math.random()));
  const fd = openSync(join(dataDir, SQLITE_FILE), 'r+');
  const saved = pages.map((p) => {
    const buf = Buffer.alloc(pageSize);
    readSync(fd, buf, 0, pageSize, (p - 1) * pageSize);
    return [p, buf] as const;
  });
  for (const p of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (p - 1) * pageSize);
  bump();
  return {
    restore() {
      for (const [p, buf] of saved) writeSync(fd, buf, 0, pageSize, (p - 1) * pageSize);
      closeSync(fd);
      bump();
      db.close();
    },
  };
}

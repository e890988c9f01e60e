import type { Database, Statement } from 'better-sqlite3';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../log/index.js';
import { StoreUnavailableError } from './errors.js';
import { decodeFileData, type FileData } from './legacy-format.js';
import { usageRecordSchema } from './inputs.js';
import {
  COLUMNS, apiKeyToRow, deploymentToRow, insertSql, inviteToRow, shareToRow, tenantToRow, tunnelTokenToRow,
} from './sqlite-rows.js';
import type { SqliteUsage } from './sqlite-usage.js';
import type { UsageRecord } from './types.js';

/**
 * One-time import of the JSON file store that SQLite replaced: `store.json` (control data) and `usage.jsonl`
 * (usage records) in the data dir. The control data goes in within the transaction that creates the schema,
 * so no process ever sees the new database without it; usage follows in batches (it may be large), counted
 * once per record id, so an import cut short resumes exactly. Each file is renamed `*.imported` when done;
 * `meta` remembers what was imported, so a file left behind by a crash is only renamed.
 */

export type StoreLog = Pick<Logger, 'info' | 'warn'>;

export const LEGACY_STORE_FILE = 'store.json';
export const LEGACY_USAGE_FILE = 'usage.jsonl';
const LEGACY_LOCKS = ['store.lock', 'usage.lock'];
const IMPORTED = '.imported';
const USAGE_BATCH = 5_000;
const META_STORE = 'legacy_store_imported';
const META_USAGE = 'legacy_usage_imported';

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** The decoded `store.json` of `dir`, or null when there is none. Throws StoreUnavailableError when unreadable. */
export async function readLegacyStore(dir: string): Promise<FileData | null> {
  const file = join(dir, LEGACY_STORE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (missing(err)) return null;
    throw err;
  }
  const fix = 'fix it, or move it away to start with an empty store';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new StoreUnavailableError(`cannot import ${file}: not valid JSON (${fix})`, { cause });
  }
  const decoded = decodeFileData(parsed);
  if (!decoded.ok) throw new StoreUnavailableError(`cannot import ${file}: ${decoded.error} (${fix})`);
  return decoded.data;
}

const hasMeta = (db: Database, key: string): boolean => db.prepare('SELECT 1 FROM meta WHERE key = ?').get(key) !== undefined;
const setMeta = (db: Database, key: string, value: string): void => {
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
};

/**
 * Inserts the old control data, unless already imported. Runs inside the schema transaction. Returns the
 * counts imported, or null when nothing was to do.
 */
export function importLegacyStore(db: Database, data: FileData | null, nowIso: string): Record<string, number> | null {
  if (!data || hasMeta(db, META_STORE)) return null;
  const tables: [keyof typeof COLUMNS, readonly object[]][] = [
    ['tenants', data.tenants.map(tenantToRow)],
    ['api_keys', data.apiKeys.map(apiKeyToRow)],
    ['deployments', data.deployments.map(deploymentToRow)],
    ['tunnel_tokens', data.tunnelTokens.map(tunnelTokenToRow)],
    ['invites', data.invites.map(inviteToRow)],
    ['shares', data.shares.map(shareToRow)],
  ];
  const counts: Record<string, number> = {};
  for (const [table, rows] of tables) {
    const insert: Statement = db.prepare(insertSql(table, COLUMNS[table]));
    for (const row of rows) insert.run(row);
    counts[table] = rows.length;
  }
  setMeta(db, META_STORE, nowIso);
  return counts;
}

/** Renames an imported file out of the way (another process may have done it already). */
async function retire(dir: string, name: string, log: StoreLog | undefined): Promise<void> {
  const from = join(dir, name);
  try {
    await rename(from, from + IMPORTED);
    log?.info({ file: from, renamed: from + IMPORTED }, 'old store file imported and renamed');
  } catch (err) {
    if (!missing(err)) throw err;
  }
}

/** After the schema transaction: renames store.json, imports usage.jsonl, removes the old lock files. */
export async function finishLegacyImport(opts: {
  dir: string;
  db: Database;
  usage: SqliteUsage;
  log: StoreLog | undefined;
  nowIso: () => string;
  /** Runs a read, and one write transaction, with the store's lock handling. */
  read: <T>(what: string, fn: () => T) => Promise<T>;
  write: <T>(what: string, fn: () => T) => Promise<T>;
}): Promise<void> {
  const { dir, db, usage, log, read, write } = opts;
  const storeFile = await stat(join(dir, LEGACY_STORE_FILE)).catch(() => null);
  if (storeFile && (await read('import', () => hasMeta(db, META_STORE)))) {
    await retire(dir, LEGACY_STORE_FILE, log);
    await removeLocks(dir);
  }
  const file = join(dir, LEGACY_USAGE_FILE);
  let input;
  try {
    input = createReadStream(file, { encoding: 'utf8' });
    await new Promise<void>((resolve, reject) => input!.once('open', () => resolve()).once('error', reject));
  } catch (err) {
    input?.destroy();
    if (missing(err)) return;
    throw err;
  }
  if (await read('import', () => hasMeta(db, META_USAGE))) {
    input.destroy();
    await retire(dir, LEGACY_USAGE_FILE, log);
    return removeLocks(dir);
  }
  log?.info({ file }, 'importing usage records of the old store');
  const stats = { lines: 0, added: 0, skipped: 0 };
  let batch: UsageRecord[] = [];
  const flush = async () => {
    const b = batch;
    batch = [];
    stats.added += await write('import', () => usage.record(b));
    if (stats.lines % 100_000 < USAGE_BATCH) log?.info({ file, ...stats }, 'importing usage records');
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line) continue;
      stats.lines++;
      const r = usageRecordSchema.safeParse(parseJson(line));
      if (!r.success) {
        stats.skipped++; // a line torn by a crash, or not a record
        continue;
      }
      batch.push(r.data);
      if (batch.length >= USAGE_BATCH) await flush();
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (batch.length) await flush();
  await write('import', () => setMeta(db, META_USAGE, opts.nowIso()));
  log?.info({ file, ...stats }, 'usage records of the old store imported');
  await retire(dir, LEGACY_USAGE_FILE, log);
  await removeLocks(dir);
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

async function removeLocks(dir: string): Promise<void> {
  await Promise.all(LEGACY_LOCKS.map((n) => rm(join(dir, n), { force: true })));
}

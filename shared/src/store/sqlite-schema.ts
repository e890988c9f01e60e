import type { Database } from 'better-sqlite3';
import { StoreUnavailableError } from './errors.js';

/**
 * The embedded store's SQLite layout. Times are ISO strings (they sort as time) except usage, whose `at` and
 * `hour` are epoch ms. Secrets appear only as sha256 hashes. The schema version is `PRAGMA user_version`;
 * each migration runs once, inside the same write transaction as the version bump, so processes opening the
 * database at the same moment never both apply it.
 */

export interface SqliteMigration {
  /** The schema version this migration produces. */
  version: number;
  description: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'control data, raw usage records, hourly usage rollups',
    sql: `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL,
        console_prefix TEXT, console_hash TEXT UNIQUE, console_created_at TEXT
      ) STRICT;
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT, limits TEXT
      ) STRICT;
      CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
      CREATE TABLE deployments (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
        UNIQUE (tenant_id, name)
      ) STRICT;
      CREATE TABLE tunnel_tokens (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, deployment_id TEXT NOT NULL, prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT
      ) STRICT;
      CREATE INDEX tunnel_tokens_deployment ON tunnel_tokens (deployment_id, created_at);
      CREATE TABLE invites (
        id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, tenant_id TEXT NOT NULL, prefix TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        max_uses INTEGER NOT NULL, uses INTEGER NOT NULL DEFAULT 0, revoked_at TEXT,
        CHECK (uses >= 0 AND uses <= max_uses)
      ) STRICT;
      CREATE INDEX invites_deployment ON invites (deployment_id, created_at);
      CREATE TABLE shares (
        id TEXT PRIMARY KEY, deployment_id TEXT NOT NULL, owner_tenant_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
        invite_id TEXT NOT NULL, created_at TEXT NOT NULL,
        UNIQUE (deployment_id, tenant_id)
      ) STRICT;
      CREATE INDEX shares_tenant ON shares (tenant_id, created_at);
      CREATE TABLE usage_records (
        id TEXT PRIMARY KEY, at INTEGER NOT NULL, tenant_id TEXT NOT NULL, key_id TEXT NOT NULL,
        deployment_id TEXT NOT NULL, connector_id TEXT NOT NULL, protocol TEXT NOT NULL, stream INTEGER NOT NULL,
        status INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        ttft_ms INTEGER, duration_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX usage_records_at ON usage_records (at);
      CREATE TABLE usage_hourly (
        tenant_id TEXT NOT NULL, hour INTEGER NOT NULL, deployment_id TEXT NOT NULL, key_id TEXT NOT NULL,
        requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        errors INTEGER NOT NULL, client_errors INTEGER NOT NULL, server_errors INTEGER NOT NULL,
        duration_ms_sum INTEGER NOT NULL, ttft_ms_sum INTEGER NOT NULL, ttft_count INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, hour, deployment_id, key_id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX usage_hourly_hour ON usage_hourly (hour);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    `,
  },
  {
    version: 2,
    description: 'aliases; the alias a usage record went through',
    sql: `
      CREATE TABLE aliases (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, mode TEXT NOT NULL, targets TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, name)
      ) STRICT;
      ALTER TABLE usage_records ADD COLUMN alias_id TEXT;
    `,
  },
  {
    version: 3,
    description: 'dashboard sessions revoked before their cookie expires (logout)',
    sql: `
      CREATE TABLE revoked_sessions (
        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX revoked_sessions_expires ON revoked_sessions (expires_at);
    `,
  },
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/**
 * Connection settings. WAL lets readers run while one writer commits, across processes; synchronous=NORMAL
 * is durable across process crashes (a power cut may lose the last commits, never corrupt the file).
 * busy_timeout is short on purpose: better-sqlite3 is synchronous, so SQLite's own wait blocks the event
 * loop; longer waits for a lock are retried asynchronously (sqlite-run.ts).
 */
export const SQLITE_BUSY_TIMEOUT_MS = 20;

export function configure(db: Database): void {
  db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new StoreUnavailableError(`${db.name}: cannot use WAL journal mode (got ${String(mode)})`);
  db.pragma('synchronous = NORMAL');
  // Keep the WAL file from staying large after a burst of writes.
  db.pragma('journal_size_limit = 67108864');
}

/**
 * Brings the schema to SQLITE_SCHEMA_VERSION; refuses a database from a newer build. `then` runs in the same
 * write transaction, on the migrated schema (the one-time import of the old JSON store uses it). Returns the
 * version found.
 */
export function migrate(db: Database, then?: () => void): number {
  // Up to date and nothing to import: no write lock needed (opening must not wait for another process's writer).
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found === SQLITE_SCHEMA_VERSION && !then) return found;
  return db
    .transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > SQLITE_SCHEMA_VERSION) {
        throw new StoreUnavailableError(
          `${db.name} has schema version ${current}, newer than this build understands (${SQLITE_SCHEMA_VERSION})`,
        );
      }
      for (const m of [...SQLITE_MIGRATIONS].sort((a, b) => a.version - b.version)) {
        if (m.version <= current) continue;
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      }
      then?.();
      return current;
    })
    .immediate();
}

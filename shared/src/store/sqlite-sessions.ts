import type { Database, Statement } from 'better-sqlite3';

/**
 * Revoked dashboard sessions in the embedded store (table `revoked_sessions`, expiry in epoch ms). Each revocation
 * also deletes the entries whose cookie has expired, so the table holds only the logouts of one session lifetime.
 */
export class SqliteSessions {
  private readonly upsert: Statement;
  private readonly prune: Statement;
  private readonly live: Statement;

  constructor(db: Database) {
    this.upsert = db.prepare(
      'INSERT INTO revoked_sessions (id, tenant_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)',
    );
    this.prune = db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?');
    this.live = db.prepare('SELECT 1 FROM revoked_sessions WHERE id = ? AND expires_at > ?');
  }

  /** Inside a write transaction. */
  revoke(r: { sessionId: string; tenantId: string; expiresAt: string }, nowMs: number): void {
    this.prune.run(nowMs);
    const expires = Date.parse(r.expiresAt);
    if (expires > nowMs) this.upsert.run(r.sessionId, r.tenantId, expires);
  }

  isRevoked(sessionId: string, nowMs: number): boolean {
    return this.live.get(sessionId, nowMs) !== undefined;
  }
}

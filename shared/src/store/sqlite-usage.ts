import type { Database, Statement } from 'better-sqlite3';
import type { UsageRecord, UsageReport, UsageTotals } from './types.js';
import { callerProtocolSchema } from '../protocol/meta.js';
import { BucketAccumulator, USAGE_COUNTERS, firstReadHour, floorHour, instantMs, rollUp, type HourlyQuery } from './usage.js';

/**
 * Usage in the embedded store: raw records (`usage_records`, kept for the raw retention so a re-sent record
 * counts once) and hourly rollups (`usage_hourly`), updated in the same transaction as the records they
 * count. Queries read only the rollups. Statements are prepared once per connection.
 */

/** Rollup counter columns, in USAGE_COUNTERS order. */
const COUNTER_COLUMNS = [
  'requests', 'input_tokens', 'output_tokens', 'errors', 'client_errors', 'server_errors',
  'duration_ms_sum', 'ttft_ms_sum', 'ttft_count',
] as const satisfies { length: (typeof USAGE_COUNTERS)['length'] };

interface UsageRow {
  id: string;
  at: number;
  tenant_id: string;
  key_id: string;
  deployment_id: string;
  alias_id: string | null;
  connector_id: string;
  protocol: string;
  stream: number;
  status: number;
  input_tokens: number;
  output_tokens: number;
  ttft_ms: number | null;
  duration_ms: number;
}

/** Rows deleted per prune transaction, so a long prune never holds the write lock for long. */
export const PRUNE_CHUNK = 5_000;

export class SqliteUsage {
  private readonly insertRaw: Statement;
  private readonly listRaw: Statement;
  private readonly upsertRollup: Statement;
  private readonly queryRollups: Statement;
  private readonly pruneRaw: Statement;
  private readonly pruneRollups: Statement;

  constructor(db: Database) {
    this.insertRaw = db.prepare(
      `INSERT OR IGNORE INTO usage_records
         (id, at, tenant_id, key_id, deployment_id, alias_id, connector_id, protocol, stream, status, input_tokens, output_tokens, ttft_ms, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.listRaw = db.prepare(
      'SELECT * FROM usage_records WHERE tenant_id = @tenantId AND at >= @from AND at < @to ORDER BY at DESC, id DESC LIMIT @limit',
    );
    this.upsertRollup = db.prepare(
      `INSERT INTO usage_hourly (tenant_id, hour, deployment_id, key_id, ${COUNTER_COLUMNS.join(', ')})
       VALUES (@tenantId, @hour, @deploymentId, @keyId, ${COUNTER_COLUMNS.map((_, i) => `@c${i}`).join(', ')})
       ON CONFLICT (tenant_id, hour, deployment_id, key_id) DO UPDATE SET
       ${COUNTER_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`,
    );
    this.queryRollups = db.prepare(
      `SELECT hour, ${COUNTER_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ')}
       FROM usage_hourly
       WHERE tenant_id = @tenantId AND hour >= @start AND hour < @end
         AND (@deploymentId IS NULL OR deployment_id = @deploymentId)
         AND (@keyId IS NULL OR key_id = @keyId)
       GROUP BY hour`,
    );
    this.pruneRaw = db.prepare(
      `DELETE FROM usage_records WHERE rowid IN (SELECT rowid FROM usage_records WHERE at < ? LIMIT ${PRUNE_CHUNK})`,
    );
    this.pruneRollups = db.prepare(
      `DELETE FROM usage_hourly WHERE (tenant_id, hour, deployment_id, key_id) IN
         (SELECT tenant_id, hour, deployment_id, key_id FROM usage_hourly WHERE hour < ? LIMIT ${PRUNE_CHUNK})`,
    );
  }

  /** Stores the records not seen before and adds them to their rollups. Run inside a write transaction. */
  record(batch: readonly UsageRecord[]): number {
    const fresh: UsageRecord[] = [];
    // Each record's hour, from the instant parsed once for its row.
    const hours: number[] = [];
    for (const r of batch) {
      const at = instantMs(r.at);
      // Positional, in the column order of insertRaw: binding by name looks up every parameter per row.
      const inserted = this.insertRaw.run(
        r.id, at, r.tenantId, r.keyId, r.deploymentId, r.aliasId ?? null, r.connectorId, r.protocol, r.stream ? 1 : 0,
        r.status, r.inputTokens, r.outputTokens, r.ttftMs, r.durationMs,
      );
      if (inserted.changes === 1) {
        fresh.push(r);
        hours.push(floorHour(at));
      }
    }
    for (const roll of rollUp(fresh, hours)) {
      const counters = Object.fromEntries(USAGE_COUNTERS.map((k, i) => [`c${i}`, roll.totals[k]]));
      this.upsertRollup.run({ tenantId: roll.tenantId, hour: roll.hour, deploymentId: roll.deploymentId, keyId: roll.keyId, ...counters });
    }
    return fresh.length;
  }

  /** Raw records, newest first. */
  list(q: { tenantId: string; fromMs: number; toMs: number; limit: number }): UsageRecord[] {
    const rows = this.listRaw.all({ tenantId: q.tenantId, from: q.fromMs, to: q.toMs, limit: q.limit }) as UsageRow[];
    return rows.map((r) => ({
      id: r.id, at: new Date(r.at).toISOString(), tenantId: r.tenant_id, keyId: r.key_id, deploymentId: r.deployment_id,
      aliasId: r.alias_id, connectorId: r.connector_id, protocol: callerProtocolSchema.parse(r.protocol), stream: r.stream === 1,
      status: r.status, inputTokens: r.input_tokens, outputTokens: r.output_tokens, ttftMs: r.ttft_ms, durationMs: r.duration_ms,
    }));
  }

  query(q: HourlyQuery): UsageReport {
    const acc = new BucketAccumulator(q);
    const rows = this.queryRollups.all({
      tenantId: q.tenantId, start: firstReadHour(q), end: q.toMs, deploymentId: q.deploymentId ?? null, keyId: q.keyId ?? null,
    }) as (Record<(typeof COUNTER_COLUMNS)[number], number> & { hour: number })[];
    for (const row of rows) {
      const totals = Object.fromEntries(USAGE_COUNTERS.map((k, i) => [k, Number(row[COUNTER_COLUMNS[i]!])])) as unknown as UsageTotals;
      acc.add(row.hour, totals);
    }
    return acc.report();
  }

  /** Deletes one chunk of raw records before `rawCutoffMs`; returns how many (PRUNE_CHUNK means: call again). */
  pruneRawChunk(rawCutoffMs: number): number {
    return this.pruneRaw.run(rawCutoffMs).changes;
  }

  /** Deletes one chunk of rollups of hours that started before `rollupCutoffMs` (as a MongoDB TTL index does). */
  pruneRollupChunk(rollupCutoffMs: number): number {
    return this.pruneRollups.run(rollupCutoffMs).changes;
  }
}

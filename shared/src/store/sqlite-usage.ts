import type { Database, Statement } from 'better-sqlite3';
import type { UsageRecord, UsageReport, UsageTotals } from './types.js';
import { callerProtocolSchema } from '../protocol/meta.js';
import { isUniqueViolation } from './sqlite-run.js';
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

/**
 * Records per multi-row insert. Every request leaves a record, and a statement per record paid its run (the result
 * object, statement end, bindings reset) each time: ten rows per statement cost ~25 k instructions per record instead
 * of ~30 k, and fifty rows no less than ten (callgrind, 50-record batches).
 */
export const INSERT_CHUNK = 10;

const RAW_COLUMNS = 'id, at, tenant_id, key_id, deployment_id, alias_id, connector_id, protocol, stream, status, input_tokens, output_tokens, ttft_ms, duration_ms';
const RAW_ROW = `(${RAW_COLUMNS.split(', ').map(() => '?').join(', ')})`;
const RAW_WIDTH = RAW_COLUMNS.split(', ').length;

/** Rows deleted per prune transaction, so a long prune never holds the write lock for long. */
export const PRUNE_CHUNK = 5_000;

export class SqliteUsage {
  private readonly insertRaw: Statement;
  private readonly insertChunk: Statement;
  /** The bound values of one insertChunk run, reused (one array per store, not per chunk). */
  private readonly chunkValues: unknown[] = new Array(INSERT_CHUNK * RAW_WIDTH);
  private readonly listRaw: Statement;
  private readonly upsertRollup: Statement;
  private readonly queryRollups: Statement;
  private readonly pruneRaw: Statement;
  private readonly pruneRollups: Statement;

  constructor(db: Database) {
    this.insertRaw = db.prepare(`INSERT OR IGNORE INTO usage_records (${RAW_COLUMNS}) VALUES ${RAW_ROW}`);
    // Without OR IGNORE: a record seen before fails the whole statement (and only it), and its chunk goes row by row.
    this.insertChunk = db.prepare(`INSERT INTO usage_records (${RAW_COLUMNS}) VALUES ${Array<string>(INSERT_CHUNK).fill(RAW_ROW).join(', ')}`);
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

  /**
   * Stores the records not seen before and adds them to their rollups. Run inside a write transaction. `given`: the
   * records' instants in ms when the caller has them already (parseUsageBatch reads them while checking the batch).
   */
  record(batch: readonly UsageRecord[], given?: readonly number[]): number {
    const fresh: UsageRecord[] = [];
    // Each record's hour, from the instant parsed once for its row.
    const hours: number[] = [];
    const ats = given ?? batch.map((r) => instantMs(r.at));
    let i = 0;
    for (; i + INSERT_CHUNK <= batch.length; i += INSERT_CHUNK) {
      if (this.insertAllOf(batch, ats, i)) {
        for (let j = i; j < i + INSERT_CHUNK; j++) {
          fresh.push(batch[j]!);
          hours.push(floorHour(ats[j]!));
        }
      } else {
        for (let j = i; j < i + INSERT_CHUNK; j++) this.insertOne(batch[j]!, ats[j]!, fresh, hours);
      }
    }
    for (; i < batch.length; i++) this.insertOne(batch[i]!, ats[i]!, fresh, hours);
    for (const roll of rollUp(fresh, hours)) {
      const counters = Object.fromEntries(USAGE_COUNTERS.map((k, i) => [`c${i}`, roll.totals[k]]));
      this.upsertRollup.run({ tenantId: roll.tenantId, hour: roll.hour, deploymentId: roll.deploymentId, keyId: roll.keyId, ...counters });
    }
    return fresh.length;
  }

  /** Inserts the INSERT_CHUNK records from `start` in one statement; false (nothing inserted) when one was stored before. */
  private insertAllOf(batch: readonly UsageRecord[], ats: readonly number[], start: number): boolean {
    const v = this.chunkValues;
    for (let j = 0; j < INSERT_CHUNK; j++) {
      const r = batch[start + j]!;
      const o = j * RAW_WIDTH;
      // In the column order of RAW_COLUMNS.
      v[o] = r.id; v[o + 1] = ats[start + j]; v[o + 2] = r.tenantId; v[o + 3] = r.keyId; v[o + 4] = r.deploymentId;
      v[o + 5] = r.aliasId ?? null; v[o + 6] = r.connectorId; v[o + 7] = r.protocol; v[o + 8] = r.stream ? 1 : 0;
      v[o + 9] = r.status; v[o + 10] = r.inputTokens; v[o + 11] = r.outputTokens; v[o + 12] = r.ttftMs; v[o + 13] = r.durationMs;
    }
    try {
      // Spread, not one array argument: better-sqlite3 reads an array's elements one by one through the V8 API (slower).
      this.insertChunk.run(...v);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** One record, kept (with its hour) when not seen before. */
  private insertOne(r: UsageRecord, at: number, fresh: UsageRecord[], hours: number[]): void {
    // Positional, in the column order of RAW_COLUMNS: binding by name looks up every parameter per row.
    const inserted = this.insertRaw.run(
      r.id, at, r.tenantId, r.keyId, r.deploymentId, r.aliasId ?? null, r.connectorId, r.protocol, r.stream ? 1 : 0,
      r.status, r.inputTokens, r.outputTokens, r.ttftMs, r.durationMs,
    );
    if (inserted.changes === 1) {
      fresh.push(r);
      hours.push(floorHour(at));
    }
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

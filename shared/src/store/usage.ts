import type { UsageBucket, UsageQuery, UsageRecord, UsageReport, UsageTotals } from './types.js';
import { canonicalInstantMs } from './instant.js';

/**
 * Usage aggregation shared by the stores. Pure.
 *
 * Finished requests are rolled up per UTC hour × tenant × deployment × key as they are recorded; a usage
 * query reads only those hourly rollups, never the raw records. So a query covers whole hours: `from` is
 * taken down and `to` up to the hour (the report says which range it covers), and buckets are whole hours.
 */

export const USAGE_HOUR_MS = 3_600_000;

export const floorHour = (ms: number): number => Math.floor(ms / USAGE_HOUR_MS) * USAGE_HOUR_MS;
/** A stored record's instant in ms (records are normalised to Date#toISOString form; any other spelling is parsed). */
export const instantMs = (at: string): number => canonicalInstantMs(at) ?? Date.parse(at);

export const ceilHour = (ms: number): number => Math.ceil(ms / USAGE_HOUR_MS) * USAGE_HOUR_MS;

export const emptyTotals = (): UsageTotals => ({
  requests: 0, inputTokens: 0, outputTokens: 0, errors: 0, clientErrors: 0, serverErrors: 0,
  durationMsSum: 0, ttftMsSum: 0, ttftCount: 0,
});

/** The counters, in one order, for stores that keep them as columns or fields. */
export const USAGE_COUNTERS = [
  'requests', 'inputTokens', 'outputTokens', 'errors', 'clientErrors', 'serverErrors', 'durationMsSum', 'ttftMsSum', 'ttftCount',
] as const satisfies readonly (keyof UsageTotals)[];

export const isErrorStatus = (status: number): boolean => status >= 400;

/** What one record adds to its rollup. */
export function recordTotals(r: UsageRecord): UsageTotals {
  const totals = emptyTotals();
  addRecord(totals, r);
  return totals;
}

/** Adds one record to `into` (recordTotals then addTotals, without the object in between: a store adds every record). */
export function addRecord(into: UsageTotals, r: UsageRecord): void {
  into.requests += 1;
  into.inputTokens += r.inputTokens;
  into.outputTokens += r.outputTokens;
  if (isErrorStatus(r.status)) into.errors += 1;
  if (r.status >= 400 && r.status < 500) into.clientErrors += 1;
  if (r.status >= 500) into.serverErrors += 1;
  into.durationMsSum += r.durationMs;
  if (r.ttftMs !== null) {
    into.ttftMsSum += r.ttftMs;
    into.ttftCount += 1;
  }
}

export function addTotals(into: UsageTotals, x: UsageTotals): void {
  for (const k of USAGE_COUNTERS) into[k] += x[k];
}

/** The rollup a record belongs to. */
export interface RollupKey {
  tenantId: string;
  /** Start of the UTC hour, epoch ms. */
  hour: number;
  deploymentId: string;
  keyId: string;
}

export interface Rollup extends RollupKey {
  totals: UsageTotals;
}

/**
 * Sums records (already de-duplicated) into one rollup per key, so a batch is one update per hour and key. A batch
 * comes from one ingress, mostly a few keys in one hour: a record of the same rollup as the one before is added to it
 * by comparing its fields, without building the map key (a JSON text per record, most of this function's cost).
 * `hours[i]`, when given, is records[i]'s hour (the caller parsed its instant already).
 */
export function rollUp(records: readonly UsageRecord[], hours?: readonly number[]): Rollup[] {
  const out = new Map<string, Rollup>();
  let last: Rollup | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const hour = hours ? hours[i]! : floorHour(instantMs(r.at));
    if (!(last && last.hour === hour && last.tenantId === r.tenantId && last.deploymentId === r.deploymentId && last.keyId === r.keyId)) {
      const id = JSON.stringify([r.tenantId, hour, r.deploymentId, r.keyId]);
      last = out.get(id);
      if (!last) {
        last = { tenantId: r.tenantId, hour, deploymentId: r.deploymentId, keyId: r.keyId, totals: emptyTotals() };
        out.set(id, last);
      }
    }
    addRecord(last.totals, r);
  }
  return [...out.values()];
}

/** A validated query (see inputs.ts) widened to whole hours, in epoch ms. */
export interface HourlyQuery {
  tenantId: string;
  fromMs: number;
  toMs: number;
  bucketMs: number;
  deploymentId?: string | undefined;
  keyId?: string | undefined;
  /** Hours starting before this (epoch ms) are past the rollup retention: reported as empty. */
  keepFromMs: number;
}

/** `rollupCutoffMs`: hours that start before it are past the rollup retention (and deleted, or about to be). */
export function toHourlyQuery(q: UsageQuery, rollupCutoffMs: number): HourlyQuery {
  return {
    tenantId: q.tenantId,
    fromMs: floorHour(Date.parse(q.from)),
    toMs: ceilHour(Date.parse(q.to)),
    bucketMs: q.bucketMs,
    deploymentId: q.deploymentId,
    keyId: q.keyId,
    keepFromMs: ceilHour(rollupCutoffMs),
  };
}

/** The first hour a store reads for this query (retention applied). */
export const firstReadHour = (q: HourlyQuery): number => Math.max(q.fromMs, q.keepFromMs);

export const bucketCount = (q: HourlyQuery): number => Math.ceil((q.toMs - q.fromMs) / q.bucketMs);

export const bucketIndex = (q: HourlyQuery, hourMs: number): number => Math.floor((hourMs - q.fromMs) / q.bucketMs);

/** A report whose buckets hold `partial[i]` (or zeros), with totals summed from them. */
export function buildUsageReport(q: HourlyQuery, partial: ReadonlyMap<number, UsageTotals>): UsageReport {
  const totals = emptyTotals();
  const buckets: UsageBucket[] = [];
  for (let i = 0; i < bucketCount(q); i++) {
    const b = partial.get(i) ?? emptyTotals();
    buckets.push({ start: new Date(q.fromMs + i * q.bucketMs).toISOString(), ...b });
    addTotals(totals, b);
  }
  return { from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), bucketMs: q.bucketMs, buckets, totals };
}

/** Adds hourly rows into per-bucket totals. */
export class BucketAccumulator {
  readonly buckets = new Map<number, UsageTotals>();
  constructor(private readonly q: HourlyQuery) {}

  add(hourMs: number, totals: UsageTotals): void {
    const i = bucketIndex(this.q, hourMs);
    let b = this.buckets.get(i);
    if (!b) this.buckets.set(i, (b = emptyTotals()));
    addTotals(b, totals);
  }

  report(): UsageReport {
    return buildUsageReport(this.q, this.buckets);
  }
}

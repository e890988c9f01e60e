import type { UsageBucket, UsageQuery, UsageRecord, UsageReport, UsageTotals } from './types.js';

/** Usage aggregation shared by the stores: bucket layout, filters and totals. Pure. */

export const emptyTotals = (): UsageTotals => ({ requests: 0, inputTokens: 0, outputTokens: 0, errors: 0 });

export const isErrorStatus = (status: number): boolean => status >= 400;

/** Does a record belong in the query's result? (`from`/`to` are normalised ISO strings.) */
export function matchesUsageQuery(r: UsageRecord, q: UsageQuery): boolean {
  return (
    r.tenantId === q.tenantId &&
    r.at >= q.from &&
    r.at < q.to &&
    (q.deploymentId === undefined || r.deploymentId === q.deploymentId) &&
    (q.keyId === undefined || r.keyId === q.keyId)
  );
}

export function bucketCount(q: UsageQuery): number {
  return Math.ceil((Date.parse(q.to) - Date.parse(q.from)) / q.bucketMs);
}

export function bucketIndex(q: UsageQuery, atIso: string): number {
  return Math.floor((Date.parse(atIso) - Date.parse(q.from)) / q.bucketMs);
}

/** A report whose buckets hold `partial[i]` (or zeros), with totals summed from them. */
export function buildUsageReport(q: UsageQuery, partial: ReadonlyMap<number, UsageTotals>): UsageReport {
  const fromMs = Date.parse(q.from);
  const totals = emptyTotals();
  const buckets: UsageBucket[] = [];
  for (let i = 0; i < bucketCount(q); i++) {
    const b = partial.get(i) ?? emptyTotals();
    buckets.push({ start: new Date(fromMs + i * q.bucketMs).toISOString(), ...b });
    totals.requests += b.requests;
    totals.inputTokens += b.inputTokens;
    totals.outputTokens += b.outputTokens;
    totals.errors += b.errors;
  }
  return { from: q.from, to: q.to, bucketMs: q.bucketMs, buckets, totals };
}

/** Accumulates records (already de-duplicated and filtered) into per-bucket totals. */
export class UsageAccumulator {
  readonly buckets = new Map<number, UsageTotals>();
  constructor(private readonly q: UsageQuery) {}

  add(r: UsageRecord): void {
    const i = bucketIndex(this.q, r.at);
    let b = this.buckets.get(i);
    if (!b) this.buckets.set(i, (b = emptyTotals()));
    b.requests += 1;
    b.inputTokens += r.inputTokens;
    b.outputTokens += r.outputTokens;
    if (isErrorStatus(r.status)) b.errors += 1;
  }

  report(): UsageReport {
    return buildUsageReport(this.q, this.buckets);
  }
}

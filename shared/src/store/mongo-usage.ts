import type { AnyBulkWriteOperation, Document, IndexDescription } from 'mongodb';
import type { UsageRecord, UsageTotals } from './types.js';
import type { UsageRetention } from './retention.js';
import { USAGE_COUNTERS, USAGE_HOUR_MS, firstReadHour, type HourlyQuery, type Rollup } from './usage.js';

/**
 * Usage on MongoDB, as pure builders (the store runs them; tests check them without a server):
 * raw records in `usage` expire by a TTL index on `at` after the raw retention; hourly rollups in
 * `usageHourly` (one document per hour × tenant × deployment × key) are maintained with `$inc` upserts per
 * recorded batch and expire by a TTL index on `hour` after the rollup retention. Queries read rollups only.
 */

export type UsageDoc = Omit<UsageRecord, 'id' | 'at'> & { _id: string; at: Date };
export type UsageHourlyDoc = { tenantId: string; hour: Date; deploymentId: string; keyId: string } & UsageTotals;

export const ROLLUP_KEY_FIELDS = ['tenantId', 'hour', 'deploymentId', 'keyId'] as const;

/** Index specs of the two usage collections; the TTLs follow the configured retention. */
export function usageIndexes(retention: UsageRetention): { usage: IndexDescription[]; usageHourly: IndexDescription[] } {
  return {
    usage: [{ key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: Math.round(retention.rawMs / 1000) }],
    usageHourly: [
      { key: { tenantId: 1, hour: 1, deploymentId: 1, keyId: 1 }, name: 'rollup_unique', unique: true },
      { key: { hour: 1 }, name: 'hour_ttl', expireAfterSeconds: Math.round(retention.rollupMs / 1000) },
    ],
  };
}

/**
 * TTL indexes that exist with another expireAfterSeconds than wanted (the retention was changed): the server
 * refuses to create them again, so they are changed in place (collMod).
 */
export function ttlChanges(existing: readonly Document[], wanted: readonly IndexDescription[]): { name: string; expireAfterSeconds: number }[] {
  const out: { name: string; expireAfterSeconds: number }[] = [];
  for (const w of wanted) {
    if (w.expireAfterSeconds === undefined || !w.name) continue;
    const have = existing.find((e) => e.name === w.name);
    if (have && have.expireAfterSeconds !== w.expireAfterSeconds) out.push({ name: w.name, expireAfterSeconds: w.expireAfterSeconds });
  }
  return out;
}

/** Indices of a batch that an unordered insertMany stored, given the write errors it reported. */
export function insertedIndices(count: number, writeErrors: readonly { index: number }[]): number[] {
  const failed = new Set(writeErrors.map((e) => e.index));
  return Array.from({ length: count }, (_, i) => i).filter((i) => !failed.has(i));
}

/** One `$inc` upsert per rollup: concurrent batches from many replicas add up exactly. */
export function rollupUpdates(rollups: readonly Rollup[]): AnyBulkWriteOperation<UsageHourlyDoc>[] {
  return rollups.map((r) => ({
    updateOne: {
      filter: { tenantId: r.tenantId, hour: new Date(r.hour), deploymentId: r.deploymentId, keyId: r.keyId },
      update: { $inc: Object.fromEntries(USAGE_COUNTERS.map((k) => [k, r.totals[k]])) as Partial<UsageTotals> },
      upsert: true,
    },
  }));
}

/** The rollups of one tenant's query, summed per hour (bucketing is done by the caller). */
export function rollupQueryPipeline(q: HourlyQuery): Document[] {
  const match: Document = { tenantId: q.tenantId, hour: { $gte: new Date(firstReadHour(q)), $lt: new Date(q.toMs) } };
  if (q.deploymentId !== undefined) match.deploymentId = q.deploymentId;
  if (q.keyId !== undefined) match.keyId = q.keyId;
  return [
    { $match: match },
    { $group: { _id: '$hour', ...Object.fromEntries(USAGE_COUNTERS.map((k) => [k, { $sum: `$${k}` }])) } },
  ];
}

/** Rollups recomputed from the raw records (schema migration 2, for usage recorded before rollups existed). */
export function rollupBackfillPipeline(): Document[] {
  const atMs = { $toLong: '$at' };
  const status = '$status';
  return [
    {
      $group: {
        _id: {
          tenantId: '$tenantId',
          hour: { $toDate: { $subtract: [atMs, { $mod: [atMs, USAGE_HOUR_MS] }] } },
          deploymentId: '$deploymentId',
          keyId: '$keyId',
        },
        requests: { $sum: 1 },
        inputTokens: { $sum: '$inputTokens' },
        outputTokens: { $sum: '$outputTokens' },
        errors: { $sum: { $cond: [{ $gte: [status, 400] }, 1, 0] } },
        clientErrors: { $sum: { $cond: [{ $and: [{ $gte: [status, 400] }, { $lt: [status, 500] }] }, 1, 0] } },
        serverErrors: { $sum: { $cond: [{ $gte: [status, 500] }, 1, 0] } },
        durationMsSum: { $sum: '$durationMs' },
        ttftMsSum: { $sum: { $ifNull: ['$ttftMs', 0] } },
        ttftCount: { $sum: { $cond: [{ $eq: [{ $ifNull: ['$ttftMs', null] }, null] }, 0, 1] } },
      },
    },
    {
      $project: {
        _id: 0,
        ...Object.fromEntries(ROLLUP_KEY_FIELDS.map((k) => [k, `$_id.${k}`])),
        ...Object.fromEntries(USAGE_COUNTERS.map((k) => [k, 1])),
      },
    },
    {
      $merge: {
        into: 'usageHourly',
        on: [...ROLLUP_KEY_FIELDS],
        // Recomputed from the raw records: the counters are set (not added), so running it twice is harmless.
        whenMatched: [{ $set: Object.fromEntries(USAGE_COUNTERS.map((k) => [k, `$$new.${k}`])) }],
        whenNotMatched: 'insert',
      },
    },
  ];
}

/** A `$group` row of rollupQueryPipeline as totals (the server may return longs or doubles). */
export function totalsFromRow(row: Document): UsageTotals {
  return Object.fromEntries(USAGE_COUNTERS.map((k) => [k, Number(row[k] ?? 0)])) as unknown as UsageTotals;
}

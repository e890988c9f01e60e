import { CALLER_PROTOCOLS } from '../protocol/meta.js';
import { MAX_USAGE_BATCH, parseInput, usageBatchSchema } from './inputs.js';
import type { UsageRecord } from './types.js';
import { canonicalInstantMs } from './instant.js';
import { instantMs } from './usage.js';

/**
 * A usage batch as the store takes it: the records usageBatchSchema accepts, normalised as it normalises them. Every
 * request of every ingress leaves one record, so the common case is checked by hand, at a fraction of zod's cost:
 * a record whose fields are what the ingress writes (`at` already in Date#toISOString form, nothing to normalise).
 * Anything else — unknown shapes, other spellings of an instant, bad values — goes through the schema, which
 * normalises it or refuses it with its own message. The fast path accepts nothing the schema refuses.
 */
export function parseUsageBatch(records: unknown, ats?: number[]): UsageRecord[] {
  if (!Array.isArray(records) || records.length > MAX_USAGE_BATCH) return bySchema(records, ats);
  const out: UsageRecord[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = ordinary(records[i], ats, i);
    if (!r) return bySchema(records, ats);
    out[i] = r;
  }
  return out;
}

/**
 * The batch through usageBatchSchema; `ats` (when asked for) gets each record's instant in ms, as the fast path
 * gives it: the schema's `at` is in Date#toISOString form.
 */
function bySchema(records: unknown, ats: number[] | undefined): UsageRecord[] {
  const out = parseInput(usageBatchSchema, records, 'usage');
  if (ats) {
    ats.length = 0;
    for (const r of out) ats.push(instantMs(r.at));
  }
  return out;
}

const PROTOCOLS: ReadonlySet<unknown> = new Set(CALLER_PROTOCOLS);

/** usageRecordSchema's refId. */
const isRef = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 128;
/** usageRecordSchema's count: a safe non-negative integer. */
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * The record as the schema would output it (its fields only, `aliasId` null when absent), or undefined. Its instant
 * in ms goes to `ats[i]` when `ats` is given (the store needs it for the row and its hour: read once, here).
 */
function ordinary(v: unknown, ats: number[] | undefined, i: number): UsageRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const { id, at, tenantId, keyId, deploymentId, aliasId, connectorId, protocol, stream, status, inputTokens, outputTokens, ttftMs, durationMs } = r;
  const atMs = canonicalInstantMs(at);
  if (!isRef(id) || atMs === undefined || typeof at !== 'string' || !isRef(tenantId) || !isRef(keyId) || !isRef(deploymentId) || !isRef(connectorId)) return undefined;
  if (!(aliasId === undefined || aliasId === null || isRef(aliasId))) return undefined;
  if (!PROTOCOLS.has(protocol) || typeof stream !== 'boolean') return undefined;
  if (!(Number.isSafeInteger(status) && (status as number) >= 100 && (status as number) <= 599)) return undefined;
  if (!isCount(inputTokens) || !isCount(outputTokens) || !isCount(durationMs) || !(ttftMs === null || isCount(ttftMs))) return undefined;
  if (ats) ats[i] = atMs;
  return {
    id, at, tenantId, keyId, deploymentId, aliasId: aliasId ?? null, connectorId, protocol: protocol as UsageRecord['protocol'], stream,
    status: status as number, inputTokens, outputTokens, ttftMs, durationMs,
  };
}

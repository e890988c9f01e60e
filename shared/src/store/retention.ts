import { z } from 'zod';

/**
 * How long usage is kept: raw records (one per request, needed only to count a re-sent record once) for
 * `rawMs`, hourly rollups (what queries read) for `rollupMs`. Both counted back from now by the record's `at`.
 */
export interface UsageRetention {
  rawMs: number;
  rollupMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFAULT_USAGE_RETENTION: UsageRetention = { rawMs: 30 * DAY, rollupMs: 400 * DAY };
export const MAX_RETENTION_MS = 3_660 * DAY;

/** `36h`, `30d` → ms; at least 1h, at most 3660d. */
export const retentionSchema = z
  .string()
  .regex(/^\d{1,5}[hd]$/, 'must be a number of hours or days, like 36h or 30d')
  .transform((v) => Number(v.slice(0, -1)) * (v.endsWith('d') ? DAY : HOUR))
  .refine((ms) => ms >= HOUR && ms <= MAX_RETENTION_MS, 'must be between 1h and 3660d');

/** Whether a retention pair makes sense: rollups outlive the raw records they summarise. */
export const retentionIsOrdered = (r: UsageRetention): boolean => r.rollupMs >= r.rawMs;

/** Records whose `at` is before this instant are past the retention (epoch ms). */
export const retentionCutoff = (nowMs: number, keepMs: number): number => nowMs - keepMs;

/** A duration in words for logs and messages: `30d`, `36h`. */
export const formatRetention = (ms: number): string => (ms % DAY === 0 ? `${ms / DAY}d` : `${Math.round(ms / HOUR)}h`);

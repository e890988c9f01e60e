import { z } from 'zod';
import { callerProtocolSchema } from '../protocol/meta.js';
import { StoreValidationError } from './errors.js';
import { ALIAS_MODES, MAX_ALIAS_TARGETS, MAX_ALIAS_WEIGHT, deploymentNameSchema, type AliasTarget, type KeyLimits } from './types.js';
import { USAGE_HOUR_MS, ceilHour, floorHour } from './usage.js';

/**
 * Schemas of what callers hand the store; every store method parses its input here first, so both
 * implementations accept and reject exactly the same values.
 */

/** An ISO 8601 instant; normalised to `Date#toISOString()` form so string order is time order. */
export const instantSchema = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s).toISOString());

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const perMinute = z.number().int().min(1).max(1_000_000_000);
const refId = z.string().min(1).max(128);

export const keyLimitsSchema = z
  .strictObject({ requestsPerMinute: perMinute.optional(), tokensPerMinute: perMinute.optional() })
  .nullable()
  .transform((l): KeyLimits | null => {
    if (!l) return null;
    const out: KeyLimits = {};
    if (l.requestsPerMinute !== undefined) out.requestsPerMinute = l.requestsPerMinute;
    if (l.tokensPerMinute !== undefined) out.tokensPerMinute = l.tokensPerMinute;
    return Object.keys(out).length ? out : null;
  });

/** A dashboard session ended before its cookie expires (logout): until `expiresAt`, the cookie's own expiry. */
export const sessionRevocationSchema = z.object({
  sessionId: z.string().regex(/^ses_[0-9a-f]{16,64}$/, 'must be a session id (ses_ and hex)'),
  tenantId: refId,
  expiresAt: instantSchema,
});
export const sessionIdSchema = sessionRevocationSchema.shape.sessionId;

export const MAX_INVITE_USES = 1_000_000;
export const inviteInputSchema = z.object({
  deploymentId: refId,
  expiresAt: instantSchema,
  maxUses: z.number().int().min(1).max(MAX_INVITE_USES),
});

export const usageRecordSchema = z.object({
  id: refId,
  at: instantSchema,
  tenantId: refId,
  keyId: refId,
  deploymentId: refId,
  aliasId: refId.nullish().transform((v) => v ?? null),
  connectorId: refId,
  protocol: callerProtocolSchema,
  stream: z.boolean(),
  status: z.number().int().min(100).max(599),
  inputTokens: count,
  outputTokens: count,
  ttftMs: count.nullable(),
  durationMs: count,
});
export const MAX_USAGE_BATCH = 10_000;
export const usageBatchSchema = z.array(usageRecordSchema).max(MAX_USAGE_BATCH);

/** One tenant's usage in [from, to): what both usage queries take. */
const tenantRange = { tenantId: refId, from: instantSchema, to: instantSchema };
const toAfterFrom = (q: { from: string; to: string }): boolean => Date.parse(q.to) > Date.parse(q.from);
const TO_AFTER_FROM = { message: 'to must be after from', path: ['to'] };

export const MAX_USAGE_RECORDS_LISTED = 1000;
export const usageRecordQuerySchema = z
  .object({ ...tenantRange, limit: z.number().int().min(1).max(MAX_USAGE_RECORDS_LISTED).default(100) })
  .refine(toAfterFrom, TO_AFTER_FROM);

/** An alias's targets: distinct deployment ids, weights defaulting to 1 (and kept at 1 in ordered mode). */
const aliasTargetsSchema = z
  .array(z.object({ deploymentId: refId, weight: z.number().int().min(1).max(MAX_ALIAS_WEIGHT).optional() }))
  .min(1)
  .max(MAX_ALIAS_TARGETS)
  .refine((ts) => new Set(ts.map((x) => x.deploymentId)).size === ts.length, 'a deployment appears twice');

const toTargets = (mode: (typeof ALIAS_MODES)[number], ts: { deploymentId: string; weight?: number | undefined }[]): AliasTarget[] =>
  ts.map((x) => ({ deploymentId: x.deploymentId, weight: mode === 'weighted' ? (x.weight ?? 1) : 1 }));

export const aliasInputSchema = z
  .object({ tenantId: refId, name: deploymentNameSchema, mode: z.enum(ALIAS_MODES).default('ordered'), targets: aliasTargetsSchema })
  .transform((a) => ({ ...a, targets: toTargets(a.mode, a.targets) }));
export const aliasUpdateSchema = z
  .object({ mode: z.enum(ALIAS_MODES).default('ordered'), targets: aliasTargetsSchema })
  .transform((a) => ({ mode: a.mode, targets: toTargets(a.mode, a.targets) }));

export const MAX_USAGE_BUCKETS = 10_000;
export const usageQuerySchema = z
  .object({
    ...tenantRange,
    bucketMs: z
      .number()
      .int()
      .min(USAGE_HOUR_MS)
      .multipleOf(USAGE_HOUR_MS, 'must be a whole number of hours (usage is kept per hour)'),
    deploymentId: refId.optional(),
    keyId: refId.optional(),
  })
  .refine(toAfterFrom, TO_AFTER_FROM)
  .refine((q) => (ceilHour(Date.parse(q.to)) - floorHour(Date.parse(q.from))) / q.bucketMs <= MAX_USAGE_BUCKETS, {
    message: `at most ${MAX_USAGE_BUCKETS} buckets`,
    path: ['bucketMs'],
  });

/** Parses `value` or throws StoreValidationError naming the first bad field under `what`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [what, ...(issue?.path ?? []).map(String)].join('.');
  throw new StoreValidationError(`invalid ${path}: ${issue?.message ?? 'bad value'}`, path, { cause: result.error });
}

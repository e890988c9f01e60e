import { z } from 'zod';
import {
  ALIAS_MODES, MAX_ALIAS_TARGETS, MAX_ALIAS_WEIGHT, MAX_INVITE_USES, USAGE_HOUR_MS, deploymentNameSchema, entityNameSchema, keyLimitsSchema,
} from '@tokios/shared/store';

/** Request schemas of the admin API (validated by validation.ts before any handler runs). */

export const noQuery = z.strictObject({});
export const idParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id such as key_0123abcd') });

export const loginBody = z.strictObject({ secret: z.string().min(1).max(256) });

export const createTenantBody = z.strictObject({ name: entityNameSchema });

export const createKeyBody = z.strictObject({
  name: entityNameSchema.default('default'),
  limits: keyLimitsSchema.optional(),
});

/** `{}` or `null` clears the limits. */
export const limitsBody = keyLimitsSchema;

export const createDeploymentBody = z.strictObject({ name: deploymentNameSchema });

/** A target as a caller names a model (`name` or `<ownerTenantId>/<name>`): a string, or `{deployment, weight}`. */
const targetName = z.string().min(1).max(320);
const aliasTarget = z
  .union([targetName, z.strictObject({ deployment: targetName, weight: z.number().int().min(1).max(MAX_ALIAS_WEIGHT).optional() })])
  .transform((t) => (typeof t === 'string' ? { deployment: t } : t));
const aliasTargets = z.array(aliasTarget).min(1, 'give at least one target').max(MAX_ALIAS_TARGETS, `at most ${MAX_ALIAS_TARGETS} targets`);
export const createAliasBody = z.strictObject({ name: deploymentNameSchema, mode: z.enum(ALIAS_MODES).optional(), targets: aliasTargets });
export const updateAliasBody = z.strictObject({ mode: z.enum(ALIAS_MODES).optional(), targets: aliasTargets });

const MAX_INVITE_HOURS = 24 * 366;
export const DEFAULT_INVITE_HOURS = 24 * 7;

export const createInviteBody = z
  .strictObject({
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    expiresInHours: z.number().positive().max(MAX_INVITE_HOURS).optional(),
    maxUses: z.number().int().min(1).max(MAX_INVITE_USES).default(1),
  })
  .refine((b) => b.expiresAt === undefined || b.expiresInHours === undefined, { message: 'give expiresAt or expiresInHours, not both', path: ['expiresInHours'] })
  .refine((b) => b.expiresAt === undefined || Date.parse(b.expiresAt) > Date.now(), { message: 'must be in the future', path: ['expiresAt'] })
  .transform((b) => ({
    maxUses: b.maxUses,
    expiresAt: b.expiresAt !== undefined
      ? new Date(b.expiresAt).toISOString()
      : new Date(Date.now() + (b.expiresInHours ?? DEFAULT_INVITE_HOURS) * 3_600_000).toISOString(),
  }));

export const redeemBody = z.strictObject({ code: z.string().min(1).max(256) });

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** `30s`, `5m`, `1h`, `1d` → ms. */
export const durationSchema = z
  .string()
  .regex(/^\d{1,6}[smhd]$/, 'must look like 30s, 5m, 1h or 1d')
  .transform((v) => Number(v.slice(0, -1)) * UNIT_MS[v.at(-1) as keyof typeof UNIT_MS])
  .refine((ms) => ms >= 1_000, 'must be at least 1s');

const instant = z.iso.datetime({ offset: true });
/** Usage is kept per hour, so a range is widened to whole hours by the store and a bucket is whole hours. */
export const usageQuery = z
  .strictObject({
    from: instant.optional(),
    to: instant.optional(),
    bucket: durationSchema.refine((ms) => ms % USAGE_HOUR_MS === 0, 'must be a whole number of hours, like 1h, 6h or 1d (usage is kept per hour)').optional(),
    deploymentId: idParams.shape.id.optional(),
    keyId: idParams.shape.id.optional(),
  })
  .transform((q) => {
    const to = q.to ? new Date(q.to) : new Date(Math.ceil(Date.now() / USAGE_HOUR_MS) * USAGE_HOUR_MS);
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
    return { from: from.toISOString(), to: to.toISOString(), bucketMs: q.bucket ?? 3_600_000, deploymentId: q.deploymentId, keyId: q.keyId };
  });

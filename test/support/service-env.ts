import type { z } from 'zod';
import { ingressEnvSchema } from '@tokios/ingress';
import { terminatorEnvSchema } from '@tokios/terminator';
import { controlEnvSchema } from '@tokios/control';
import { natsEnvSchema } from '@tokios/shared/nats';
import { connectorFileSchema } from '@tokios/connector';

/**
 * The environment each service tier reads, from its config module (the one place those facts live), for tests that
 * check deployment files against them: known variable names, defaults, listen ports.
 */
export const TIERS = ['ingress', 'terminator', 'control'] as const;
export type Tier = (typeof TIERS)[number];

const schemas = { ingress: ingressEnvSchema, terminator: terminatorEnvSchema, control: controlEnvSchema } satisfies Record<Tier, z.ZodObject>;

/** Read outside the schemas: the logger's level (shared/src/log). */
const COMMON = ['LOG_LEVEL'];

export const isTier = (s: string | undefined): s is Tier => (TIERS as readonly string[]).includes(s ?? '');

export function knownEnv(tier: Tier): Set<string> {
  return new Set([...Object.keys(schemas[tier].shape), ...Object.keys(natsEnvSchema.shape), ...COMMON]);
}

/** A variable's default in that tier's schema (undefined when it has none). */
export function envDefault(tier: Tier, key: string): unknown {
  const field = (schemas[tier].shape as Record<string, z.ZodType>)[key];
  if (!field) throw new Error(`${tier} reads no ${key}`);
  const r = field.safeParse(undefined);
  return r.success ? r.data : undefined;
}

/** The variable that holds the tier's listen port, and its default. */
export const PORT_VAR = { ingress: 'TOKIOS_INGRESS_PORT', terminator: 'TOKIOS_TERMINATOR_PORT', control: 'TOKIOS_CONTROL_PORT' } satisfies Record<Tier, string>;

export function defaultPort(tier: Tier): number {
  const p = envDefault(tier, PORT_VAR[tier]);
  if (typeof p !== 'number') throw new Error(`${PORT_VAR[tier]} has no numeric default`);
  return p;
}

/**
 * Variables of the tier that bound how long a stop takes, with their values in ms: a shutdown delay (readiness
 * fails first, the listener stays open), then the drain / shutdown grace. They run one after the other, so a stop
 * may take their sum (`stopMs`).
 */
export function drainSettings(tier: Tier, env: Record<string, string | undefined>): { key: string; ms: number }[] {
  return Object.keys(schemas[tier].shape)
    .filter((k) => /(DRAIN|GRACE|DELAY)_MS$/.test(k))
    .map((key) => ({ key, ms: env[key] !== undefined ? Number(env[key]) : Number(envDefault(tier, key)) }));
}

export function stopMs(tier: Tier, env: Record<string, string | undefined>): { ms: number; what: string } {
  const d = drainSettings(tier, env);
  return { ms: d.reduce((sum, x) => sum + x.ms, 0), what: d.map((x) => `${x.key} ${x.ms}`).join(' + ') || 'no drain' };
}

/** The connector's default drain (tokios.json drain_timeout_ms): streams a tier stop may have to wait for. */
export const connectorDrainMs = (): number => connectorFileSchema.shape.drain_timeout_ms.parse(undefined);

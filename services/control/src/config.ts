import { z } from 'zod';
import { envInt, parseEnv } from '@tokios/shared/config';
import { natsSettingsFromEnv, type NatsSettings } from '@tokios/shared/nats';
import { storeEnvSchema } from '@tokios/shared/store';

export const MIN_ADMIN_TOKEN_CHARS = 24;
export const adminTokenSchema = z
  .string()
  .min(MIN_ADMIN_TOKEN_CHARS, `must be at least ${MIN_ADMIN_TOKEN_CHARS} characters`)
  .max(512)
  .regex(/^\S+$/, 'must not contain spaces');

/** Shared by `tokios control` and `tokios dev` (documented in README "Control plane"). */
export const controlTuningSchema = z.object({
  /** How long a live-status query collects terminator answers. */
  TOKIOS_STATUS_WAIT_MS: envInt(150, 20, 5_000),
  /** Dashboard session lifetime. */
  TOKIOS_SESSION_TTL_S: envInt(12 * 3600, 60, 30 * 86_400),
});

export const controlEnvSchema = storeEnvSchema.extend({
  TOKIOS_CONTROL_HOST: z.string().default('0.0.0.0'),
  TOKIOS_CONTROL_PORT: envInt(8082, 0, 65535),
  TOKIOS_ADMIN_TOKEN: adminTokenSchema,
  /** On SIGTERM, how long /readyz says "draining" before the listener closes (see the ingress's knob). */
  TOKIOS_SHUTDOWN_DELAY_MS: envInt(5_000, 0, 600_000),
  ...controlTuningSchema.shape,
});

export type ControlEnv = z.infer<typeof controlEnvSchema>;

export function controlEnvFromProcess(env: NodeJS.ProcessEnv = process.env): ControlEnv & { nats: NatsSettings } {
  return { ...parseEnv(controlEnvSchema, env, 'control environment'), nats: natsSettingsFromEnv(env) };
}

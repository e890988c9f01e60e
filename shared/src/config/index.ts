import { z } from 'zod';

export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/** Reads and validates environment variables; a bad value fails at startup naming the variable. */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env, what = 'environment'): z.infer<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    input[key] = v === '' ? undefined : v;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid ${what}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Integer from an env string with bounds, e.g. ms or bytes. */
export const envInt = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const envBool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const envUrl = (def: string, protocols: string[]) =>
  z
    .string()
    .default(def)
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL with protocol ${protocols.join(' or ')}`);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

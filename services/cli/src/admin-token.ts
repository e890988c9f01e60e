import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseEnv } from '@tokios/shared/config';
import { adminTokenSchema } from '@tokios/control';
import { keptSecret } from './secret-file.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The dev stack's operator token: TOKIOS_ADMIN_TOKEN when set, else the one kept in `<dataDir>/admin-token`
 * (created once, mode 0600). Returns where it came from so the dev banner can say so.
 */
export async function devAdminToken(env: NodeJS.ProcessEnv, dataDir: string): Promise<{ token: string; file?: string }> {
  if (env.TOKIOS_ADMIN_TOKEN) {
    return { token: parseEnv(z.object({ TOKIOS_ADMIN_TOKEN: adminTokenSchema }), env, 'dev environment').TOKIOS_ADMIN_TOKEN };
  }
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const { value } = await keptSecret(file, () => `ta-tokios-${randomBytes(24).toString('base64url')}`, (s) => adminTokenSchema.safeParse(s).success);
  return { token: value, file };
}

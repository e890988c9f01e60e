import { chmod, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseEnv } from '@tokios/shared/config';
import { adminTokenSchema } from '@tokios/control';

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
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (adminTokenSchema.safeParse(existing).success) {
      await chmod(file, 0o600);
      return { token: existing, file };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const token = `ta-tokios-${randomBytes(24).toString('base64url')}`;
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { token, file };
}

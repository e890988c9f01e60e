import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { storeEnvSchema } from '@tokios/shared/store';
import { parseEnv } from '@tokios/shared/config';
import { natsSettingsFromEnv, tryConnectNats, type NatsConnection } from '@tokios/shared/nats';
import { localBackend, type AdminBackend } from './admin-backend.js';
import { apiBackend } from './admin-api-client.js';
import { NEEDS_NATS } from './admin-commands.js';
import { UsageError } from './admin-options.js';
import { openAdminStore } from './admin-store.js';
import { readDevFile } from './dev-file.js';
import { FABRIC_SECRET_FILE, parseEnvFile, roleEnvFile } from './nats-credentials.js';

/** Where `tokios admin` acts: the admin API (TOKIOS_ADMIN_URL), or the local store plus NATS for broadcasts. */

export interface TextSink {
  write(text: string): unknown;
}

const adminEnvSchema = z.object({
  TOKIOS_ADMIN_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  TOKIOS_ADMIN_TOKEN: z.string().optional(),
  TOKIOS_CONSOLE_SECRET: z.string().optional(),
});

export async function openBackend(env: NodeJS.ProcessEnv, cmd: string, err: TextSink): Promise<AdminBackend> {
  const e = parseEnv(adminEnvSchema, env, 'admin environment');
  if (e.TOKIOS_ADMIN_URL) {
    const token = e.TOKIOS_ADMIN_TOKEN ?? e.TOKIOS_CONSOLE_SECRET;
    if (!token) throw new UsageError('TOKIOS_ADMIN_URL is set: also set TOKIOS_ADMIN_TOKEN (operator) or TOKIOS_CONSOLE_SECRET (tenant)');
    return apiBackend({ url: e.TOKIOS_ADMIN_URL, token, operator: e.TOKIOS_ADMIN_TOKEN !== undefined });
  }
  const storeEnv = parseEnv(storeEnvSchema, env, 'store environment');
  const store = await openAdminStore(storeEnv, env, cmd, err);
  if (!NEEDS_NATS.has(cmd)) return localBackend(store, undefined, undefined);
  try {
    const { nc, fabricSecret } = await adminNats(env, storeEnv.TOKIOS_DATA_DIR);
    return localBackend(store, nc, fabricSecret);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * NATS for `tokios admin` (role admin): NATS_URL with the credentials in the environment, or the NATS of a
 * `tokios dev` on this data dir (its own nats-server, with the admin role's credentials it keeps there) — the dev
 * stack first when NATS_URL is not set, as a fallback when NATS_URL does not answer.
 */
async function adminNats(env: NodeJS.ProcessEnv, dataDir: string): Promise<{ nc: NatsConnection | undefined; fabricSecret: string | undefined }> {
  const fromEnv = async () => {
    const settings = natsSettingsFromEnv(env);
    return { nc: await tryConnectNats(settings, 'tokios-admin', 'admin'), fabricSecret: settings.fabricSecret };
  };
  const fromDev = async () => {
    const dev = await readDevFile(dataDir);
    if (!dev) return { nc: undefined, fabricSecret: undefined };
    const roleEnv = dev.natsDir ? parseEnvFile(await readFile(roleEnvFile(dev.natsDir, 'admin'), 'utf8').catch(() => '')) : {};
    const secret = env.TOKIOS_FABRIC_SECRET || roleEnv.TOKIOS_FABRIC_SECRET || (await readFile(join(dataDir, FABRIC_SECRET_FILE), 'utf8').catch(() => '')).trim() || undefined;
    const settings = natsSettingsFromEnv({ ...roleEnv, TOKIOS_FABRIC_SECRET: secret, NATS_URL: dev.natsUrl });
    return { nc: await tryConnectNats(settings, 'tokios-admin', 'admin'), fabricSecret: settings.fabricSecret };
  };
  const [first, second] = env.NATS_URL ? [fromEnv, fromDev] : [fromDev, fromEnv];
  const r = await first();
  return r.nc ? r : second();
}

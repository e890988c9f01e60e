import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ensureRoleCredentials } from 'tokios';
import { FabricKey } from '@tokios/shared/fabric-auth';
import { clientOptions, natsSettingsFromEnv, renderServerConfig, type NatsRole } from '@tokios/shared/nats';

/** The fabric secret every test service shares (test/support puts it in each service's environment). */
export const TEST_FABRIC_SECRET = 'test-fabric-secret-0123456789abcdef0123456789';
export const testFabricKey = (): FabricKey => new FabricKey(TEST_FABRIC_SECRET);

/** Per-role users and permissions exactly as `tokios nats-config` writes them, and each role's environment. */
export interface NatsAuthSetup {
  config: string;
  roles: Record<NatsRole, Record<string, string>>;
  dir: string;
}

export async function natsAuthSetup(): Promise<NatsAuthSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'tokios-nats-auth-'));
  const creds = await ensureRoleCredentials(dir, 'nkey', TEST_FABRIC_SECRET);
  return { config: renderServerConfig(creds.users), roles: creds.env, dir };
}

/** A test client connected as a role (its credentials, inbox prefix), or without credentials. */
export async function connectAs(url: string, roleEnv: Record<string, string> | undefined, role?: NatsRole): Promise<NatsConnection> {
  const settings = natsSettingsFromEnv({ NATS_URL: url, TOKIOS_FABRIC_SECRET: TEST_FABRIC_SECRET, ...(roleEnv ?? {}) });
  return connect({ ...clientOptions(settings, `test-${role ?? 'anonymous'}`, role), servers: url, timeout: 2_000 });
}

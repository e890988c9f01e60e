import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { Logger } from '@tokios/shared/log';
import { natsSettingsFromEnv, renderServerConfig, tryConnectNats, type NatsRole } from '@tokios/shared/nats';
import { ensureRoleCredentials } from './nats-credentials.js';
import { NATS_CONFIG_FILE } from './nats-config-cmd.js';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalNats {
  url: string;
  /** Each role's NATS credentials and fabric secret, as environment variables. */
  roles: Record<NatsRole, Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * The dev stack's own nats-server on a free local port, with the same per-role users and permissions as
 * `tokios nats-config` (credentials kept in `dir`, so `tokios admin` on the data dir can use the admin role).
 */
export async function startLocalNats(dir: string, fabricSecret: string, log: Logger): Promise<LocalNats> {
  const creds = await ensureRoleCredentials(dir, 'nkey', fabricSecret);
  const port = await freePort();
  const conf = join(dir, NATS_CONFIG_FILE);
  await writeFile(conf, renderServerConfig(creds.users, { listen: `127.0.0.1:${port}` }), { mode: 0o600 });
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
  log.info({ port, config: conf }, `starting ${bin} with per-role users and permissions`);
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message} (install nats-server, set NATS_SERVER_BIN, or set NATS_URL)`)));
    child.once('exit', (code) => reject(new Error(`${bin} exited with code ${code}: ${stderr.trim().slice(-500)}`)));
  });
  failed.catch(() => undefined);
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const url = `nats://127.0.0.1:${port}`;
  const admin = natsSettingsFromEnv({ NATS_URL: url, ...creds.env.admin });
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const nc = await Promise.race([tryConnectNats(admin, 'tokios-dev-probe', 'admin', 500), failed]);
      if (nc) {
        await nc.close();
        break;
      }
      if (Date.now() > deadline) throw new Error(`${bin} did not start listening on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, roles: creds.env, stop };
}

import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { writeFile, mkdir } from 'node:fs/promises';
import { NATS_ROLES, renderServerConfig } from '@tokios/shared/nats';
import { AUTH_MODES, FABRIC_SECRET_FILE, ensureRoleCredentials, roleEnvFile, type AuthMode } from './nats-credentials.js';

export const NATS_CONFIG_FILE = 'nats-auth.conf';

export const NATS_CONFIG_USAGE = `tokios nats-config [--dir DIR] [--auth nkey|password] [--listen HOST:PORT]

Writes, into DIR (default ./nats):
  ${NATS_CONFIG_FILE}     nats-server users, one per role (ingress, terminator, control, admin), each allowed only
                     its subjects; no secrets inside (nkey public keys or bcrypt hashes). Run it as is
                     (nats-server -c ${NATS_CONFIG_FILE}) or include it from your cluster config.
  <role>.env         that role's credentials (NATS_NKEY_SEED, or NATS_USER/NATS_PASSWORD) and TOKIOS_FABRIC_SECRET,
                     mode 0600: a service's env_file / Kubernetes Secret
  ${FABRIC_SECRET_FILE}      the shared secret that signs control events, presence and quota deltas

Credentials already in DIR are kept (write your own <role>.env to choose them); missing ones are generated.
  --auth nkey        (default) nkeys: the server config holds public keys only
  --auth password    users tokios-<role> with passwords (bcrypt-hashed in the server config)
  --listen H:P       add a listen address, for a standalone server
See docs/SECURITY.md ("services <-> NATS").`;

export async function runNatsConfigCommand(argv: string[], out: { write(s: string): unknown } = process.stdout, err: { write(s: string): unknown } = process.stderr): Promise<number> {
  let v;
  try {
    v = parseArgs({ args: argv, options: { dir: { type: 'string' }, auth: { type: 'string' }, listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${NATS_CONFIG_USAGE}\n`);
    return 2;
  }
  if (v.help) {
    out.write(`${NATS_CONFIG_USAGE}\n`);
    return 0;
  }
  const mode = (v.auth ?? 'nkey') as AuthMode;
  if (!AUTH_MODES.includes(mode)) {
    err.write(`--auth must be nkey or password\n\n${NATS_CONFIG_USAGE}\n`);
    return 2;
  }
  if (v.listen !== undefined && !/^[A-Za-z0-9.:[\]-]+:\d{1,5}$/.test(v.listen)) {
    err.write(`--listen must be HOST:PORT\n`);
    return 2;
  }
  const dir = resolve(v.dir ?? 'nats');
  await mkdir(dir, { recursive: true });
  const creds = await ensureRoleCredentials(dir, mode);
  const conf = join(dir, NATS_CONFIG_FILE);
  await writeFile(conf, renderServerConfig(creds.users, v.listen ? { listen: v.listen } : {}), { mode: 0o644 });
  out.write(
    `wrote ${conf}\n` +
      NATS_ROLES.map((r) => `wrote ${roleEnvFile(dir, r)}  (credentials of the ${r} role, TOKIOS_FABRIC_SECRET)\n`).join('') +
      `start NATS with: nats-server -c ${conf}   (or include it from your cluster config)\n`,
  );
  return 0;
}

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { createUser, fromSeed } from 'nkeys.js';
import { MIN_FABRIC_SECRET_CHARS, NATS_ROLES, type AuthorizedUser, type NatsRole } from '@tokios/shared/nats';
import { keptSecret, writeSecretFile } from './secret-file.js';

export const AUTH_MODES = ['nkey', 'password'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const FABRIC_SECRET_FILE = 'fabric-secret';
export const roleEnvFile = (dir: string, role: NatsRole): string => join(dir, `${role}.env`);

/** `KEY=value` lines (comments and blank lines skipped), as docker's env_file and `tokios dev` read them. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

async function readEnvFile(file: string): Promise<Record<string, string> | undefined> {
  try {
    return parseEnvFile(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const newSecret = (): string => randomBytes(32).toString('hex');
const validSecret = (s: string): boolean => s.length >= MIN_FABRIC_SECRET_CHARS && /^\S+$/.test(s);

/** `<dir>/fabric-secret`: kept when present, else generated (64 hex characters). */
export async function fabricSecretFile(dir: string): Promise<{ value: string; file: string }> {
  const file = join(dir, FABRIC_SECRET_FILE);
  return { value: (await keptSecret(file, newSecret, validSecret)).value, file };
}

export interface RoleCredentials {
  /** What the role's services put in their environment (NATS_* credentials and TOKIOS_FABRIC_SECRET). */
  env: Record<NatsRole, Record<string, string>>;
  /** The nats-server side of the same credentials (no secrets). */
  users: AuthorizedUser[];
  fabricSecret: string;
}

/** A role's credentials from its env file when usable in this mode ("given"), else new ones. */
function credentialsFor(role: NatsRole, mode: AuthMode, given: Record<string, string> | undefined): Record<string, string> {
  if (mode === 'nkey') {
    const seed = given?.NATS_NKEY_SEED;
    if (seed && /^SU[A-Z2-7]{56}$/.test(seed)) return { NATS_NKEY_SEED: seed };
    return { NATS_NKEY_SEED: new TextDecoder().decode(createUser().getSeed()) };
  }
  if (given?.NATS_USER && given.NATS_PASSWORD) return { NATS_USER: given.NATS_USER, NATS_PASSWORD: given.NATS_PASSWORD };
  return { NATS_USER: `tokios-${role}`, NATS_PASSWORD: randomBytes(24).toString('base64url') };
}

function serverUser(role: NatsRole, creds: Record<string, string>): AuthorizedUser {
  if (creds.NATS_NKEY_SEED) return { role, nkey: fromSeed(new TextEncoder().encode(creds.NATS_NKEY_SEED)).getPublicKey() };
  return { role, user: creds.NATS_USER!, passwordHash: bcrypt.hashSync(creds.NATS_PASSWORD!, 11) };
}

/**
 * Per-role NATS credentials kept in `<dir>/<role>.env` (mode 0600; each also carries the shared
 * TOKIOS_FABRIC_SECRET, so a container's env_file is all a service needs). Credentials already in a role's file
 * are kept (put your own there to choose them); missing ones are generated.
 */
export async function ensureRoleCredentials(dir: string, mode: AuthMode, fabricSecret?: string): Promise<RoleCredentials> {
  const secret = fabricSecret ?? (await fabricSecretFile(dir)).value;
  const env = {} as Record<NatsRole, Record<string, string>>;
  const users: AuthorizedUser[] = [];
  for (const role of NATS_ROLES) {
    const creds = credentialsFor(role, mode, await readEnvFile(roleEnvFile(dir, role)));
    env[role] = { ...creds, TOKIOS_FABRIC_SECRET: secret };
    users.push(serverUser(role, creds));
    const lines = Object.entries(env[role]).map(([k, v]) => `${k}=${v}`);
    await writeSecretFile(roleEnvFile(dir, role), `# NATS credentials of the ${role} role (tokios nats-config); keep secret\n${lines.join('\n')}\n`);
  }
  return { env, users, fabricSecret: secret };
}

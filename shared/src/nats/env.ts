import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fromSeed } from 'nkeys.js';
import { parseEnv } from '../config/index.js';
import { DEFAULT_NATS_URL, parseServers, type NatsServerUrl } from './servers.js';

/** How a service proves who it is to NATS (exactly one way, or none). Secrets never reach a log line. */
export type NatsAuth =
  | { kind: 'none' }
  | { kind: 'creds'; creds: Uint8Array }
  | { kind: 'nkey'; seed: Uint8Array }
  | { kind: 'user'; user: string; pass: string }
  | { kind: 'token'; token: string };

/** PEM contents read at startup; present → the client requires TLS. */
export interface NatsTls {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface NatsSettings {
  servers: NatsServerUrl[];
  auth: NatsAuth;
  tls: NatsTls | undefined;
  /** Key of the fabric message signatures (shared/src/fabric-auth); undefined → unsigned, with a warning. */
  fabricSecret: string | undefined;
}

export const MIN_FABRIC_SECRET_CHARS = 32;
const USER_SEED = /^SU[A-Z2-7]{56}$/;

/** Reads a file named by a variable; unreadable → an issue on that variable. */
function readable(v: string, ctx: z.RefinementCtx): string {
  try {
    return readFileSync(v, 'utf8');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${v}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return z.NEVER;
  }
}

function validSeed(seed: string): boolean {
  if (!USER_SEED.test(seed)) return false;
  try {
    fromSeed(new TextEncoder().encode(seed));
    return true;
  } catch {
    return false;
  }
}

const fileContents = z.string().transform(readable);

const pem = (what: string) =>
  fileContents.refine((s) => s.includes('-----BEGIN '), `is not a PEM file (${what})`);

/** A creds file (`nsc generate creds`): a user JWT block and a user seed block. */
const credsFile = fileContents.refine((s) => {
  const seed = /-----BEGIN USER NKEY SEED-----\s*\n\s*(\S+)/.exec(s)?.[1];
  return /-----BEGIN NATS USER JWT-----\s*\n\s*\S+/.test(s) && seed !== undefined && validSeed(seed);
}, 'is not a NATS creds file (a user JWT and a user nkey seed)');

/** A user nkey seed (`SU…`) given as the value itself, or the path of a file that holds one. */
const nkeySeed = z.string().transform((v, ctx) => {
  let seed = v.trim();
  if (!USER_SEED.test(seed)) {
    try {
      seed = readFileSync(v, 'utf8').trim();
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is neither a user nkey seed (SU…) nor a readable file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return z.NEVER;
    }
  }
  if (!validSeed(seed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a user nkey seed (SU…) or the path of a file holding one' });
    return z.NEVER;
  }
  return seed;
});

const AUTH_VARS = ['NATS_CREDS', 'NATS_NKEY_SEED', 'NATS_USER', 'NATS_TOKEN'] as const;

/**
 * The NATS connection settings every service reads (README "Services: environment"; docs/SECURITY.md). Files are
 * read and checked here, at startup, so a bad value stops the service with the variable's name.
 */
export const natsEnvSchema = z
  .object({
    NATS_URL: z
      .string()
      .default(DEFAULT_NATS_URL)
      .transform((v, ctx) => {
        try {
          return parseServers(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    NATS_CREDS: credsFile.optional(),
    NATS_NKEY_SEED: nkeySeed.optional(),
    NATS_USER: z.string().max(1024).regex(/^\S+$/, 'must not contain spaces').optional(),
    NATS_PASSWORD: z.string().max(1024).optional(),
    NATS_TOKEN: z.string().max(4096).regex(/^\S+$/, 'must not contain spaces').optional(),
    NATS_TLS_CA: pem('the CA certificates that sign the NATS servers').optional(),
    NATS_TLS_CERT: pem('this client\'s certificate').optional(),
    NATS_TLS_KEY: pem('this client\'s private key').optional(),
    TOKIOS_FABRIC_SECRET: z
      .string()
      .min(MIN_FABRIC_SECRET_CHARS, `must be at least ${MIN_FABRIC_SECRET_CHARS} characters (e.g. openssl rand -hex 32)`)
      .max(1024)
      .regex(/^\S+$/, 'must not contain spaces')
      .optional(),
  })
  .superRefine((e, ctx) => {
    const set = AUTH_VARS.filter((k) => e[k] !== undefined);
    if (set.length > 1) {
      ctx.addIssue({ code: 'custom', path: [set[1]!], message: `set only one way to authenticate to NATS, not both ${set[0]} and ${set[1]}` });
    }
    if (e.NATS_USER !== undefined && e.NATS_PASSWORD === undefined) ctx.addIssue({ code: 'custom', path: ['NATS_PASSWORD'], message: 'is required with NATS_USER' });
    if (e.NATS_PASSWORD !== undefined && e.NATS_USER === undefined) ctx.addIssue({ code: 'custom', path: ['NATS_USER'], message: 'is required with NATS_PASSWORD' });
    if ((e.NATS_TLS_CERT === undefined) !== (e.NATS_TLS_KEY === undefined)) {
      ctx.addIssue({ code: 'custom', path: [e.NATS_TLS_CERT === undefined ? 'NATS_TLS_CERT' : 'NATS_TLS_KEY'], message: 'NATS_TLS_CERT and NATS_TLS_KEY go together (client certificate and its key)' });
    }
    if (set.length > 0 && e.TOKIOS_FABRIC_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKIOS_FABRIC_SECRET'],
        message: `is required when NATS credentials are set (${set[0]}): the same secret on every service signs control events, presence and quota deltas (docs/SECURITY.md)`,
      });
    }
  });

export type NatsEnv = z.infer<typeof natsEnvSchema>;

function authOf(e: NatsEnv): NatsAuth {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (e.NATS_CREDS !== undefined) return { kind: 'creds', creds: enc(e.NATS_CREDS) };
  if (e.NATS_NKEY_SEED !== undefined) return { kind: 'nkey', seed: enc(e.NATS_NKEY_SEED) };
  if (e.NATS_USER !== undefined) return { kind: 'user', user: e.NATS_USER, pass: e.NATS_PASSWORD ?? '' };
  if (e.NATS_TOKEN !== undefined) return { kind: 'token', token: e.NATS_TOKEN };
  return { kind: 'none' };
}

/** NATS settings from the environment; a bad value throws a ConfigError naming the variable. */
export function natsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NatsSettings {
  const e = parseEnv(natsEnvSchema, env, 'NATS environment');
  const wantTls = e.NATS_TLS_CA !== undefined || e.NATS_TLS_CERT !== undefined || e.NATS_URL.some((s) => s.tls);
  const tls: NatsTls | undefined = wantTls
    ? { ...(e.NATS_TLS_CA !== undefined && { ca: e.NATS_TLS_CA }), ...(e.NATS_TLS_CERT !== undefined && { cert: e.NATS_TLS_CERT, key: e.NATS_TLS_KEY }) }
    : undefined;
  return { servers: e.NATS_URL, auth: authOf(e), tls, fabricSecret: e.TOKIOS_FABRIC_SECRET };
}

/** For log lines: which way, never the secret itself. */
export function describeAuth(auth: NatsAuth): string {
  switch (auth.kind) {
    case 'none':
      return 'no credentials';
    case 'creds':
      return 'creds file (NATS_CREDS)';
    case 'nkey':
      return 'nkey (NATS_NKEY_SEED)';
    case 'user':
      return `user ${auth.user} (NATS_USER)`;
    case 'token':
      return 'token (NATS_TOKEN)';
  }
}

import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../codec/sha256.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const API_KEY_PREFIX = 'sk-tokios-';
export const TUNNEL_TOKEN_PREFIX = 'tt-tokios-';
export const CONSOLE_SECRET_PREFIX = 'tc-tokios-';
export const INVITE_CODE_PREFIX = 'ti-tokios-';
/** Characters of a secret kept in clear for display (prefix + 4). */
export const DISPLAY_CHARS = 14;

function randomText(n: number): string {
  // 62^n with rejection sampling keeps the distribution uniform.
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export function newSecret(prefix: string): string {
  return prefix + randomText(40);
}

/** Secrets are 238 random bits, so one fast hash is enough (no salt/KDF needed for brute-force resistance). */
export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

export function newId(kind: 'ten' | 'key' | 'dep' | 'tok' | 'inv' | 'shr' | string): string {
  return `${kind}_${randomBytes(8).toString('hex')}`;
}

export const nowIso = (): string => new Date().toISOString();

/** Where a store reads the time; tests pass a controllable one. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

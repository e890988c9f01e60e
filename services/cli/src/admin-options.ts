import type { KeyLimits } from '@tokios/shared/store';
import { DEFAULT_INVITE_HOURS, durationSchema, type AliasInput } from '@tokios/control';

/** Parsing and checking `tokios admin` options: a bad one is a UsageError naming the flag (exit 2, usage shown). */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const need = (v: string | undefined, flag: string): string => {
  if (!v) throw new UsageError(`missing --${flag}`);
  return v;
};
export const arg = (v: string | undefined, name: string): string => {
  if (!v) throw new UsageError(`missing ${name}`);
  return v;
};
function perMinute(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v) || Number(v) < 1) throw new UsageError(`--${flag} must be a whole number >= 1`);
  return Number(v);
}

export type Opts = Record<string, string | string[] | boolean | undefined>;
export const s = (o: Opts, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);

export function limitsFrom(o: Opts): KeyLimits | null {
  const rpm = perMinute(s(o, 'rpm'), 'rpm');
  const tpm = perMinute(s(o, 'tpm'), 'tpm');
  const l: KeyLimits = {};
  if (rpm !== undefined) l.requestsPerMinute = rpm;
  if (tpm !== undefined) l.tokensPerMinute = tpm;
  return Object.keys(l).length ? l : null;
}

/** `--target` (repeated, in order) and `--weights 3,1` (one per target: a weighted set). */
export function aliasFrom(o: Opts): AliasInput {
  const targets = Array.isArray(o.target) ? o.target.filter((x): x is string => typeof x === 'string') : [];
  if (targets.length === 0) throw new UsageError('missing --target (give one per deployment, in order)');
  const raw = s(o, 'weights');
  if (raw === undefined) return { mode: 'ordered', targets: targets.map((deployment) => ({ deployment })) };
  const weights = raw.split(',');
  if (weights.length !== targets.length || !weights.every((w) => /^\d{1,4}$/.test(w) && Number(w) >= 1)) {
    throw new UsageError(`--weights must be ${targets.length} whole numbers >= 1, one per --target, like 3,1`);
  }
  return { mode: 'weighted', targets: targets.map((deployment, i) => ({ deployment, weight: Number(weights[i]) })) };
}

export function inviteFrom(o: Opts): { expiresAt: string; maxUses: number } {
  const at = s(o, 'expires-at');
  const inRaw = s(o, 'expires-in');
  if (at && inRaw) throw new UsageError('give --expires-at or --expires-in, not both');
  let expiresAt: string;
  if (at) {
    const t = Date.parse(at);
    if (Number.isNaN(t)) throw new UsageError('--expires-at must be an ISO 8601 instant');
    expiresAt = new Date(t).toISOString();
  } else {
    const d = durationSchema.safeParse(inRaw ?? `${DEFAULT_INVITE_HOURS}h`);
    if (!d.success) throw new UsageError(`--expires-in ${d.error.issues[0]?.message ?? 'is invalid'}`);
    expiresAt = new Date(Date.now() + d.data).toISOString();
  }
  if (Date.parse(expiresAt) <= Date.now()) throw new UsageError('the invite must expire in the future');
  const mu = s(o, 'max-uses');
  if (mu !== undefined && !/^\d{1,7}$/.test(mu)) throw new UsageError('--max-uses must be a whole number');
  return { expiresAt, maxUses: mu === undefined ? 1 : Number(mu) };
}

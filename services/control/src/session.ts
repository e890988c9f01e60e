import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Tenant } from '@tokios/shared/store';

export const SESSION_COOKIE = 'tokios_session';

/**
 * Dashboard sessions: a signed cookie `<tenantId>.<expiresUnixSec>.<mac>`, HttpOnly, SameSite=Strict.
 * The MAC covers the tenant's current console-secret hash, so rotating the secret ends every session; nothing is
 * stored server-side and any control replica with the same key verifies it.
 */
export class SessionSigner {
  constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {}

  /** Derives the signing key from the admin token, so replicas sharing the token share sessions. */
  static fromAdminToken(adminToken: string, ttlSeconds: number): SessionSigner {
    return new SessionSigner(createHmac('sha256', adminToken).update('tokios dashboard session v1').digest(), ttlSeconds);
  }

  sign(tenant: Tenant, now = Date.now()): string {
    const exp = Math.floor(now / 1000) + this.ttlSeconds;
    return `${tenant.id}.${exp}.${this.mac(tenant, exp)}`;
  }

  /** The tenant id a cookie claims, before the tenant is loaded (undefined when it is malformed or expired). */
  claim(cookie: string, now = Date.now()): { tenantId: string; exp: number; mac: string } | undefined {
    const m = /^([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!m) return undefined;
    const exp = Number(m[2]);
    if (exp * 1000 <= now) return undefined;
    return { tenantId: m[1]!, exp, mac: m[3]! };
  }

  /** True when the claim was signed for this tenant and its current console secret. */
  verify(claim: { exp: number; mac: string }, tenant: Tenant): boolean {
    if (!tenant.console) return false;
    const want = Buffer.from(this.mac(tenant, claim.exp));
    const got = Buffer.from(claim.mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private mac(tenant: Tenant, exp: number): string {
    return createHmac('sha256', this.key).update(`${tenant.id}|${exp}|${tenant.console?.hash ?? ''}`).digest('base64url');
  }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

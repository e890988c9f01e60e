import { createHmac, timingSafeEqual } from 'node:crypto';
import { newId, type Tenant } from '@tokios/shared/store';

export const SESSION_COOKIE = 'tokios_session';

/** What a well-formed, unexpired cookie claims (its MAC not checked yet: verify()). */
export interface SessionClaim {
  tenantId: string;
  /** Names the session for logout: the store's revocation list holds it until `exp`. */
  sessionId: string;
  /** Unix seconds. */
  exp: number;
  mac: string;
}

/**
 * Dashboard sessions: a signed cookie `<tenantId>.<sessionId>.<expiresUnixSec>.<mac>`, HttpOnly, SameSite=Strict.
 * The MAC covers the tenant's current console-secret hash, so rotating the secret ends every session; any control
 * replica with the same key verifies it. Logout revokes the session id in the store until the cookie's expiry (the
 * only server-side state: one entry per logout, checked on each cookie request).
 */
export class SessionSigner {
  constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {}

  /** Derives the signing key from the admin token, so replicas sharing the token share sessions. */
  static fromAdminToken(adminToken: string, ttlSeconds: number): SessionSigner {
    // v2: the cookie names its session (v1 cookies, without one, no longer verify: their holders log in again).
    return new SessionSigner(createHmac('sha256', adminToken).update('tokios dashboard session v2').digest(), ttlSeconds);
  }

  sign(tenant: Tenant, now = Date.now()): string {
    const exp = Math.floor(now / 1000) + this.ttlSeconds;
    const sessionId = newId('ses');
    return `${tenant.id}.${sessionId}.${exp}.${this.mac(tenant, sessionId, exp)}`;
  }

  /** What a cookie claims, before the tenant is loaded (undefined when it is malformed or expired). */
  claim(cookie: string, now = Date.now()): SessionClaim | undefined {
    const m = /^([A-Za-z0-9_-]{1,64})\.(ses_[0-9a-f]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
    if (!m) return undefined;
    const exp = Number(m[3]);
    if (exp * 1000 <= now) return undefined;
    return { tenantId: m[1]!, sessionId: m[2]!, exp, mac: m[4]! };
  }

  /** True when the claim was signed for this tenant and its current console secret (revocation: the store's). */
  verify(claim: SessionClaim, tenant: Tenant): boolean {
    if (!tenant.console || claim.tenantId !== tenant.id) return false;
    const want = Buffer.from(this.mac(tenant, claim.sessionId, claim.exp));
    const got = Buffer.from(claim.mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private mac(tenant: Tenant, sessionId: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${tenant.id}|${sessionId}|${exp}|${tenant.console?.hash ?? ''}`).digest('base64url');
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

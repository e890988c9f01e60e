import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CONSOLE_SECRET_PREFIX, type Tenant } from '@tokios/shared/store';
import { ControlError } from './errors.js';
import type { ControlOps } from './ops.js';
import { operatorScope, type Scope } from './scope.js';
import { SESSION_COOKIE, readCookie, type SessionClaim, type SessionSigner } from './session.js';

/** Header the dashboard sends on every call; cookie-authenticated changes without it are refused (CSRF). */
export const DASHBOARD_HEADER = 'x-tokios-dashboard';
/** Header with which the operator acts as one tenant on tenant routes. */
export const TENANT_HEADER = 'x-tokios-tenant';

export interface Authenticator {
  /** Operator routes: only `Authorization: Bearer <TOKIOS_ADMIN_TOKEN>`. */
  operator(request: FastifyRequest): void;
  /** Tenant routes: console secret bearer, dashboard session cookie, or the operator (+ x-tokios-tenant). */
  tenant(request: FastifyRequest): Promise<Scope>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(h);
  if (!m) throw new ControlError('unauthorized', 'Send Authorization: Bearer <token>.', { field: 'header.authorization' });
  return m[1];
}

/** The request's session cookie when it is well-formed, unexpired and signed for its tenant's current secret. */
export async function verifiedSession(ops: ControlOps, sessions: SessionSigner, request: FastifyRequest): Promise<{ claim: SessionClaim; tenant: Tenant } | undefined> {
  const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
  const claim = cookie ? sessions.claim(cookie) : undefined;
  const tenant = claim ? await ops.store.getTenant(claim.tenantId) : null;
  return claim && tenant && sessions.verify(claim, tenant) ? { claim, tenant } : undefined;
}

export function createAuthenticator(ops: ControlOps, adminToken: string, sessions: SessionSigner): Authenticator {
  const adminDigest = digest(adminToken);
  const isAdmin = (token: string): boolean => timingSafeEqual(digest(token), adminDigest);

  return {
    operator(request) {
      const token = bearer(request);
      if (!token) throw new ControlError('unauthorized', 'This route needs the operator token (TOKIOS_ADMIN_TOKEN).', { field: 'header.authorization' });
      if (!isAdmin(token)) {
        throw token.startsWith(CONSOLE_SECRET_PREFIX)
          ? new ControlError('forbidden', 'This route needs the operator token, not a console secret.')
          : new ControlError('unauthorized', 'Invalid operator token.', { field: 'header.authorization' });
      }
    },

    async tenant(request) {
      const token = bearer(request);
      if (token !== undefined) {
        if (isAdmin(token)) {
          const named = request.headers[TENANT_HEADER];
          if (typeof named !== 'string' || named === '') return operatorScope();
          const t = await ops.store.getTenant(named);
          if (!t) throw new ControlError('not_found', `No tenant ${named}.`, { field: `header.${TENANT_HEADER}` });
          return operatorScope(t.id);
        }
        const tenant = token.startsWith(CONSOLE_SECRET_PREFIX) ? await ops.store.findTenantBySecret(token) : null;
        if (!tenant) throw new ControlError('unauthorized', 'Invalid console secret.', { field: 'header.authorization' });
        return { tenantId: tenant.id, via: 'console' };
      }
      const session = await verifiedSession(ops, sessions, request);
      if (!session || (await ops.store.isSessionRevoked(session.claim.sessionId))) {
        throw new ControlError('unauthorized', 'Log in with the console secret, or send Authorization: Bearer <console secret>.');
      }
      const { tenant } = session;
      const safe = request.method === 'GET' || request.method === 'HEAD';
      if (!safe && request.headers[DASHBOARD_HEADER] !== '1') {
        throw new ControlError('forbidden', `Changes made with a session cookie must carry the ${DASHBOARD_HEADER} header.`);
      }
      return { tenantId: tenant.id, via: 'session' };
    },
  };
}

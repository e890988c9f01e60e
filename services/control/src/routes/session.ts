import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONSOLE_SECRET_PREFIX } from '@tokios/shared/store';
import { ControlError } from '../errors.js';
import { loginBody, noQuery } from '../schemas.js';
import { sessionCookie } from '../session.js';
import { verifiedSession } from '../auth.js';
import { scopeOf, type RouteContext } from '../context.js';
import { tenantView } from '../views.js';

const isHttps = (r: FastifyRequest): boolean => r.protocol === 'https' || r.headers['x-forwarded-proto'] === 'https';

/** Dashboard login (console secret → signed HttpOnly cookie), logout, and who am I. */
export function sessionRoutes(app: FastifyInstance, ctx: RouteContext, tenantAuth: (r: FastifyRequest) => Promise<void>): void {
  app.post('/session', { schema: { body: loginBody } }, async (request, reply) => {
    const { secret } = request.body as { secret: string };
    const tenant = secret.startsWith(CONSOLE_SECRET_PREFIX) ? await ctx.ops.store.findTenantBySecret(secret) : null;
    if (!tenant) throw new ControlError('unauthorized', 'Invalid console secret.', { field: 'body.secret' });
    reply.header('set-cookie', sessionCookie(ctx.sessions.sign(tenant), ctx.sessions.ttlSeconds, isHttps(request)));
    return { tenant: tenantView(tenant) };
  });

  // Logout ends the session on the server too: its id is revoked until the cookie would have expired, so a copy of
  // the cookie (another tab, a leaked value) stops working on every replica. A cookie that does not verify is only
  // cleared: nothing unsigned is ever written to the store.
  app.delete('/session', { schema: { querystring: noQuery } }, async (request, reply) => {
    reply.header('set-cookie', sessionCookie('', 0, isHttps(request)));
    const session = await verifiedSession(ctx.ops, ctx.sessions, request);
    if (session) {
      const { claim } = session;
      await ctx.ops.store.revokeSession({ sessionId: claim.sessionId, tenantId: claim.tenantId, expiresAt: new Date(claim.exp * 1000).toISOString() });
    }
    return reply.code(204).send();
  });

  app.get('/me', { schema: { querystring: noQuery }, onRequest: tenantAuth }, async (request) => {
    const scope = scopeOf(request);
    if (scope.tenantId === null) return { tenant: null, via: scope.via };
    return { tenant: tenantView(await ctx.ops.getTenant(scope, scope.tenantId)), via: scope.via };
  });
}

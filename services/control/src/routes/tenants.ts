import type { FastifyInstance } from 'fastify';
import { createTenantBody, idParams, noQuery } from '../schemas.js';
import type { RouteContext } from '../context.js';
import { groupByDeployment, mergeDeployment } from '../status.js';
import { tenantView } from '../views.js';

/** Operator routes (TOKIOS_ADMIN_TOKEN): tenants, console secrets, fleet-wide live status. */
export function tenantRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.addHook('onRequest', async (request) => ctx.auth.operator(request));

  app.post('/tenants', { schema: { body: createTenantBody } }, async (request, reply) => {
    const t = await ctx.ops.createTenant((request.body as { name: string }).name);
    return reply.code(201).send({ tenant: tenantView(t) });
  });

  app.get('/tenants', { schema: { querystring: noQuery } }, async () => ({ data: (await ctx.ops.listTenants()).map(tenantView) }));

  app.post('/tenants/:id/console-secret', { schema: { params: idParams } }, async (request, reply) => {
    const { record, secret } = await ctx.ops.issueConsoleSecret((request.params as { id: string }).id);
    return reply.code(201).send({ tenant: tenantView(record), secret });
  });

  app.get('/status', { schema: { querystring: noQuery } }, async () => {
    const tunnels = await ctx.status.gather();
    if (!tunnels) return { known: false, deployments: {} };
    return {
      known: true,
      terminators: [...new Set(tunnels.map((t) => t.terminatorId))],
      deployments: Object.fromEntries([...groupByDeployment(tunnels)].map(([id, list]) => [id, mergeDeployment(list)])),
    };
  });
}

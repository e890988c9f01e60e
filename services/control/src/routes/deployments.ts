import type { FastifyInstance } from 'fastify';
import { createDeploymentBody, idParams, noQuery } from '../schemas.js';
import { scopeOf, type RouteContext } from '../context.js';
import { deploymentView, tokenView } from '../views.js';

/** Deployments with live status, and their tunnel tokens (secret shown once; revoking closes live tunnels). */
export function deploymentRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const id = (p: unknown): string => (p as { id: string }).id;

  app.get('/deployments', { schema: { querystring: noQuery } }, async (request) => {
    const deps = await ctx.ops.listDeployments(scopeOf(request));
    const live = await ctx.status.forDeployments(deps.map((d) => d.id));
    return { data: deps.map((d) => ({ ...deploymentView(d), status: live.get(d.id) })) };
  });

  app.post('/deployments', { schema: { body: createDeploymentBody } }, async (request, reply) => {
    const d = await ctx.ops.createDeployment(scopeOf(request), (request.body as { name: string }).name);
    return reply.code(201).send({ deployment: deploymentView(d) });
  });

  app.get('/deployments/:id', { schema: { params: idParams } }, async (request) => {
    const d = await ctx.ops.getDeployment(scopeOf(request), id(request.params));
    const live = await ctx.status.forDeployments([d.id]);
    return { deployment: { ...deploymentView(d), status: live.get(d.id) } };
  });

  app.delete('/deployments/:id', { schema: { params: idParams } }, async (request) => ({
    deployment: deploymentView(await ctx.ops.deleteDeployment(scopeOf(request), id(request.params))),
  }));

  app.get('/deployments/:id/tokens', { schema: { params: idParams } }, async (request) => ({
    data: (await ctx.ops.listTokens(scopeOf(request), id(request.params))).map(tokenView),
  }));

  app.post('/deployments/:id/tokens', { schema: { params: idParams } }, async (request, reply) => {
    const { record, secret } = await ctx.ops.createToken(scopeOf(request), id(request.params));
    return reply.code(201).send({ token: tokenView(record), secret });
  });

  app.post('/tokens/:id/revoke', { schema: { params: idParams } }, async (request) => ({
    token: tokenView(await ctx.ops.revokeToken(scopeOf(request), id(request.params))),
  }));
}

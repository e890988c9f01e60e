import type { FastifyInstance } from 'fastify';
import { createAliasBody, idParams, noQuery, updateAliasBody } from '../schemas.js';
import { scopeOf, type RouteContext } from '../context.js';
import { aliasView } from '../views.js';
import type { AliasInput } from '../alias-ops.js';

/** Aliases: a name for an ordered list or weighted set of deployments, with fallback before the first answer byte. */
export function aliasRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const id = (p: unknown): string => (p as { id: string }).id;
  const ops = ctx.ops.aliases;

  app.get('/aliases', { schema: { querystring: noQuery } }, async (request) => {
    const list = await ops.list(scopeOf(request));
    const live = await ctx.status.forDeployments([...new Set(list.flatMap((a) => a.alias.targets.map((t) => t.deploymentId)))]);
    // Per target only whether it is online (a shared target's connectors are its owner's business).
    return {
      data: list.map((a) => {
        const v = aliasView(a);
        return { ...v, targets: v.targets.map((t) => ({ ...t, online: live.get(t.deploymentId)?.online ?? false })) };
      }),
    };
  });

  app.post('/aliases', { schema: { body: createAliasBody } }, async (request, reply) => {
    const { name, ...input } = request.body as AliasInput & { name: string };
    return reply.code(201).send({ alias: aliasView(await ops.create(scopeOf(request), name, input)) });
  });

  app.get('/aliases/:id', { schema: { params: idParams } }, async (request) => ({
    alias: aliasView(await ops.get(scopeOf(request), id(request.params))),
  }));

  app.put('/aliases/:id', { schema: { params: idParams, body: updateAliasBody } }, async (request) => ({
    alias: aliasView(await ops.update(scopeOf(request), id(request.params), request.body as AliasInput)),
  }));

  app.delete('/aliases/:id', { schema: { params: idParams } }, async (request) => {
    const a = await ops.delete(scopeOf(request), id(request.params));
    return { alias: { id: a.id, tenantId: a.tenantId, name: a.name } };
  });
}

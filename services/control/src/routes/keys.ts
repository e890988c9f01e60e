import type { FastifyInstance } from 'fastify';
import type { KeyLimits } from '@tokios/shared/store';
import { createKeyBody, idParams, limitsBody, noQuery } from '../schemas.js';
import { scopeOf, type RouteContext } from '../context.js';
import { keyView } from '../views.js';

/** API keys of the calling tenant: create (secret shown once), list, show, revoke, limits. */
export function keyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const id = (p: unknown): string => (p as { id: string }).id;

  app.get('/keys', { schema: { querystring: noQuery } }, async (request) => ({
    data: (await ctx.ops.listKeys(scopeOf(request))).map(keyView),
  }));

  app.post('/keys', { schema: { body: createKeyBody } }, async (request, reply) => {
    const body = request.body as { name: string; limits?: KeyLimits | null };
    const { record, secret } = await ctx.ops.createKey(scopeOf(request), body);
    return reply.code(201).send({ key: keyView(record), secret });
  });

  app.get('/keys/:id', { schema: { params: idParams } }, async (request) => ({
    key: keyView(await ctx.ops.getKey(scopeOf(request), id(request.params))),
  }));

  app.post('/keys/:id/revoke', { schema: { params: idParams } }, async (request) => ({
    key: keyView(await ctx.ops.revokeKey(scopeOf(request), id(request.params))),
  }));

  app.put('/keys/:id/limits', { schema: { params: idParams, body: limitsBody } }, async (request) => ({
    key: keyView(await ctx.ops.setKeyLimits(scopeOf(request), id(request.params), request.body as KeyLimits | null)),
  }));
}

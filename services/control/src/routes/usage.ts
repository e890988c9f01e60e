import type { FastifyInstance } from 'fastify';
import { usageQuery } from '../schemas.js';
import { scopeOf, type RouteContext } from '../context.js';

/** Usage of the calling tenant's keys: per-bucket requests, tokens and errors, and totals. */
export function usageRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/usage', { schema: { querystring: usageQuery } }, async (request) => {
    const q = request.query as { from: string; to: string; bucketMs: number; deploymentId?: string; keyId?: string };
    return ctx.ops.usage(scopeOf(request), q);
  });
}

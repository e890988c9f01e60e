import type { FastifyPluginAsync } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Store } from '@tokios/shared/store';
import { gatherStatus, onlineDeployments } from '@tokios/shared/control';
import { authenticate } from '../auth.js';
import type { IngressControlPlane } from '../control-plane.js';

export interface ModelsDeps {
  store: Store;
  nc: NatsConnection;
  control: IngressControlPlane;
}

/**
 * GET /models: the caller's deployments (own and shared with it), OpenAI list shape, each with `online`
 * (a live, healthy tunnel exists now). Anthropic clients get the same list in Anthropic's shape.
 */
export const modelsRoutes: FastifyPluginAsync<ModelsDeps> = async (app, deps) => {
  app.get('/models', { config: { protocol: 'openai.chat' } }, async (request, reply) => {
    const caller = await authenticate(request, deps.control.auth);
    const own = await deps.store.listDeployments(caller.tenantId);
    const shared = (await deps.store.listSharedWithTenant(caller.tenantId)).map((s) => s.deployment);
    const all = [...own, ...shared];
    const online = onlineDeployments(await gatherStatus(deps.nc, { deploymentIds: all.map((d) => d.id) }));
    const created = (iso: string) => Math.floor(Date.parse(iso) / 1000);
    if (request.headers['anthropic-version'] !== undefined) {
      return reply.send({
        data: all.map((d) => ({ type: 'model', id: d.name, display_name: d.name, created_at: d.createdAt, online: online.has(d.id) })),
        has_more: false,
        first_id: all[0]?.name ?? null,
        last_id: all.at(-1)?.name ?? null,
      });
    }
    return reply.send({
      object: 'list',
      data: all.map((d) => ({
        id: d.name,
        object: 'model',
        created: created(d.createdAt),
        // A receiver learns that a deployment is shared with it, not who owns it (no tenant ids across tenants).
        owned_by: d.tenantId === caller.tenantId ? 'you' : 'shared',
        online: online.has(d.id),
      })),
    });
  });
};

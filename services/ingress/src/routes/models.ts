import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Deployment, Store } from '@tokios/shared/store';
import { TokiosError } from '@tokios/shared/errors';
import { gatherStatus, onlineDeployments } from '@tokios/shared/control';
import { authenticate, type Caller } from '../auth.js';
import type { IngressControlPlane } from '../control-plane.js';

export interface ModelsDeps {
  store: Store;
  nc: NatsConnection;
  control: IngressControlPlane;
}

/** Longest model id looked up (deployment names are far shorter). */
const MAX_MODEL_ID = 512;

/**
 * GET /models and GET /models/{id}: the caller's deployments (own and shared with it), each with `online` (a live,
 * healthy tunnel exists now), in OpenAI's shape, or in Anthropic's when the caller is an Anthropic client (it sends
 * `anthropic-version` or `x-api-key`), so both SDKs' `models.list()` and `models.retrieve()` parse them. Errors take
 * the same shape (no route config: protocolOf reads the headers).
 */
export const modelsRoutes: FastifyPluginAsync<ModelsDeps> = async (app, deps) => {
  app.get('/models', async (request, reply) => {
    const caller = await authenticate(request, deps.control.auth);
    const all = await visible(deps, caller);
    const online = await onlineOf(deps, all);
    if (isAnthropic(request)) {
      return reply.send({
        data: all.map((d) => anthropicModel(d, online)),
        has_more: false,
        first_id: all[0]?.name ?? null,
        last_id: all.at(-1)?.name ?? null,
      });
    }
    return reply.send({ object: 'list', data: all.map((d) => openaiModel(d, caller, online)) });
  });

  app.get('/models/*', async (request, reply) => {
    const caller = await authenticate(request, deps.control.auth);
    const id = modelId(request);
    const found = (await visible(deps, caller)).find((d) => d.name === id);
    if (found === undefined) throw new TokiosError('model_not_found', 'No deployment of that name.', { param: 'model' });
    const online = await onlineOf(deps, [found]);
    return reply.send(isAnthropic(request) ? anthropicModel(found, online) : openaiModel(found, caller, online));
  });
};

function isAnthropic(request: FastifyRequest): boolean {
  return request.headers['anthropic-version'] !== undefined || request.headers['x-api-key'] !== undefined;
}

function modelId(request: FastifyRequest): string {
  const raw = (request.params as Record<string, string | undefined>)['*'] ?? '';
  if (raw.length === 0 || raw.length > MAX_MODEL_ID) throw new TokiosError('model_not_found', 'No deployment of that name.', { param: 'model' });
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new TokiosError('model_not_found', 'No deployment of that name.', { param: 'model' });
  }
}

async function visible(deps: ModelsDeps, caller: Caller): Promise<Deployment[]> {
  const own = await deps.store.listDeployments(caller.tenantId);
  const shared = (await deps.store.listSharedWithTenant(caller.tenantId)).map((s) => s.deployment);
  return [...own, ...shared];
}

async function onlineOf(deps: ModelsDeps, deployments: Deployment[]): Promise<Set<string>> {
  return onlineDeployments(await gatherStatus(deps.nc, { deploymentIds: deployments.map((d) => d.id) }));
}

function openaiModel(d: Deployment, caller: Caller, online: Set<string>) {
  return {
    id: d.name,
    object: 'model',
    created: Math.floor(Date.parse(d.createdAt) / 1000),
    // A receiver learns that a deployment is shared with it, not who owns it (no tenant ids across tenants).
    owned_by: d.tenantId === caller.tenantId ? 'you' : 'shared',
    online: online.has(d.id),
  };
}

function anthropicModel(d: Deployment, online: Set<string>) {
  return { type: 'model', id: d.name, display_name: d.name, created_at: d.createdAt, online: online.has(d.id) };
}

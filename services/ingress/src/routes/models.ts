import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { NatsConnection } from 'nats';
import type { Store } from '@tokios/shared/store';
import { TokiosError } from '@tokios/shared/errors';
import { gatherStatus, onlineDeployments } from '@tokios/shared/control';
import { authenticate, type Caller } from '../auth.js';
import type { IngressControlPlane } from '../control-plane.js';
import { REQUEST_ID_HEADER } from '../request-id.js';

export interface ModelsDeps {
  store: Store;
  nc: NatsConnection;
  control: IngressControlPlane;
}

/** Longest model id looked up (deployment names are far shorter). */
const MAX_MODEL_ID = 512;

/** One entry of the list: a deployment, or an alias (online when one of its usable targets is). */
interface Listed {
  name: string;
  createdAt: string;
  own: boolean;
  /** The deployments behind the name: itself, or an alias's targets the caller may use. */
  deploymentIds: string[];
}

/**
 * GET /models and GET /models/{id}: the caller's deployments (own and shared with it) and aliases, each with `online` (a live,
 * healthy tunnel exists now), in OpenAI's shape, or in Anthropic's when the caller is an Anthropic client (it sends
 * `anthropic-version` or `x-api-key`), so both SDKs' `models.list()` and `models.retrieve()` parse them. Errors take
 * the same shape (no route config: protocolOf reads the headers).
 */
export const modelsRoutes: FastifyPluginAsync<ModelsDeps> = async (app, deps) => {
  app.get('/models', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
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
    return reply.send({ object: 'list', data: all.map((d) => openaiModel(d, online)) });
  });

  app.get('/models/*', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    const caller = await authenticate(request, deps.control.auth);
    const id = modelId(request);
    const found = (await visible(deps, caller)).find((d) => d.name === id);
    if (found === undefined) throw new TokiosError('model_not_found', 'No deployment of that name.', { param: 'model' });
    const online = await onlineOf(deps, [found]);
    return reply.send(isAnthropic(request) ? anthropicModel(found, online) : openaiModel(found, online));
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

async function visible(deps: ModelsDeps, caller: Caller): Promise<Listed[]> {
  const { tenantId } = caller;
  const own = await deps.store.listDeployments(tenantId);
  const shared = (await deps.store.listSharedWithTenant(tenantId)).map((s) => s.deployment);
  const usable = new Set([...own, ...shared].map((d) => d.id));
  const aliases = await deps.store.listAliases(tenantId);
  // A shared deployment whose name is one of the tenant's aliases is reached only qualified: the alias wins the name.
  const aliased = new Set(aliases.map((a) => a.name));
  return [
    ...[...own, ...shared.filter((d) => !aliased.has(d.name))].map((d) => ({ name: d.name, createdAt: d.createdAt, own: d.tenantId === tenantId, deploymentIds: [d.id] })),
    ...aliases.map((a) => ({
      name: a.name, createdAt: a.createdAt, own: true,
      deploymentIds: a.targets.map((x) => x.deploymentId).filter((id) => usable.has(id)),
    })),
  ];
}

async function onlineOf(deps: ModelsDeps, listed: Listed[]): Promise<Set<string>> {
  return onlineDeployments(await gatherStatus(deps.nc, { deploymentIds: [...new Set(listed.flatMap((l) => l.deploymentIds))] }));
}

const isOnline = (l: Listed, online: Set<string>): boolean => l.deploymentIds.some((id) => online.has(id));

function openaiModel(l: Listed, online: Set<string>) {
  return {
    id: l.name,
    object: 'model',
    created: Math.floor(Date.parse(l.createdAt) / 1000),
    // A receiver learns that a deployment is shared with it, not who owns it (no tenant ids across tenants).
    owned_by: l.own ? 'you' : 'shared',
    online: isOnline(l, online),
  };
}

function anthropicModel(l: Listed, online: Set<string>) {
  return { type: 'model', id: l.name, display_name: l.name, created_at: l.createdAt, online: isOnline(l, online) };
}

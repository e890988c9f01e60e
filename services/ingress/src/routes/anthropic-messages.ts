import type { FastifyPluginAsync } from 'fastify';
import { proxyToDeployment, type ProxyDeps } from '../proxy.js';

/** Anthropic Messages: POST /messages; the key may come as `x-api-key` or `Authorization: Bearer`. */
export const anthropicMessagesRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/messages', { config: { protocol: 'anthropic.messages' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'anthropic.messages', request, reply);
    return reply;
  });
  // Token counting travels the tunnel like any request (`?beta=true` too): the model server counts where it can.
  app.post('/messages/count_tokens', { config: { protocol: 'anthropic.count_tokens' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'anthropic.count_tokens', request, reply);
    return reply;
  });
};

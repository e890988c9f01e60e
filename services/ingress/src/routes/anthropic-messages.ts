import type { FastifyPluginAsync } from 'fastify';
import { proxyToDeployment, type ProxyDeps } from '../proxy.js';

/** Anthropic Messages: POST /messages; the key may come as `x-api-key` or `Authorization: Bearer`. */
export const anthropicMessagesRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/messages', { config: { protocol: 'anthropic.messages' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'anthropic.messages', request, reply);
    return reply;
  });
};

import type { FastifyPluginAsync } from 'fastify';
import { proxyHandler, type ProxyDeps } from '../proxy.js';

/** Anthropic Messages: POST /messages; the key may come as `x-api-key` or `Authorization: Bearer`. */
export const anthropicMessagesRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/messages', { config: { protocol: 'anthropic.messages' } }, proxyHandler(deps, 'anthropic.messages'));
  // Token counting travels the tunnel like any request (`?beta=true` too): the model server counts where it can.
  app.post('/messages/count_tokens', { config: { protocol: 'anthropic.count_tokens' } }, proxyHandler(deps, 'anthropic.count_tokens'));
};

import type { FastifyPluginAsync } from 'fastify';
import { proxyHandler, type ProxyDeps } from '../proxy.js';

/** OpenAI Chat Completions: POST /chat/completions (mounted with and without /v1). */
export const openaiChatRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/chat/completions', { config: { protocol: 'openai.chat' } }, proxyHandler(deps, 'openai.chat'));
};

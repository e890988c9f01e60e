import type { FastifyPluginAsync } from 'fastify';
import { proxyHandler, type ProxyDeps } from '../proxy.js';

/** OpenAI Responses: POST /responses (stateless: no stored responses to GET or continue). */
export const openaiResponsesRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/responses', { config: { protocol: 'openai.responses' } }, proxyHandler(deps, 'openai.responses'));
};

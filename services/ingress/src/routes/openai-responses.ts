import type { FastifyPluginAsync } from 'fastify';
import { proxyToDeployment, type ProxyDeps } from '../proxy.js';

/** OpenAI Responses: POST /responses (stateless: no stored responses to GET or continue). */
export const openaiResponsesRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/responses', { config: { protocol: 'openai.responses' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'openai.responses', request, reply);
    return reply;
  });
};

import type { FastifyPluginAsync } from 'fastify';
import { proxyToDeployment, type ProxyDeps } from '../proxy.js';

/**
 * The OpenAI endpoints editors and RAG tools use besides chat: legacy Completions (`suffix` = fill-in-the-middle
 * autocomplete) and Embeddings. Mounted with and without /v1; translated per upstream by the connector.
 */
export const openaiLegacyRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/completions', { config: { protocol: 'openai.completions' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'openai.completions', request, reply);
    return reply;
  });
  app.post('/embeddings', { config: { protocol: 'openai.embeddings' } }, async (request, reply) => {
    await proxyToDeployment(deps, 'openai.embeddings', request, reply);
    return reply;
  });
};

import type { FastifyPluginAsync } from 'fastify';
import { proxyHandler, type ProxyDeps } from '../proxy.js';

/**
 * The OpenAI endpoints editors and RAG tools use besides chat: legacy Completions (`suffix` = fill-in-the-middle
 * autocomplete) and Embeddings. Mounted with and without /v1; translated per upstream by the connector.
 */
export const openaiLegacyRoutes: FastifyPluginAsync<ProxyDeps> = async (app, deps) => {
  app.post('/completions', { config: { protocol: 'openai.completions' } }, proxyHandler(deps, 'openai.completions'));
  app.post('/embeddings', { config: { protocol: 'openai.embeddings' } }, proxyHandler(deps, 'openai.embeddings'));
};

import type { FastifyRequest } from 'fastify';
import type { CallerProtocol } from '@tokios/shared/protocol';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API surface a route belongs to; decides the shape of its errors. */
    protocol?: CallerProtocol;
  }
}

/** The caller protocol of a request: from its route, or guessed from the path for 404s and early errors. */
export function protocolOf(request: FastifyRequest): CallerProtocol {
  const configured = request.routeOptions?.config?.protocol;
  if (configured) return configured;
  const url = request.url;
  if (url.includes('/messages') || request.headers['anthropic-version'] !== undefined || request.headers['x-api-key'] !== undefined) return 'anthropic.messages';
  if (url.includes('/responses')) return 'openai.responses';
  return 'openai.chat';
}

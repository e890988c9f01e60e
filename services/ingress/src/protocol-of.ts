import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { CallerProtocol } from '@tokios/shared/protocol';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The API surface a route belongs to; decides the shape of its errors. */
    protocol?: CallerProtocol;
  }
}

/** The caller protocol guessed from the path and headers alone (404s, early errors, a process still starting). */
export function protocolOfPath(url: string, headers: IncomingHttpHeaders): CallerProtocol {
  if (url.includes('/messages') || headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined) return 'anthropic.messages';
  if (url.includes('/responses')) return 'openai.responses';
  return 'openai.chat';
}

/** The caller protocol of a request: from its route, or guessed from the path. */
export function protocolOf(request: FastifyRequest): CallerProtocol {
  return request.routeOptions?.config?.protocol ?? protocolOfPath(request.url, request.headers);
}
